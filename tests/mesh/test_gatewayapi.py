"""mesh.gatewayapi against istio/istio pilot/pkg/config/kube/gateway/conversion.go
(referenceAllowed, namespacesFromSelector, toNamespaceSet, generateSupportedKinds, the rank of
createRouteStatus), references_collection.go (BackendAllowed) and the Gateway API spec
(sigs.k8s.io/gateway-api apis/v1/httproute_types.go: the hostname intersection examples of
HTTPRouteSpec.Hostnames)."""

import pytest

from meshlint.mesh.gatewayapi import (
    NO_HOSTNAME,
    NO_MATCHING_PARENT,
    NOT_ALLOWED,
    accepted_kinds,
    attachment,
    kind_accepted,
    namespace_admitted,
    reference_granted,
    route_hostnames,
)


def listener(name="http", port=80, protocol="HTTP", hostname=None, **extra):
    out = {"name": name, "port": port, "protocol": protocol, **extra}
    if hostname:
        out["hostname"] = hostname
    return out


ALL = {"namespaces": {"from": "All"}}


@pytest.mark.parametrize("listener_hostname,route,attached", [
    # HTTPRouteSpec.Hostnames: "A Listener with test.example.com as the hostname matches
    # HTTPRoutes that have either not specified any hostnames, or have specified at least one
    # of test.example.com or *.example.com."
    ("test.example.com", [], True),
    ("test.example.com", ["test.example.com"], True),
    ("test.example.com", ["*.example.com"], True),
    ("test.example.com", ["example.com", "test.example.net"], False),
    # "A Listener with *.example.com as the hostname matches HTTPRoutes that have either not
    # specified any hostnames or have specified at least one hostname that matches the Listener
    # hostname. For example, test.example.com and *.example.com would both match. On the other
    # hand, example.com and test.example.net would not match."
    ("*.example.com", [], True),
    ("*.example.com", ["test.example.com"], True),
    ("*.example.com", ["*.example.com"], True),
    ("*.example.com", ["foo.test.example.com"], True),  # a wildcard covers one or more labels
    ("*.example.com", ["example.com"], False),
    ("*.example.com", ["test.example.net"], False),
    ("*.example.com", ["example.com", "shop.example.com"], True),  # one match is enough
    # no hostname on the listener: every name
    (None, ["anything.example.org"], True),
])
def test_hostname_intersection(listener_hostname, route, attached):
    result = attachment([listener(hostname=listener_hostname, allowedRoutes=ALL)], "infra", "HTTPRoute", "shop",
                        route_hostnames("HTTPRoute", {"hostnames": route}), None, None, None)
    assert result.attached is attached
    if not attached:
        assert result.reason == NO_HOSTNAME


def test_tcp_routes_have_no_hostnames():
    assert route_hostnames("TCPRoute", {"hostnames": ["db.example.com"]}) == ["*"]
    assert route_hostnames("TLSRoute", {"hostnames": ["db.example.com"]}) == ["db.example.com"]


