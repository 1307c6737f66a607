"""mesh.hosts against istio/istio pilot/pkg/model/config.go (resolveGatewayName,
ResolveShortnameToFQDN) and pkg/config/host/name.go (Name.Matches, with the cases of
pkg/config/host/name_test.go)."""

import pytest

from meshlint.index import HostTable
from meshlint.mesh.hosts import (
    ServerHosts,
    expand_host,
    is_cluster_local,
    matches,
    resolve_gateway,
    split_server_host,
)


@pytest.mark.parametrize("ref,ns,expected", [
    ("gw", "shop", ("shop", "gw")),
    ("edge/gw", "shop", ("edge", "gw")),
    ("./gw", "shop", ("shop", "gw")),
    ("gw.edge.svc.cluster.local", "shop", ("edge", "gw")),
    ("gw.edge", "shop", ("edge", "gw")),
])
def test_resolve_gateway(ref, ns, expected):
    assert resolve_gateway(ref, ns) == expected


@pytest.mark.parametrize("host,expected", [
    ("reviews", "reviews.shop.svc.cluster.local"),
    ("reviews.shop", "reviews.shop"),  # has a dot: taken as written, as Istio does
    ("reviews.shop.svc.cluster.local", "reviews.shop.svc.cluster.local"),
    ("*", "*"),
    ("*.example.com", "*.example.com"),
    ("10.0.0.1", "10.0.0.1"),
    ("::1", "::1"),
])
def test_expand_host(host, expected):
    assert expand_host(host, "shop") == expected


@pytest.mark.parametrize("a,b,expected", [
    ("foo.com", "foo.com", True),
    ("foo.com", "bar.com", False),
    ("*", "foo.com", True),
    ("*", "*.foo.com", True),
    ("*.com", "foo.com", True),
    ("*.foo.com", "foo.com", False),
    ("*.foo.com", "bar.foo.com", True),
    ("*.foo.com", "a.bar.foo.com", True),
    ("*.foo.com", "*.bar.foo.com", True),
    ("*.bar.foo.com", "*.foo.com", True),
    ("*.foo.com", "*.bar.com", False),
    ("*foo.com", "barfoo.com", True),  # a leading * matches any prefix
    ("foo.*", "foo.com", False),  # only a leading * is a wildcard
])
def test_matches_is_symmetric_overlap(a, b, expected):
    assert matches(a, b) is expected
    assert matches(b, a) is expected


def test_server_hosts_and_namespaces():
    assert split_server_host("shop.example.com", "edge") == ("*", "shop.example.com")
    assert split_server_host("*/shop.example.com", "edge") == ("*", "shop.example.com")
    assert split_server_host("./shop.example.com", "edge") == ("edge", "shop.example.com")
    assert split_server_host("shop/*", "edge") == ("shop", "*")
    hosts = ServerHosts(["a.com", "shop/b.com", "./c.com", "*/d.com", "shop/*.e.com", "other/b.com"], "edge")
    assert hosts.names == ["*.e.com", "a.com", "b.com", "c.com", "d.com"]
    assert [hosts.admitting(h) for h in ("a.com", "b.com", "c.com", "d.com")] == [{"*"}, {"shop", "other"}, {"edge"},
                                                                                 {"*"}]
    assert hosts.admitting("x.e.com") == {"shop"} and hosts.admitting("*.com") == {"*", "shop", "other", "edge"}
    assert hosts.admitting("f.com") == set()


@pytest.mark.parametrize("host,expected", [
    ("reviews", True), ("reviews.shop.svc", True), ("reviews.shop.svc.cluster.local", True),
    ("shop.example.com", False), ("*", False), ("*.svc.cluster.local", True),
])
def test_is_cluster_local(host, expected):
    assert is_cluster_local(host) is expected


def test_host_table_agrees_with_matches():
    keys = ["a.com", "*.a.com", "*", "*.b.a.com", "*oo.com", "x.b.a.com", "foo.com"]
    table = HostTable()
    for k in keys:
        table.add(k, k)
    for query in ["a.com", "b.a.com", "x.b.a.com", "foo.com", "zoo.com", "c.d", "*.a.com", "*.com"]:
        assert sorted(table.matching(query)) == sorted(k for k in keys if matches(k, query)), query
