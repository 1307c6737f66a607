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
from .routes import destinations

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
    for kind in MESH_CONFIG_KINDS:
        for r in by_kind.get(kind, ()):
            named = f"{r.kind_name or r.kind} {r.namespace}/{r.name}"
            if r.namespace != root_namespace:
                out.setdefault(r.namespace, named)
            for host in _hosts(r):
                namespace = namespace_of_host(expand_host(host, r.namespace, domain), domain)
                if namespace:
                    out.setdefault(namespace, named)
    return out


def _hosts(r: Resource) -> Iterator[str]:
    """The service hosts a VirtualService or DestinationRule configures or routes to."""
    if r.kind == "VirtualService":
        yield from (h for h in r.spec.get("hosts") or () if isinstance(h, str))
        yield from (d.host for d in destinations(r))
    elif r.kind == "DestinationRule" and isinstance(r.spec.get("host"), str):
        yield r.spec["host"]


def namespace_of_host(host: str, domain: str) -> str:
    """The namespace of a cluster Service host (`name.ns.svc[.<domain>]`, wildcards allowed in
    the name); "" for any other host."""
    for suffix in (f".svc.{domain}", ".svc"):
        if host.endswith(suffix):
            labels = host[: -len(suffix)].split(".")
            return labels[1] if len(labels) == 2 and labels[1] != "*" else ""
    return ""

