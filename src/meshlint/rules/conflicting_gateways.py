"""Two Istio Gateways give the same gateway workloads a server on the same port for the same host.

Gateways that select the same gateway workloads (the same `selector`, or selectors that both
match one workload of the input) are merged into one configuration of each proxy. When a
server of one and a server of the other use the same port (and `bind`) and list the same host,
they conflict. Same check as `istioctl analyze` IST0145 ConflictingGateways (istio/istio
`pkg/config/analysis/analyzers/gateway/conflictinggateway.go`), whose hosts are compared as
written, exactly, as the proxy does (`CheckDuplicates`; `*.example.com` and `a.example.com`
do not conflict: SNI and Host matching pick the most specific).

What the proxy does with the pair (istio/istio `pilot/pkg/model/gateway.go` `MergeGateways`)
sets the severity: two plain-text HTTP servers are merged into one route table (a warning:
VirtualServices bound to either Gateway for that host compete, and only one applies); any
other pair (TLS servers, TCP, or an HTTP and a TCP server) keeps the first server it reads and
drops the second, so the hosts of the dropped one are not served on that port (an error).

## Why it matters
Which of the two servers survives depends on the order istiod reads the Gateways (creation
time), so the breakage appears on another cluster, or after a Gateway is recreated, with no
error anywhere: the dropped server's hosts get connection resets (TLS) or the other server's
protocol, and istiod only counts it in `pilot_total_rejected_configs`.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-shop, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: shop-cert}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop-canary, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-canary, protocol: HTTPS}
    hosts: [shop.example.com]          # the same host on the same port
    tls: {mode: SIMPLE, credentialName: shop-canary-cert}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-shop, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: shop-cert}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop-canary, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-canary, protocol: HTTPS}
    hosts: [canary.shop.example.com]   # a host of its own
    tls: {mode: SIMPLE, credentialName: shop-canary-cert}
```

## Fix
Serve each host on each port from one Gateway: merge the two servers, or give one of them
other hosts, another port, or another gateway workload (selector).

## References
- istio/istio `pkg/config/analysis/analyzers/gateway/conflictinggateway.go`: `istioctl analyze` IST0145
- istio/istio `pilot/pkg/model/gateway.go`: `MergeGateways`, `CheckDuplicates`
- [Gateway: servers, port and bind](https://istio.io/latest/docs/reference/config/networking/gateway/)
- [Kiali validations: KIA0301, more than one Gateway for the same host and port](https://kiali.io/docs/features/validations/)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.gateways import merged_at_runtime, selector_text, server_port
from ..mesh.workloads import WORKLOAD_KINDS
from ..resource import Ref, Resource

SHOWN = 5  # conflicting Gateways named in one message


@dataclass(frozen=True, slots=True)
class _Server:
    gateway: Resource
    index: int
    spec: Mapping[str, Any]


def check(index: Index, options: Options) -> Iterator[Finding]:
    gateways = index.of_kind("Gateway")
    selected: dict[int, frozenset[int]] = {}  # id(gateway) -> ids of the workloads it selects
    everything = frozenset({-1})  # an empty selector: every workload
    by_host: dict[tuple[int, str, str], list[_Server]] = defaultdict(list)
    for gw in gateways:
        selector = gw.spec.get("selector") or {}
        selected[id(gw)] = frozenset(map(id, index.workloads_matching(selector))) if selector else everything
        for s, server in enumerate(gw.spec.get("servers") or ()):
            port = server_port(server)
            if port is None:
                continue
            for host in dict.fromkeys(server.get("hosts") or ()):
                by_host[(port, str(server.get("bind") or ""), host)].append(_Server(gw, s, server))

    def same_workloads(a: Resource, b: Resource) -> bool:
        """Selectors that are equal, or that both select a workload of the input."""
        if (a.spec.get("selector") or {}) == (b.spec.get("selector") or {}):
            return True
        wa, wb = selected[id(a)], selected[id(b)]
        if wa is everything or wb is everything:
            return bool((wb if wa is everything else wa) - everything)
        return not wa.isdisjoint(wb)

    for gw in gateways:
        for s, server in enumerate(gw.spec.get("servers") or ()):
            port = server_port(server)
            if port is None:
                continue
            others: dict[str, bool] = {}  # conflicting gateway -> dropped at run time
            refs: dict[str, Ref] = {}
            first: tuple[int, str] | None = None
            for h, host in enumerate(server.get("hosts") or ()):
                for other in by_host.get((port, str(server.get("bind") or ""), host), ()):
                    if other.gateway.ref == gw.ref or not same_workloads(gw, other.gateway):
                        continue
                    name = f"{other.gateway.namespace}/{other.gateway.name}"
                    dropped = not merged_at_runtime(server, other.spec)
                    others[name] = others.get(name, False) or dropped
                    refs.setdefault(name, other.gateway.ref)
                    first = first or (h, host)
            if not others or first is None:
                continue
            names = sorted(others)
            shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
            variant = SERVER_DROPPED if any(others.values()) else SERVERS_MERGED
            selector = selector_text(gw.spec.get("selector") or {}) or "(all workloads)"
            yield RULE.finding(variant, gw, ("spec", "servers", s, "hosts", first[0]),
                               related=tuple(refs[n] for n in names),
                               port=port, host=first[1], gateways=shown, selector=selector,
                               plural="s" if len(names) > 1 else "")


SERVER_DROPPED = Variant(
    "server-dropped", Severity.ERROR,
    "port {port} host {host} is also served by Gateway{plural} {gateways} on the same workloads "
    "({selector}): the proxy keeps one of the servers and drops the other",
    "Serve host {host} on port {port} from one Gateway: merge the servers, or give one of them other "
    "hosts, another port or another selector.")
SERVERS_MERGED = Variant(
    "servers-merged", Severity.WARNING,
    "port {port} host {host} is also served by Gateway{plural} {gateways} on the same workloads "
    "({selector}): the plain HTTP servers are merged, and VirtualServices bound to each for this host "
    "compete",
    "Serve host {host} on port {port} from one Gateway, so that one VirtualService routes it.")

RULE = Rule(
    code="ML111",
    name="conflicting-gateways",
    summary="Istio Gateways with a server on the same workloads, port and host",
    inputs=frozenset({"Gateway", *WORKLOAD_KINDS}),
    variants=(SERVER_DROPPED, SERVERS_MERGED),
    check=check,
    istio_codes=frozenset({"IST0145"}),  # ConflictingGateways
)
