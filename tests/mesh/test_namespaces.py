"""mesh.namespaces: the namespaces Istio never touches, and the inference SPEC §2 allows for a
namespace whose Namespace object is not in the input (Istio configuration that targets it is
written for workloads with sidecars there)."""

from __future__ import annotations

from collections import defaultdict

from meshlint.mesh.namespaces import is_system_namespace, meshed_by_configuration, namespace_of_host
from meshlint.resource import Document, FileOrigin, Ref, Resource, Source

DOMAIN = "cluster.local"


def resource(kind: str, name: str, ns: str, spec: dict) -> Resource:
    meta = {"name": name, "namespace": ns}
    raw = {"apiVersion": "networking.istio.io/v1", "kind": kind, "metadata": meta, "spec": spec}
    return Resource(raw=raw, ref=Ref(kind, ns, name), api_version=raw["apiVersion"],
                    origin=FileOrigin(Document(Source("t.yaml", ""), 0, 0, 1, 0)), kind_name=kind, _meta=meta)


def meshed(*resources: Resource, root: str = "istio-system") -> dict[str, str]:
    by_kind: dict[str, list[Resource]] = defaultdict(list)
    for r in resources:
        by_kind[r.kind].append(r)
    return meshed_by_configuration(by_kind, root, DOMAIN)


def test_istio_never_touches_the_kubernetes_system_namespaces():
    assert is_system_namespace("kube-system") and not is_system_namespace("istio-system")


def test_configuration_in_a_namespace_marks_it():
    assert meshed(resource("AuthorizationPolicy", "deny-all", "payments", {})) == {
        "payments": "AuthorizationPolicy payments/deny-all"}
    assert meshed(resource("Sidecar", "default", "shop", {})) == {"shop": "Sidecar shop/default"}


def test_routes_mark_the_namespaces_of_their_hosts_and_destinations():
    vs = resource("VirtualService", "reviews", "frontend", {
        "hosts": ["reviews.books.svc.cluster.local", "shop.example.com"],
        "http": [{"route": [{"destination": {"host": "ratings.scores.svc.cluster.local"}},
                            {"destination": {"host": "details"}}]}]})
    assert meshed(vs) == dict.fromkeys(("frontend", "books", "scores"), "VirtualService frontend/reviews")


def test_root_namespace_objects_configure_the_mesh_not_their_namespace():
    mesh_wide = resource("PeerAuthentication", "default", "istio-system", {"mtls": {"mode": "STRICT"}})
    rule = resource("DestinationRule", "reviews", "istio-system", {"host": "reviews.default.svc.cluster.local"})
    assert meshed(mesh_wide, rule) == {"default": "DestinationRule istio-system/reviews"}


def test_the_first_object_that_targets_a_namespace_is_named():
    first = resource("VirtualService", "a", "shop", {"hosts": ["a"]})
    second = resource("DestinationRule", "a", "shop", {"host": "a"})
    assert meshed(second, first)["shop"] == "VirtualService shop/a"  # kinds in MESH_CONFIG_KINDS order


def test_namespace_of_host_knows_only_cluster_service_names():
    assert namespace_of_host("cart.shop.svc.cluster.local", DOMAIN) == "shop"
    assert namespace_of_host("*.shop.svc.cluster.local", DOMAIN) == "shop"
    assert namespace_of_host("cart.shop.svc", DOMAIN) == "shop"
    assert namespace_of_host("*.svc.cluster.local", DOMAIN) == ""
    assert namespace_of_host("api.example.com", DOMAIN) == ""
    assert namespace_of_host("cart.shop.svc.corp.internal", "corp.internal") == "shop"
