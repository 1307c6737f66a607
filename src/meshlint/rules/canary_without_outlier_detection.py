"""A weighted canary split without outlier detection keeps sending traffic to a dead canary.

A route (VirtualService `http`, `tcp` or `tls`, or a Gateway API rule) with two or more weighted
destinations is a traffic split; a `100/0` split counts too, it is a canary waiting to shift.
Every destination of the split needs `outlierDetection` in the DestinationRule for its host:
at the top level, or in the subset used (istio/api `destination_rule.proto`: a subset's
policy applies to traffic routed to that subset). Without it Envoy ejects nothing (istio/istio
`pilot/pkg/networking/core/cluster_traffic_policy.go`, `applyOutlierDetection`).

When no DestinationRule for the destinations is in the input, one may exist elsewhere: the
finding says so instead of stating that none exists. A DestinationRule whose host the input
shows to name nothing (ML107: a missing Service of a namespace the input holds, a host not
exported to its namespace, `name.namespace`) protects nothing and is not counted.

## Why it matters
Weights are static. When the canary's pods crash-loop or answer 5xx, Envoy keeps sending them
exactly their weight: 10 % of users get errors until a person (or Flagger/Argo) notices.
Outlier detection ejects failing endpoints from the pool within seconds, so the failure stays
a blip instead of an incident, and it is what lets automated rollbacks see a clean signal.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  http:
  - route:
    - destination: {host: catalog, subset: v1}
      weight: 90
    - destination: {host: catalog, subset: v2}
      weight: 10
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: catalog, namespace: shop}
spec:
  host: catalog
  subsets:                   # no outlierDetection anywhere
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog]
  http:
  - route:
    - destination: {host: catalog, subset: v1}
      weight: 90
    - destination: {host: catalog, subset: v2}
      weight: 10
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: catalog, namespace: shop}
spec:
  host: catalog
  trafficPolicy:
    outlierDetection:        # applies to every subset
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
```

## Fix
Add `trafficPolicy.outlierDetection` to the DestinationRule of every host in the split (e.g.
`consecutive5xxErrors: 5`, `interval: 10s`, `baseEjectionTime: 30s`), or to every subset used.

## References
- istio/istio `pilot/pkg/networking/core/cluster_traffic_policy.go`: how outlierDetection reaches Envoy
- istio/api `networking/v1alpha3/destination_rule.proto`: subset traffic policies
- [DestinationRule: outlierDetection](https://istio.io/latest/docs/reference/config/networking/destination-rule/)
- [Traffic Shifting](https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..fix import edits
from ..index import Index
from ..mesh.routes import Target
from ..resource import GATEWAY_API_ROUTES


def check(index: Index, options: Options) -> Iterator[Finding]:
    for rule in index.route_rules():
        if len(rule.targets) < 2:
            continue
        missing = _missing(index, rule.targets)
        if not missing:
            continue
        default_weight = 1 if rule.gateway_api else "-"  # Gateway API's default weight is 1
        weights = "/".join(str(t.weight if t.weight is not None else default_weight) for t in rule.targets)
        path = rule.path + (("backendRefs",) if rule.gateway_api else ("route",))
        related = index.destination_rules_of(t.fqdn for t in rule.targets)
        unprotected = set(missing)
        void = next((v for t in rule.targets if t.label in unprotected
                     if (v := index.destination_policies(t.fqdn).outlier.void_cover(t.subset)) is not None), None)
        # no DestinationRule for any destination in the input: one may exist elsewhere (SPEC §2)
        variant = VOID_OUTLIER_DETECTION if void else UNGUARDED_SPLIT if related else NO_DESTINATION_RULE_IN_INPUT
        fix, why = None, ""
        try:
            fix = edits.outlier_detection(index, rule.resource,
                                          [(t.fqdn, t.subset) for t in rule.targets if t.label in missing])
        except edits.NoFix as exc:
            why = str(exc)
        yield RULE.finding(variant, rule.resource, path, related=related, weights=weights, autofix=fix, unfixable=why,
                           n=len(rule.targets), missing=", ".join(missing), has="has" if len(missing) == 1 else "have",
                           first=missing[0].split(" ")[0], rule=f"{void.namespace}/{void.name}" if void else "",
                           host=void.spec.get("host") if void else "")


def _missing(index: Index, targets: tuple[Target, ...]) -> list[str]:
    """The destinations no outlier detection protects (a DestinationRule whose host names
    nothing protects nothing)."""
    return list(dict.fromkeys(t.label for t in targets
                              if not index.destination_policies(t.fqdn).outlier.covers(t.subset)))


UNGUARDED_SPLIT = Variant(
    "unguarded-split", Severity.WARNING,
    "traffic split {weights} across {n} destinations, but {missing} {has} no outlierDetection: when a "
    "canary fails, Istio keeps sending it its share",
    "Add trafficPolicy.outlierDetection to the DestinationRule for {first} (or to every subset in the "
    "split).")

NO_DESTINATION_RULE_IN_INPUT = Variant(
    "no-destination-rule-in-input", Severity.WARNING,
    "traffic split {weights} across {n} destinations, and no DestinationRule for {missing} is in the "
    "input: unless one elsewhere sets outlierDetection, Istio keeps sending a failing canary its share",
    "Add a DestinationRule with trafficPolicy.outlierDetection for {first} (or to every subset in the "
    "split), or check the input with the file that defines it.")

VOID_OUTLIER_DETECTION = Variant(
    "outlier-detection-names-nothing", Severity.WARNING,
    "traffic split {weights} across {n} destinations, but {missing} {has} no outlierDetection: "
    "DestinationRule {rule} sets it, but its host {host} names nothing (ML107), so it applies to no traffic",
    "Fix the host of DestinationRule {rule} so that its outlierDetection applies to {first}.")

RULE = Rule(
    code="ML304",
    name="canary-without-outlier-detection",
    summary="Weighted traffic split without outlier detection",
    inputs=frozenset({"VirtualService", "DestinationRule", "Service", "ServiceEntry", *GATEWAY_API_ROUTES}),
    variants=(UNGUARDED_SPLIT, NO_DESTINATION_RULE_IN_INPUT, VOID_OUTLIER_DETECTION),
    check=check,
    footgun=8,
    fixes=edits.OUTLIER_DETECTION_FIXES,
)
