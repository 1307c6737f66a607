"""Retries multiply along the call graph: one request becomes (1+attempts)^depth at the bottom.

meshlint builds the service call graph from container env values and args that name a Service
host (`cart`, `cart.shop`, `cart.shop.svc.cluster.local`, with a port or as a URL), from the
`--call-graph` file (`edges: [{from: frontend.shop, to: cart.shop}]`), and, later, from
telemetry. Each hop A -> B makes `1 + attempts` tries: the retries of the VirtualService route
that A's sidecar uses for B (the worst when several routes differ), Istio's default of 2
retries when there is none (istio/istio `pilot/pkg/networking/core/route/retry/retry.go`,
`DefaultPolicy`; or `meshConfig.defaultHttpRetryPolicy`), 1 try with `attempts: 0`
or when B does not speak HTTP (the sidecar cannot retry TCP). A DestinationRule `retryBudget`
caps the extra load of a hop (reported as the capped figure); `connectionPool.http.maxRetries`
bounds concurrent retries.

The rule fires on the entry service (called by nothing in the graph, or exposed through a
gateway) of every path whose worst-case multiplier, the product of tries along it, exceeds
`max-amplification` (option, default 10). Cycles are reported once (info), never followed.

A caller's sidecar is what retries: a caller without one makes 1 try per hop. When its
Namespace object is not in the input, the caller's namespace is assumed meshed if Istio
configuration in the input targets it, and outside the mesh otherwise (SPEC §2); a path whose
tries rest on that assumption is reported with it (`injected-namespaces` and
`uninjected-namespaces` settle it).

## Why it matters
When the deepest service slows down or fails, every layer above retries, and the retries
multiply: with Istio's default of 2 retries a 4-deep chain sends 3^4 = 81 requests to the
bottom for each user request, exactly when it is least able to take them. The failing service
never recovers, and its callers time out and fail in turn: the retry storm.

## Example
```yaml
# frontend -> checkout -> payment; Istio's default is 3 tries per hop
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: payments, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers:
      - name: web
        image: ghcr.io/example/frontend:1.4.2
        env:
        - {name: CHECKOUT_ADDR, value: "checkout.shop:8080"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop}
spec:
  selector: {matchLabels: {app: checkout}}
  template:
    metadata: {labels: {app: checkout}}
    spec:
      containers:
      - name: checkout
        image: ghcr.io/example/checkout:2.0.1
        env:
        - {name: PAYMENT_URL, value: "http://payment.payments:8080"}
---
apiVersion: v1
kind: Service
metadata: {name: frontend, namespace: shop}
spec: {selector: {app: frontend}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
spec: {selector: {app: checkout}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: payment, namespace: payments}
spec: {selector: {app: payment}, ports: [{name: http, port: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payment, namespace: payments}
spec:
  hosts: [payment.payments.svc.cluster.local]
  http:
  - retries: {attempts: 5}     # 6 tries on this hop: 3 x 6 = 18x at payment
    route:
    - destination: {host: payment.payments.svc.cluster.local}
```

## Fixed example
```yaml
# frontend -> checkout -> payment
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: payments, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers:
      - name: web
        image: ghcr.io/example/frontend:1.4.2
        env:
        - {name: CHECKOUT_ADDR, value: "checkout.shop:8080"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop}
spec:
  selector: {matchLabels: {app: checkout}}
  template:
    metadata: {labels: {app: checkout}}
    spec:
      containers:
      - name: checkout
        image: ghcr.io/example/checkout:2.0.1
        env:
        - {name: PAYMENT_URL, value: "http://payment.payments:8080"}
---
apiVersion: v1
kind: Service
metadata: {name: frontend, namespace: shop}
spec: {selector: {app: frontend}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
spec: {selector: {app: checkout}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: payment, namespace: payments}
spec: {selector: {app: payment}, ports: [{name: http, port: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payment, namespace: payments}
spec:
  hosts: [payment.payments.svc.cluster.local]
  http:
  - retries: {attempts: 0}     # checkout retries no more: 3 x 1 = 3x at payment
    route:
    - destination: {host: payment.payments.svc.cluster.local}
```

## Fix
Retry at one layer only (usually the edge or the caller of the flaky dependency) and set
`retries: {attempts: 0}` on the inner hops, or give the destinations a `retryBudget` so that
retries stay a fraction of the traffic. `meshlint graph` shows every path, `meshlint simulate
--fail HOST` the load when HOST fails.

## References
- istio/istio `pilot/pkg/networking/core/route/retry/retry.go`: Istio's default retry policy
- [VirtualService: HTTPRetry](https://istio.io/latest/docs/reference/config/networking/virtual-service/)
- [DestinationRule: retryBudget and maxRetries](https://istio.io/latest/docs/reference/config/networking/destination-rule/)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import SIDECAR_INPUTS, Index
from ..mesh import routes
from ..mesh.workloads import WORKLOAD_KINDS

if TYPE_CHECKING:
    from ..mesh.callgraph import Edge, PathResult


def check(index: Index, options: Options) -> Iterator[Finding]:
    if not index.workloads() and not index.call_edges and not index.observed_edges:
        return  # nothing calls anything: no graph to build (and no need to import its module)
    from ..mesh.callgraph import short_names, times

    limit = float(options["max-amplification"])
    graph = index.call_graph()
    names = short_names(graph.nodes, index.facts.domain)
    for path in graph.worst_paths(routes.exposed_hosts(index.of_kind("VirtualService"), index.facts.domain)):
        location = graph.location(path)
        if path.amplification <= limit or location is None:
            continue  # (None: a path only telemetry knows, between services the input does not hold)
        resource, where, document = location
        hop, without = _cheapest_hop(path)
        capped = "" if path.capped_amplification == path.amplification else \
            f"; {times(path.capped_amplification)}x with the retry budgets"
        capped += "".join(f"; {e.note.replace('; the worst is used', '')} on {names[e.source]} → {names[e.target]}, "
                          "the worst is used" for e in path.edges if "routes differ" in e.note)
        factors = _along([str(e.tries) for e in path.edges], " x ")
        related = tuple(dict.fromkeys(e.route.ref for e in path.edges if e.route is not None))
        assumed = next((e.assumption for e in path.edges if e.assumption), "")
        yield RULE.finding(
            AMPLIFICATION_ASSUMED if assumed else AMPLIFICATION, resource, where, document=document,
            related=related, assumption=assumed,
            chain=_along([names[h] for h in path.hosts], " → "), factor=times(path.amplification),
            bottom=names[path.hosts[-1]], factors=factors, capped=capped, limit=f"{limit:g}",
            hop=f"{names[hop.source]} → {names[hop.target]}", tries=hop.tries, without=times(without))
    for cycle in graph.cycles():
        hops = [graph.edges[(a, b)] for a, b in zip(cycle, cycle[1:])]
        if all(e.tries <= 1 for e in hops):
            continue  # nothing retries around this loop
        first = graph.nodes.get(cycle[0])
        edge = graph.edges[(cycle[0], cycle[1])]
        resource, where, document = (first, ("metadata", "name"), None) if first is not None else \
            (edge.evidence[0].resource, edge.evidence[0].path, edge.evidence[0].document)
        yield RULE.finding(RETRY_CYCLE, resource, where, document=document,
                           cycle=_along([names[h] for h in cycle], " → "))


def _along(steps: list[str], sep: str) -> str:
    """The steps of a path joined, its middle elided on a long one: each entry's finding names
    its own path, and many entries may share one long path."""
    if len(steps) <= 12:
        return sep.join(steps)
    return sep.join(steps[:6] + [f"({len(steps) - 12:,} more)"] + steps[-6:])


def _cheapest_hop(path: PathResult) -> tuple[Edge, float]:
    """The one hop whose retries, switched off, lower the path the most (deepest on a tie)."""
    best, best_value = path.edges[-1], path.amplification
    for e in path.edges:
        value = path.amplification / e.tries
        if value <= best_value:
            best, best_value = e, value
    return best, best_value


AMPLIFICATION = Variant(
    "amplification", Severity.WARNING,
    "{chain}: up to {factor}x at {bottom} ({factors} tries per hop{capped}), above max-amplification {limit}",
    "Set retries.attempts: 0 (or a retryBudget) on the {hop} hop ({tries} tries): the path drops to "
    "{without}x.")
AMPLIFICATION_ASSUMED = Variant(
    "amplification-assumed", Severity.WARNING,
    "{chain}: up to {factor}x at {bottom} ({factors} tries per hop{capped}), above max-amplification "
    "{limit} ({assumption})",
    "Set retries.attempts: 0 (or a retryBudget) on the {hop} hop ({tries} tries): the path drops to "
    "{without}x.")
RETRY_CYCLE = Variant(
    "retry-cycle", Severity.INFO,
    "call cycle {cycle}: a failure can be retried around the loop; amplification is computed without "
    "following it",
    "Break the cycle or disable retries (attempts: 0) on one of its hops.")

RULE = Rule(
    code="ML302",
    name="retry-amplification",
    summary="Retries multiply along a call path beyond the limit",
    inputs=frozenset({"Service", "ServiceEntry", *SIDECAR_INPUTS, *WORKLOAD_KINDS}),
    variants=(AMPLIFICATION, RETRY_CYCLE, AMPLIFICATION_ASSUMED),
    check=check,
    options={"max-amplification": 10.0},
    footgun=5,
)
