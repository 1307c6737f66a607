"""Namespaces: those Istio never touches, and those the Istio configuration of the input targets.

`SYSTEM_NAMESPACES` mirrors istio/istio `pkg/config/analysis/analyzers/util` `SystemNamespaces`
(kube-system, kube-public, kube-node-lease, local-path-storage) and `pkg/kube/inject`
`IgnoredNamespaces`: no sidecar is injected there and `istioctl analyze` reports nothing there.

`meshed_by_configuration` is the inference SPEC §2 allows for a namespace whose Namespace object
is not in the input: Istio configuration that targets it (a VirtualService, DestinationRule,
PeerAuthentication, Sidecar or AuthorizationPolicy in it, or one that routes to its Services)
is written for workloads with sidecars there, so the namespace is assumed meshed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ..resource import Resource
from .hosts import expand_host
from .routes import ROUTE_KINDS

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})

# the Istio kinds whose presence says that a namespace (theirs, or their hosts') has sidecars
MESH_CONFIG_KINDS = ("VirtualService", "DestinationRule", "PeerAuthentication", "Sidecar", "AuthorizationPolicy")


def is_system_namespace(namespace: str) -> bool:
    return namespace in SYSTEM_NAMESPACES


def meshed_by_configuration(by_kind: Mapping[str, Sequence[Resource]], root_namespace: str,
                            domain: str) -> dict[str, str]:
    """Namespace -> the first Istio object of the input that targets it ("DestinationRule
    default/reviews"). Objects in the root namespace configure the whole mesh, so they mark
    only the namespaces of the hosts they route to, not the root namespace itself."""
    out: dict[str, str] = {}
    namespace_of: dict[tuple[str, str], str] = {}  # (host as written, writer's namespace): hosts repeat
    for kind in MESH_CONFIG_KINDS:
        for r in by_kind.get(kind, ()):
            own = r.namespace
            if own != root_namespace and own not in out:
                out[own] = f"{r.kind_name or r.kind} {own}/{r.name}"
            for host in _hosts(r):
                key = (host, own)
                namespace = namespace_of.get(key)
                if namespace is None:
                    namespace = namespace_of[key] = namespace_of_host(expand_host(host, own, domain), domain)
                if namespace and namespace not in out:
                    out[namespace] = f"{r.kind_name or r.kind} {own}/{r.name}"
    return out


def _hosts(r: Resource) -> Iterator[str]:
    """The service hosts a VirtualService or DestinationRule configures or routes to (mirrors
    included), read straight from the spec: this runs over every route of the input."""
    spec = r.spec
    if r.kind == "DestinationRule":
        host = spec.get("host")
        if isinstance(host, str):
            yield host
        return
    if r.kind != "VirtualService":
        return
    yield from (h for h in spec.get("hosts") or () if isinstance(h, str))
    for route_kind in ROUTE_KINDS:
        for route in spec.get(route_kind) or ():
            if not isinstance(route, dict):
                continue
            for entry in route.get("route") or ():
                destination = entry.get("destination") if isinstance(entry, dict) else None
                if isinstance(destination, dict) and isinstance(destination.get("host"), str):
                    yield destination["host"]
            mirrors = [route.get("mirror")] + [m.get("destination") for m in route.get("mirrors") or ()
                                               if isinstance(m, dict)]
            yield from (m["host"] for m in mirrors if isinstance(m, dict) and isinstance(m.get("host"), str))


def namespace_of_host(host: str, domain: str) -> str:
    """The namespace of a cluster Service host (`name.ns.svc[.<domain>]`, wildcards allowed in
    the name); "" for any other host."""
    for suffix in (f".svc.{domain}", ".svc"):
        if host.endswith(suffix):
            labels = host[: -len(suffix)].split(".")
            return labels[1] if len(labels) == 2 and labels[1] != "*" else ""
    return ""

