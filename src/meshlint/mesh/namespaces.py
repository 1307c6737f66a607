"""Namespaces Istio never touches.

Mirrors istio/istio `pkg/config/analysis/analyzers/util` `SystemNamespaces` (kube-system,
kube-public, kube-node-lease, local-path-storage) and `pkg/kube/inject` `IgnoredNamespaces`:
no sidecar is injected there and `istioctl analyze` reports nothing there.
"""

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})


def is_system_namespace(namespace: str) -> bool:
    return namespace in SYSTEM_NAMESPACES