@pytest.mark.parametrize("allowed,namespace,labels,expected", [
    (None, "infra", None, True),  # namespacesFromSelector: the default is Same
    (None, "shop", None, False),
    ({"namespaces": {}}, "shop", None, False),
    ({"namespaces": {"from": "Same"}}, "shop", {"team": "a"}, False),
    ({"namespaces": {"from": "All"}}, "shop", None, True),
    ({"namespaces": {"from": "Selector", "selector": {"matchLabels": {"team": "a"}}}}, "shop", {"team": "a"}, True),
    ({"namespaces": {"from": "Selector", "selector": {"matchLabels": {"team": "a"}}}}, "shop", {"team": "b"}, False),
    # the labels of a Namespace that is not in the input are unknown...
    ({"namespaces": {"from": "Selector", "selector": {"matchLabels": {"team": "a"}}}}, "shop", None, None),
    # ...except the name label every Namespace carries (toNamespaceSet)
    ({"namespaces": {"from": "Selector", "selector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}},
     "shop", None, True),
    ({"namespaces": {"from": "Selector", "selector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["shop"]}]}}}, "shop", None, False),
    ({"namespaces": {"from": "Selector", "selector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}},
     "shop", {"team": "a"}, True),
    # an empty selector selects every namespace (LabelSelectorAsSelector); none at all is
    # invalid, and Istio treats it as All
    ({"namespaces": {"from": "Selector", "selector": {}}}, "shop", None, True),
    ({"namespaces": {"from": "Selector"}}, "shop", None, True),
])
def test_namespace_admitted(allowed, namespace, labels, expected):
    li = listener(allowedRoutes=allowed) if allowed is not None else listener()
    assert namespace_admitted(li, "infra", namespace, labels) is expected


@pytest.mark.parametrize("protocol,tls_mode,kinds,kind,expected", [
    ("HTTP", None, None, "HTTPRoute", True),
    ("HTTP", None, None, "GRPCRoute", True),
    ("HTTPS", None, None, "TCPRoute", False),
    ("TCP", None, None, "TCPRoute", True),
    ("TCP", None, None, "HTTPRoute", False),
    ("TLS", "Passthrough", None, "TLSRoute", True),
    ("TLS", "Passthrough", None, "TCPRoute", False),
    ("TLS", "Passthrough", None, "HTTPRoute", False),
    ("TLS", None, None, "TCPRoute", True),  # Terminate is the default mode
    ("TLS", None, None, "TLSRoute", None),  # only recent Istio releases take it
    ("TLS", "Terminate", None, "GRPCRoute", False),
    ("UDP", None, None, "TCPRoute", None),  # Istio routes no UDP
    ("HTTP", None, [{"kind": "GRPCRoute"}], "HTTPRoute", False),
    ("HTTP", None, [{"kind": "HTTPRoute", "group": "gateway.networking.k8s.io"}], "HTTPRoute", True),
    ("HTTP", None, [{"kind": "HTTPRoute", "group": "example.com"}], "HTTPRoute", False),
    ("TLS", None, [{"kind": "TCPRoute"}], "TLSRoute", False),
])
def test_kind_accepted(protocol, tls_mode, kinds, kind, expected):
    li = listener(protocol=protocol)
    if tls_mode:
        li["tls"] = {"mode": tls_mode}
    if kinds:
        li["allowedRoutes"] = {"kinds": kinds}
    assert kind_accepted(li, kind) is expected


def test_accepted_kinds_for_messages():
    assert accepted_kinds(listener()) == ["HTTPRoute", "GRPCRoute"]
    assert accepted_kinds(listener(allowedRoutes={"kinds": [{"kind": "GRPCRoute"}]})) == ["GRPCRoute"]
    assert accepted_kinds(listener(protocol="UDP")) == []


GATEWAY = [
    listener("web", 80, "HTTP", "www.example.com", allowedRoutes=ALL),
    listener("api", 443, "HTTPS", "api.example.com"),  # from: Same
    listener("db", 5432, "TCP", allowedRoutes=ALL),
]


@pytest.mark.parametrize("kind,namespace,hostnames,section,port,expected", [
    ("HTTPRoute", "shop", ["www.example.com"], None, None, (True, "")),
    ("HTTPRoute", "shop", ["www.example.com"], "web", 80, (True, "")),
    # referenceAllowed checks port and sectionName first: NoMatchingParent
    ("HTTPRoute", "shop", ["www.example.com"], "wbe", None, (False, NO_MATCHING_PARENT)),
    ("HTTPRoute", "shop", ["www.example.com"], "web", 443, (False, NO_MATCHING_PARENT)),
    # a hostname of the right listener from a namespace it does not admit: NotAllowedByListeners,
    # which outranks the other listeners' NoMatchingListenerHostname
    ("HTTPRoute", "shop", ["api.example.com"], None, None, (False, NOT_ALLOWED)),
    ("HTTPRoute", "infra", ["api.example.com"], None, None, (True, "")),
    # the TCP listener has no hostname: the HTTPRoute's hostname matches it, its kind does not
    ("HTTPRoute", "shop", ["shop.example.org"], None, None, (False, NOT_ALLOWED)),
    ("HTTPRoute", "shop", ["shop.example.org"], "web", None, (False, NO_HOSTNAME)),
    ("TCPRoute", "shop", [], "db", None, (True, "")),
    ("TCPRoute", "shop", [], None, 5432, (True, "")),
    ("TCPRoute", "shop", [], "web", None, (False, NOT_ALLOWED)),
])
def test_attachment_collapses_listeners_as_the_route_status_does(kind, namespace, hostnames, section, port, expected):
    result = attachment(GATEWAY, "infra", kind, namespace, route_hostnames(kind, {"hostnames": hostnames}),
                        section, port, None)
    assert (result.attached, result.reason) == expected


def test_an_undecidable_listener_makes_the_parent_unknown():
    selector = {"namespaces": {"from": "Selector", "selector": {"matchLabels": {"team": "a"}}}}
    listeners = [listener("web", hostname="www.example.com", allowedRoutes=selector),
                 listener("other", hostname="other.example.com", allowedRoutes=ALL)]
    assert attachment(listeners, "infra", "HTTPRoute", "shop", ["www.example.com"], None, None, None).attached is None
    # a hostname that matches nothing is decided whatever the namespace's labels
    result = attachment(listeners, "infra", "HTTPRoute", "shop", ["x.example.org"], None, None, None)
    assert (result.attached, result.reason) == (False, NO_HOSTNAME)


def test_a_gateway_without_listeners_is_not_judged():
    # the Gateway API requires at least one listener: such a Gateway is not a valid object
    assert attachment([], "infra", "HTTPRoute", "shop", ["*"], None, None, None).attached is None


GRANTS = [
    {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "web"}],
     "to": [{"group": "", "kind": "Service", "name": "catalog"}]},
    {"from": [{"group": "gateway.networking.k8s.io", "kind": "GRPCRoute", "namespace": "web"}],
     "to": [{"group": "", "kind": "Service"}]},
    {"from": [{"group": "", "kind": "HTTPRoute", "namespace": "mobile"}], "to": [{"group": "", "kind": "Service"}]},
    {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "edge"}],
     "to": [{"group": "core", "kind": "Service"}, {"group": "", "kind": "Service", "name": ""}]},
]


@pytest.mark.parametrize("kind,namespace,name,expected", [
    ("HTTPRoute", "web", "catalog", True),
    ("HTTPRoute", "web", "cart", False),  # the grant names another Service
    ("GRPCRoute", "web", "cart", True),  # no name: every Service
    ("TCPRoute", "web", "catalog", False),  # another route kind
    ("HTTPRoute", "mobile", "catalog", False),  # `from` must name the Gateway API group
    ("HTTPRoute", "edge", "catalog", False),  # "core" is not the core group; name "" allows ""
])
def test_reference_granted(kind, namespace, name, expected):
    assert reference_granted(GRANTS, kind, namespace, name) is expected
