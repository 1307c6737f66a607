"""Istio Gateways and the gateway workloads they configure: selectors, ports, certificates.

Mirrors istio/istio:
- `pkg/config/analysis/analyzers/gateway/conflictinggateway.go` and `pilot/pkg/model/gateway.go`
  (`MergeGateways`, `CheckDuplicates`): two Gateways on the same workloads and port that
  list the same host (and `bind`) conflict. At run time a TLS server whose host another TLS
  server of that port already has is dropped, and of two plaintext servers on one port only
  HTTP ones are merged: any other pair keeps the first server and drops the second;
- `pkg/config/analysis/analyzers/gateway/certificate.go` (`haveSameCertificate`,
  `selectorSubset`): servers of two Gateways present the same certificate;
- `pkg/config/analysis/analyzers/gateway/gateway.go` (IngressGatewayPortAnalyzer) and the
  stock ingress gateway `istioctl analyze` assumes in file mode
  (`pkg/config/analysis/local/defaults.go`): the Service ports a Gateway's servers need.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .workloads import Workload

# The selectors of the gateways every Istio installation profile deploys. `istioctl analyze`
# (file mode) and Kiali's gateway selector check assume their workloads exist when the input
# does not hold them.
STOCK_SELECTORS: tuple[Mapping[str, str], ...] = ({"istio": "ingressgateway"}, {"istio": "egressgateway"})
# The ports of the stock ingress gateway Service: the dummy Service of `istioctl analyze`
# (80, 443, 31400, 15443, each its own targetPort) and the targetPorts of today's charts (80 ->
# 8080, 443 -> 8443, status port 15021).
STOCK_INGRESS_PORTS = frozenset({80, 443, 31400, 15443, 8080, 8443, 15021})

HTTP_PROTOCOLS = frozenset({"HTTP", "HTTP2", "GRPC", "GRPC-WEB"})


def selector_text(selector: Mapping[str, str]) -> str:
    """As klabels.SelectorFromSet(...).String() prints it: `k=v` sorted by key, comma-joined."""
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def is_stock(selector: Mapping[str, str]) -> bool:
    return any(dict(selector) == dict(s) for s in STOCK_SELECTORS)


def stock_assumed(selector: Mapping[str, str], candidates: Iterable[Workload], root_namespace: str) -> bool:
    """Is the workload of a stock selector assumed to exist (as `istioctl analyze` and Kiali
    do)? Yes unless the input holds the installation's gateway workloads (`candidates`: those
    labelled with the selector's keys) in the root namespace, where it would be."""
    return is_stock(selector) and not any(w.namespace == root_namespace for w in candidates)


def selector_subset(inner: Mapping[str, str], outer: Mapping[str, str]) -> bool:
    """certificate.go selectorSubset: every label of `inner` is in `outer` with the same value
    (so `outer` selects some of the workloads `inner` selects); an empty `inner` selects all."""
    return all(outer.get(k) == v for k, v in inner.items())


def server_port(server: Mapping[str, Any]) -> int | None:
    number = (server.get("port") or {}).get("number")
    return number if isinstance(number, int) else None


def merged_at_runtime(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two servers of one port on one workload that Istio merges (MergeGateways): both plain
    text (no `tls`) and HTTP. Any other pair that shares a host keeps one and drops the other."""
    def plain_http(s: Mapping[str, Any]) -> bool:
        protocol = str((s.get("port") or {}).get("protocol") or "").upper()
        return s.get("tls") is None and protocol in HTTP_PROTOCOLS
    return plain_http(a) and plain_http(b)


def certificate(server: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The certificate a TLS server presents, as haveSameCertificate compares them: its
    `credentialName`, else its `serverCertificate` and `privateKey` files (both needed)."""
    tls = server.get("tls")
    if not isinstance(tls, dict):
        return None
    if tls.get("credentialName"):
        return ("credentialName", str(tls["credentialName"]))
    cert, key = tls.get("serverCertificate"), tls.get("privateKey")
    if cert and key:
        return ("files", str(cert), str(key))
    return None


def service_ports(services: Iterable[tuple[Mapping[str, Any], Workload]]) -> set[int]:
    """The ports at which the gateway workloads are reachable through their Services: each TCP
    port's `port` (Istio binds a server of that number to the targetPort behind it) and its
    `targetPort` (a server of that number listens there), a named targetPort resolved in the
    workload's containers."""
    out: set[int] = set()
    for spec, workload in services:
        for p in spec.get("ports") or ():
            if not isinstance(p, dict) or str(p.get("protocol") or "TCP").upper() != "TCP":
                continue
            if isinstance(p.get("port"), int):
                out.add(p["port"])
            target = workload.container_port(p.get("targetPort")) if p.get("targetPort") is not None else None
            if target is not None:
                out.add(target)
    return out
