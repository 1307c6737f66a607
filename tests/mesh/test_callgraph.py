"""mesh.callgraph `candidate_fqdns` and `mentions`: which Service a host string names.

Kubernetes DNS for Services (kubernetes/dns `docs/specification.md`: `<service>.<ns>.svc.<zone>`)
and a pod's resolv.conf search path (`<ns>.svc.<zone> svc.<zone> <zone>`): `cart` is `cart` in the
caller's namespace, `cart.shop` and `cart.shop.svc` are `cart` in `shop`. Service names are
DNS-1035 labels (kubernetes `pkg/apis/core/validation` `ValidateServiceName =
NameIsDNS1035Label`). This is how Istio expands short hosts too
(`pilot/pkg/model/config.go` `ResolveShortnameToFQDN`).
"""

from __future__ import annotations

import pytest

from meshlint.mesh.mentions import candidate_fqdns, mentions
from meshlint.mesh.workloads import pod_template
from meshlint.resource import Document, FileOrigin, Ref, Resource, Source

CART = "cart.shop.svc.cluster.local"


@pytest.mark.parametrize("token,expected", [
    ("cart", [CART]),
    ("cart:7070", [CART]),
    ("cart.shop", [CART]),
    ("cart.shop:7070", [CART]),
    ("cart.shop.svc", [CART]),
    ("cart.shop.svc:7070", [CART]),
    ("cart.shop.svc.cluster.local", [CART]),
    ("cart.shop.svc.cluster.local:8080", [CART]),
    ("http://cart.shop:8080/path", [CART]),
    ("https://cart.shop.svc.cluster.local/api/v1?x=1", [CART]),
    ("grpc://cart:9090", [CART]),
    ("dns:///cart.shop:443", [CART]),
    ("user:pw@cart", [CART]),
    ("http://user:pw@cart.shop:80/x", [CART]),
    ("redis://:secret@cart:6379/0", [CART]),
    ("CART", [CART]),
    ("Cart.Shop.SVC.Cluster.Local", [CART]),
    ("cart.shop.svc.cluster.local.", [CART]),  # a trailing dot: an absolute name
    ("cart.", [CART]),
    ('"cart.shop:7070"', [CART]),
    ("'cart'", [CART]),
    ("cart-v2", ["cart-v2.shop.svc.cluster.local"]),
    ("db.data", ["db.data.svc.cluster.local"]),
    ("grpc://db.data.svc:5432", ["db.data.svc.cluster.local"]),
])
def test_candidate_fqdns(token, expected):
    assert candidate_fqdns(token, "shop") == expected


@pytest.mark.parametrize("token", [
    "",
    "/tmp/x",
    "/",
    "a:b:c",  # two colons: not host:port
    "cart:http",  # a named port is not a port number
    "cart:",
    "www.example.com",  # three labels, not <name>.<ns>.svc
    "api.stripe.com:443",
    "https://api.github.com/repos",
    "cart.shop.svc.cluster",  # a cut-off FQDN
    "cart.shop.svc.cluster.local.extra",
    "cart.shop.pod.cluster.local",
    "10.0.0.1",
    "10.0.0.1:8080",
    "[::1]:80",
    "-cart",
    "--backend",
    "cart_db",
    "cart..shop",
    "café",
])
def test_not_a_service_host(token):
    assert candidate_fqdns(token, "shop") == []


def test_two_labels_read_as_name_dot_namespace():
    """`example.com` could be Service `example` in namespace `com` (the resolv.conf search path
    tries `example.com.svc.cluster.local`): it is a *candidate*; the graph keeps it only when such
    a Service is in the input."""
    assert candidate_fqdns("example.com", "shop") == ["example.com.svc.cluster.local"]


# A Service name is a DNS-1035 label (kubernetes ValidateServiceName = NameIsDNS1035Label): it starts
# with a letter, so `8080` or `9cart` cannot name a Service.
@pytest.mark.parametrize("token", ["8080", "9cart"])
def test_names_starting_with_a_digit_are_not_services(token):
    assert candidate_fqdns(token, "shop") == []


def test_custom_cluster_domain():
    assert candidate_fqdns("cart", "shop", "corp.internal") == ["cart.shop.svc.corp.internal"]
    assert candidate_fqdns("cart.shop.svc.corp.internal:80", "shop", "corp.internal") == \
        ["cart.shop.svc.corp.internal"]
    assert candidate_fqdns("cart.shop.svc.cluster.local", "shop", "corp.internal") == []


def test_the_callers_namespace_is_used_for_bare_names_only():
    assert candidate_fqdns("cart", "billing") == ["cart.billing.svc.cluster.local"]
    assert candidate_fqdns("cart.shop", "billing") == [CART]


# --- mentions: env values, command and args, with the path of each ----------------------------

def workload(kind: str, body: dict, ns: str = "shop"):
    meta = {"name": "frontend", "namespace": ns}
    raw = {"apiVersion": "v1", "kind": kind, "metadata": meta, **body}
    r = Resource(raw=raw, ref=Ref(kind, ns, "frontend"), api_version="v1",
                 origin=FileOrigin(Document(Source("t.yaml", ""), 0, 0, 1, 0)), kind_name=kind, _meta=meta)
    w = pod_template(r)
    assert w is not None
    return w


