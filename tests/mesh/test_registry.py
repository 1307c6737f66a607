"""mesh.registry against istio/istio pkg/config/analysis/analyzers/util/service_lookup.go
(InitServiceEntryHostMap, GetDestinationHost: exportTo of Services and ServiceEntries, wildcard
ServiceEntry hosts) and pilot/pkg/model/config.go (ResolveShortnameToFQDN)."""

from __future__ import annotations

import pytest

from meshlint.mesh.registry import (
    FOUND,
    HIDDEN,
    KNOWN,
    MISSING,
    NOT_IN_INPUT,
    SHORTHAND,
    Registry,
    is_service_shorthand,
    resolve,
)
from meshlint.resource import Document, FileOrigin, Ref, Resource, Source


def resource(kind: str, ns: str, name: str, spec: dict, annotations: dict | None = None) -> Resource:
    meta = {"name": name, "namespace": ns, "annotations": annotations or {}}
    raw = {"kind": kind, "metadata": meta, "spec": spec}
    return Resource(raw=raw, ref=Ref(kind, ns, name), api_version="v1",
                    origin=FileOrigin(Document(Source("t.yaml", ""), 0, 0, 1, 0)), kind_name=kind, _meta=meta)


SERVICES = [
    resource("Service", "default", "reviews", {"ports": [{"port": 9080}]}),
    resource("Service", "default", "details", {"ports": [{"port": 9080}]},
             {"networking.istio.io/exportTo": "banana"}),
    resource("Service", "hello", "hello", {"ports": [{"port": 80}, {"port": 443}]},
             {"networking.istio.io/exportTo": "hello1,."}),
]
ENTRIES = [
    resource("ServiceEntry", "default", "eu", {"hosts": ["*.eu.example.com"], "ports": [{"number": 443}]}),
    resource("ServiceEntry", "other", "local", {"hosts": ["other.example.com"], "exportTo": ["."]}),
    resource("ServiceEntry", "other", "exported", {"hosts": ["abc.example.com"], "exportTo": ["default"]}),
    resource("ServiceEntry", "hidden", "everything", {"hosts": ["*"], "exportTo": ["."]}),
    resource("ServiceEntry", "none", "nobody", {"hosts": ["nobody.example.com"], "exportTo": ["~"]}),
]
REGISTRY = Registry.build(SERVICES, ENTRIES, "cluster.local")


@pytest.mark.parametrize("host,ns,export_to,found", [
    ("reviews", "default", (), "reviews.default.svc.cluster.local"),  # short name: the asking namespace
    ("reviews", "shop", (), None),  # ... so not the Service in default
    ("reviews.default.svc.cluster.local", "shop", (), "reviews.default.svc.cluster.local"),
    ("reviews.default", "default", (), None),  # name.namespace is not expanded
    ("details.default.svc.cluster.local", "banana", (), "details.default.svc.cluster.local"),
    ("details.default.svc.cluster.local", "istio-system", (), None),  # exported to banana only
    ("hello.hello.svc.cluster.local", "hello1", (), "hello.hello.svc.cluster.local"),
    ("hello.hello.svc.cluster.local", "hello", (), "hello.hello.svc.cluster.local"),  # "." = its own
    ("hello.hello.svc.cluster.local", "hello", ("bogus",), None),  # asked from the exportTo namespaces
    ("api.eu.example.com", "shop", (), "*.eu.example.com"),  # a wildcard ServiceEntry host
    ("*.eu.example.com", "shop", (), "*.eu.example.com"),
    ("eu.example.com", "shop", (), None),  # *.a.com does not match a.com
    ("other.example.com", "default", (), None),  # exported to its own namespace only
    ("other.example.com", "other", (), "other.example.com"),
    ("abc.example.com", "default", (), "abc.example.com"),
    ("anything.example.org", "hidden", (), "*"),  # "*" seen from its own namespace only
    ("anything.example.org", "default", (), None),
    ("nobody.example.com", "none", (), None),  # exportTo ~: hidden from every namespace
])
def test_lookup_follows_get_destination_host(host, ns, export_to, found):
    entry = REGISTRY.lookup(host, ns, export_to)
    assert (entry.host if entry else None) == found


@pytest.mark.parametrize("host,ns,state", [
    ("reviews", "default", FOUND),
    ("details.default.svc.cluster.local", "istio-system", HIDDEN),  # exists, not exported there
    ("reviews.default", "shop", SHORTHAND),
    ("reviews.default.svc", "shop", SHORTHAND),
    ("ratings", "default", MISSING),  # the input holds default's Services
    ("ratings", "billing", NOT_IN_INPUT),  # ... not billing's
    ("api.partner.example", "default", NOT_IN_INPUT),
    ("ledger.finance.svc.cluster.local", "default", KNOWN),  # known-hosts
])
def test_resolve_says_what_the_input_demonstrates(host, ns, state):
    found = resolve(REGISTRY, host, ns, (), is_known=lambda h: h.endswith(".finance.svc.cluster.local"),
                    holds_services_of={"default", "hello"}.__contains__)
    assert found.state == state
    assert found.names_nothing == (state in (HIDDEN, SHORTHAND, MISSING))


@pytest.mark.parametrize("host,expected", [
    ("reviews.default", True), ("reviews.default.svc", True), ("reviews", False),
    ("reviews.default.svc.cluster.local", False), ("api.example.com", False), ("*.shop", False),
])
def test_service_shorthand(host, expected):
    assert is_service_shorthand(host) == expected
