"""A route retries against a host that no circuit breaker protects.

A route with explicit retries (`attempts >= 1`, or a Gateway API rule with `retry`) sends them
to its destinations. For each destination host (and subset), the DestinationRule that applies
must limit them: `outlierDetection` (ejects failing endpoints), `connectionPool.http.maxRetries`
(caps concurrent retries) or `retryBudget` (Istio >= 1.27), at the top level, for the port, or
in the subset used. Hosts are compared fully qualified, as Istio does.

When no DestinationRule for a host is in the input, one may exist elsewhere: the finding says
so instead of stating that none exists. A DestinationRule whose host the input shows to name
nothing (ML107: a missing Service of a namespace the input holds, a host not exported to its
namespace, `name.namespace`) protects nothing and is not counted.

## Why it matters
Through Istio, Envoy's retry circuit breaker (`max_retries`) is 2^32-1: effectively none
(istio/istio `pilot/pkg/networking/core/cluster_traffic_policy.go`,
`getDefaultCircuitBreakerThresholds`). When
a backend degrades, every caller retries every failed request, concurrently and without
bound, and the retries keep the backend from recovering: the retry storm. Outlier detection
takes a failing pod out of rotation, `maxRetries` bounds the concurrent retries, and a retry
budget bounds them as a share of the traffic.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: inventory, namespace: shop}
spec:
  hosts: [inventory]
  http:
  - retries: {attempts: 3, retryOn: "connect-failure,503"}
    route:
    - destination: {host: inventory}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: inventory, namespace: shop}
spec:
  host: inventory
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}   # no outlierDetection, no maxRetries
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: inventory, namespace: shop}
spec:
  hosts: [inventory]
  http:
  - retries: {attempts: 3, retryOn: "connect-failure,503"}
    route:
    - destination: {host: inventory}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: inventory, namespace: shop}
spec:
  host: inventory
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool:
      http: {maxRetries: 10}
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
```

## Fix
Add `outlierDetection` (e.g. `consecutive5xxErrors: 5`, `interval: 10s`, `baseEjectionTime:
30s`) and `connectionPool.http.maxRetries` (or a `retryBudget`) to the host's DestinationRule.

## References
- istio/istio `pilot/pkg/networking/core/cluster_traffic_policy.go`: Istio's default circuit breakers
- [Circuit Breaking](https://istio.io/latest/docs/tasks/traffic-management/circuit-breaking/)
- [DestinationRule: connectionPool and outlierDetection](https://istio.io/latest/docs/reference/config/networking/destination-rule/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..fix import edits
from ..index import Index
from ..mesh.retries import effective
from ..resource import GATEWAY_API_ROUTES, FieldPath, Resource


def check(index: Index, options: Options) -> Iterator[Finding]:
    for rule in index.route_rules(("http",)):
        attempts: int | None
        if rule.gateway_api:
            retry = rule.spec.get("retry")
            if not isinstance(retry, dict) or retry.get("attempts") == 0:
                continue
            attempts = retry["attempts"] if isinstance(retry.get("attempts"), int) else None
            path = rule.path + ("retry",)
        else:
            retries = rule.spec.get("retries")
            if not isinstance(retries, dict) or effective(retries).attempts < 1:
                continue
            attempts = effective(retries).attempts
            path = rule.path + ("retries",)
        targets: dict[tuple[str, str | None], str] = {}
        for t in rule.targets:
            targets.setdefault((t.fqdn, t.subset), t.shown)
        yield from _report(index, rule.resource, path, attempts, targets)


def _report(index: Index, resource: Resource, path: FieldPath, attempts: int | None,
            targets: dict[tuple[str, str | None], str]) -> Iterator[Finding]:
    bare: list[str] = []
    hosts: list[str] = []
    void: Resource | None = None  # the first DestinationRule that would protect one, but names nothing
    unprotected: list[tuple[str, str | None]] = []
    for (fqdn, subset), shown in targets.items():
        policies = index.destination_policies(fqdn)
        if policies.breaker.covers(subset):
            continue
        bare.append(f"{shown} (subset {subset})" if subset else shown)
        hosts.append(fqdn)
        unprotected.append((fqdn, subset))
        void = void or policies.breaker.void_cover(subset)
    if bare:
        related = index.destination_rules_of(hosts)
        # no DestinationRule for any of them in the input: one may exist elsewhere (SPEC §2)
        variant = VOID_CIRCUIT_BREAKER if void else UNPROTECTED_RETRIES if related else NO_DESTINATION_RULE_IN_INPUT
        fix, why = None, ""
        try:
            fix = edits.outlier_detection(index, resource, unprotected)
        except edits.NoFix as exc:
            why = str(exc)
        yield RULE.finding(variant, resource, path, related=related, autofix=fix, unfixable=why,
                           times=f"up to {attempts} times" if attempts else "", hosts=", ".join(bare),
                           first=bare[0].split(" ")[0], rule=f"{void.namespace}/{void.name}" if void else "",
                           host=void.spec.get("host") if void else "")


UNPROTECTED_RETRIES = Variant(
    "unprotected-retries", Severity.WARNING,
    "retries {times} to {hosts}, which no circuit breaker protects: no DestinationRule sets "
    "outlierDetection, connectionPool.http.maxRetries or a retryBudget (Istio's default retry limit is "
    "2^32-1, i.e. none)",
    "Add outlierDetection and connectionPool.http.maxRetries (or a retryBudget) to the DestinationRule "
    "for {first}.")

NO_DESTINATION_RULE_IN_INPUT = Variant(
    "no-destination-rule-in-input", Severity.WARNING,
    "retries {times} to {hosts}, and no DestinationRule for them is in the input: unless one elsewhere "
    "sets outlierDetection, connectionPool.http.maxRetries or a retryBudget, no circuit breaker protects "
    "them (Istio's default retry limit is 2^32-1, i.e. none)",
    "Add a DestinationRule for {first} with outlierDetection and connectionPool.http.maxRetries (or a "
    "retryBudget), or check the input with the file that defines it.")

VOID_CIRCUIT_BREAKER = Variant(
    "circuit-breaker-names-nothing", Severity.WARNING,
    "retries {times} to {hosts}, which no circuit breaker protects: DestinationRule {rule} sets one, but "
    "its host {host} names nothing (ML107), so it applies to no traffic",
    "Fix the host of DestinationRule {rule} so that its circuit breaker applies to {first}.")

RULE = Rule(
    code="ML303",
    name="retries-without-circuit-breaker",
    summary="Retries to a host without outlier detection, maxRetries or a retry budget",
    inputs=frozenset({"VirtualService", "DestinationRule", "Service", "ServiceEntry", *GATEWAY_API_ROUTES}),
    variants=(UNPROTECTED_RETRIES, NO_DESTINATION_RULE_IN_INPUT, VOID_CIRCUIT_BREAKER),
    check=check,
    footgun=5,
    fixes=edits.OUTLIER_DETECTION_FIXES,
)