POD_SPEC = {
    "containers": [
        {"name": "app",
         "env": [
             {"name": "CART_ADDR", "value": "cart:7070"},
             {"name": "PEERS", "value": "a:80,b:80"},
             {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
             {"name": "CHECKOUT_URL", "value": "http://checkout.pay:8080/v1"},
             {"name": "EXTERNAL", "value": "https://api.stripe.com:443"},
             {"name": "NUMBER", "value": 7070},
         ],
         "command": ["/app", "--backend=cart:7070"],
         "args": ["--peers", "a:80;b.other:80", "--verbose"]},
        {"name": "sidecar", "args": ["--upstream=dns:///db.data:5432"]},
    ],
    "initContainers": [
        {"name": "wait", "command": ["/bin/wait-for", "cart.shop.svc.cluster.local:7070"]},
    ],
}


def found(w) -> list[tuple]:
    return [(m.fqdn, m.path, m.text) for m in mentions(w)]


def expected_mentions(spec: tuple) -> list[tuple]:
    c0, c1, i0 = spec + ("containers", 0), spec + ("containers", 1), spec + ("initContainers", 0)
    return [
        (CART, c0 + ("env", 0, "value"), "cart:7070"),
        ("a.shop.svc.cluster.local", c0 + ("env", 1, "value"), "a:80"),
        ("b.shop.svc.cluster.local", c0 + ("env", 1, "value"), "b:80"),
        ("checkout.pay.svc.cluster.local", c0 + ("env", 3, "value"), "http://checkout.pay:8080/v1"),
        (CART, c0 + ("command", 1), "cart:7070"),
        ("a.shop.svc.cluster.local", c0 + ("args", 1), "a:80"),
        ("b.other.svc.cluster.local", c0 + ("args", 1), "b.other:80"),
        ("db.data.svc.cluster.local", c1 + ("args", 0), "dns:///db.data:5432"),
        (CART, i0 + ("command", 1), "cart.shop.svc.cluster.local:7070"),
    ]


def test_mentions_in_a_deployment():
    w = workload("Deployment", {"spec": {"template": {"metadata": {"labels": {"app": "frontend"}},
                                                      "spec": POD_SPEC}}})
    got = found(w)
    want = expected_mentions(("spec", "template", "spec"))
    assert sorted(got) == sorted(want)
    # containers before initContainers; within a container env, then command, then args
    paths = [p for _, p, _ in got]
    assert paths.index(("spec", "template", "spec", "containers", 0, "env", 0, "value")) == 0
    assert paths[-1] == ("spec", "template", "spec", "initContainers", 0, "command", 1)
    assert paths.index(("spec", "template", "spec", "containers", 0, "command", 1)) < \
        paths.index(("spec", "template", "spec", "containers", 0, "args", 1))


def test_mentions_in_a_pod_and_a_cronjob():
    pod = workload("Pod", {"spec": POD_SPEC})
    assert sorted(found(pod)) == sorted(expected_mentions(("spec",)))
    cron = workload("CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": POD_SPEC}}}}})
    assert sorted(found(cron)) == sorted(expected_mentions(("spec", "jobTemplate", "spec", "template", "spec")))


def test_mentions_use_the_workloads_namespace_for_bare_names():
    w = workload("Pod", {"spec": {"containers": [{"name": "c", "env": [{"name": "X", "value": "cart"}]}]}},
                 ns="billing")
    assert found(w) == [("cart.billing.svc.cluster.local", ("spec", "containers", 0, "env", 0, "value"), "cart")]


@pytest.mark.parametrize("value,hosts", [
    ("--backend=cart:7070", [CART]),
    ("a:80,b:80", ["a.shop.svc.cluster.local", "b.shop.svc.cluster.local"]),
    ("a:80, b:80 ;c.x:1", ["a.shop.svc.cluster.local", "b.shop.svc.cluster.local", "c.x.svc.cluster.local"]),
    ("https://api.stripe.com", []),
    ("/etc/config.yaml", []),
    ("", []),
])
def test_mentions_split_values(value, hosts):
    w = workload("Pod", {"spec": {"containers": [{"name": "c", "args": [value]}]}})
    assert [m.fqdn for m in mentions(w)] == hosts
    assert all(m.path == ("spec", "containers", 0, "args", 0) for m in mentions(w))


def test_mentions_ignore_non_strings_and_malformed_entries():
    spec = {"containers": [{"name": "c", "env": [None, "X=cart", {"name": "N", "value": 1}],
                            "command": [7070, None], "args": None},
                           "not-a-container"]}
    assert found(workload("Pod", {"spec": spec})) == []


def test_mentions_with_a_custom_domain():
    w = workload("Pod", {"spec": {"containers": [{"name": "c", "args": ["cart", "cart.shop.svc.corp.internal"]}]}})
    assert [m.fqdn for m in mentions(w, "corp.internal")] == ["cart.shop.svc.corp.internal"] * 2
