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

from ..finding import MAX_RELATED, Finding, Options, Rule, Severity, Variant, some_of
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
    everything = frozenset({-1})  # an empty selector: every workload
    selected: dict[tuple, frozenset[int]] = {}  # selector -> ids of the workloads it selects
    by_host: dict[tuple[int, str, str], list[_Server]] = defaultdict(list)
    for gw in gateways:
        selector = _key(gw)
        if selector not in selected:
            selected[selector] = frozenset(map(id, index.workloads_matching(dict(selector)))) if selector \
                else everything
        for s, server in enumerate(gw.spec.get("servers") or ()):
            port = server_port(server)
            if port is None:
                continue
            for host in dict.fromkeys(server.get("hosts") or ()):
                by_host[(port, str(server.get("bind") or ""), host)].append(_Server(gw, s, server))

    def same_workloads(a: tuple, b: tuple) -> bool:
        """Selectors that are equal, or that both select a workload of the input."""
        if a == b:
            return True
        wa, wb = selected[a], selected[b]
        if wa is everything or wb is everything:
            return bool((wb if wa is everything else wa) - everything)
        return not wa.isdisjoint(wb)

    # once per host (port, bind, host) and selector: thousands of Gateways may share a host
    candidates: dict[tuple[tuple[int, str, str], tuple], _Candidates] = {}

    def sharing(key: tuple[int, str, str], selector: tuple) -> _Candidates:
        found = candidates.get((key, selector))
        if found is None:
            found = candidates[(key, selector)] = _Candidates(
                [o for o in by_host.get(key, ()) if same_workloads(selector, _key(o.gateway))])
        return found

    for gw in gateways:
        own, selector = f"{gw.namespace}/{gw.name}", _key(gw)
        for s, server in enumerate(gw.spec.get("servers") or ()):
            port = server_port(server)
            if port is None:
                continue
            bind = str(server.get("bind") or "")
            hosts = [(h, host, sharing((port, bind, host), selector))
                     for h, host in enumerate(server.get("hosts") or ())]
            hosts = [(h, host, c) for h, host, c in hosts if c.others(own)]
            if not hosts:
                continue
            found = hosts[0][2] if len(hosts) == 1 else _Candidates([o for *_, c in hosts for o in c.servers])
            names = found.first(own, SHOWN)
            count = found.others(own)
            # the proxy drops one of two servers unless both are plain HTTP (MergeGateways)
            dropped = not merged_at_runtime(server, server) or found.not_plain_http(own)
            variant = SERVER_DROPPED if dropped else SERVERS_MERGED
            selector_shown = selector_text(gw.spec.get("selector") or {}) or "(all workloads)"
            first = hosts[0]
            yield RULE.finding(variant, gw, ("spec", "servers", s, "hosts", first[0]),
                               related=[found.refs[n] for n in found.first(own, MAX_RELATED)], related_total=count,
                               port=port, host=first[1], gateways=some_of(names[:SHOWN], count),
                               selector=selector_shown, plural="s" if count > 1 else "")


def _key(gw: Resource) -> tuple:
    selector = gw.spec.get("selector") or {}
    return tuple(sorted(selector.items())) if isinstance(selector, dict) else ()


class _Candidates:
    """The servers of other Gateways on the same workloads that list a host: their Gateways by
    name, sorted, and the names of those with a server that is not plain HTTP."""

    def __init__(self, servers: list[_Server]) -> None:
        self.servers = servers
        self.refs: dict[str, Ref] = {}
        self.not_plain: set[str] = set()
        for o in servers:
            name = f"{o.gateway.namespace}/{o.gateway.name}"
            self.refs.setdefault(name, o.gateway.ref)
            if not merged_at_runtime(o.spec, o.spec):
                self.not_plain.add(name)
        self.names = sorted(self.refs)

    def others(self, own: str) -> int:
        return len(self.names) - (own in self.refs)

    def first(self, own: str, n: int) -> list[str]:
        return [name for name in self.names[:n + 1] if name != own][:n]

    def not_plain_http(self, own: str) -> bool:
        return len(self.not_plain) - (own in self.not_plain) > 0


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
