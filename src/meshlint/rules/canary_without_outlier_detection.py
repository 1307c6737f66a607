"""A weighted canary split without outlier detection keeps sending traffic to a dead canary.

A route (VirtualService `http`, `tcp` or `tls`, or a Gateway API rule) with two or more weighted
destinations is a traffic split; a `100/0` split counts too, it is a canary waiting to shift.
Every destination of the split needs `outlierDetection` in the DestinationRule for its host:
at the top level, or in the subset used (istio/api `destination_rule.proto`: a subset's
policy applies to traffic routed to that subset).

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

## Fix
Add `trafficPolicy.outlierDetection` to the DestinationRule of every host in the split (e.g.
`consecutive5xxErrors: 5`, `interval: 10s`, `baseEjectionTime: 30s`), or to every subset used.
"""

from __future__ import annotations

from typing import Iterator

from ..finding import Finding, Options, Rule, Severity
from ..index import Index
from ..mesh import routes
from ..mesh.hosts import expand_host
from ..mesh.trafficpolicy import has_outlier_detection
from ..resource import GATEWAY_API_ROUTES


def check(index: Index, options: Options) -> Iterator[Finding]:
    domain = index.env.domain
    for vs in index.of_kind("VirtualService"):
        split: dict[tuple, list] = {}
        for d in routes.destinations(vs, mirrors=False):
            split.setdefault((d.kind, d.route), []).append(d)
        for (kind, i), dests in split.items():
            if len(dests) < 2:
                continue
            targets = [((expand_host(d.host, vs.namespace, domain), d.subset), d) for d in dests]
            missing = _missing(index, targets)
            if missing:
                weights = "/".join(str(d.weight if d.weight is not None else "-") for d in dests)
                yield RULE.finding(vs, ("spec", kind, i, "route"), related=_related(index, targets),
                                   weights=weights, n=len(dests), missing=", ".join(missing),
                                   first=missing[0].split(" ")[0])
    for kind in GATEWAY_API_ROUTES:
        for route in index.of_kind(kind):
            for i, rule in routes.rules(route):
                backends = routes.backends(route, i, rule)
                if len(backends) < 2:
                    continue
                targets = [((f"{b.name}.{b.namespace}.svc.{domain}", None), b) for b in backends]
                missing = _missing(index, targets)
                if missing:
                    weights = "/".join(str(b.weight if b.weight is not None else 1) for b in backends)
                    yield RULE.finding(route, ("spec", "rules", i, "backendRefs"), related=_related(index, targets),
                                       weights=weights, n=len(backends), missing=", ".join(missing),
                                       first=missing[0].split(" ")[0])


def _label(target) -> str:
    host = getattr(target, "host", None) or getattr(target, "name")
    subset = getattr(target, "subset", None)
    return f"{host} (subset {subset})" if subset else host


def _missing(index: Index, targets) -> list[str]:
    out = []
    for (fqdn, subset), target in targets:
        if not has_outlier_detection(index.destination_rules_for(fqdn), subset):
            label = _label(target)
            if label not in out:
                out.append(label)
    return out


def _related(index: Index, targets) -> tuple:
    return tuple(dict.fromkeys(dr.ref for (fqdn, _), _t in targets for dr in index.destination_rules_for(fqdn)))


RULE = Rule(
    code="ML304",
    name="canary-without-outlier-detection",
    severity=Severity.WARNING,
    summary="Weighted traffic split without outlier detection",
    inputs=frozenset({"VirtualService", "DestinationRule", *GATEWAY_API_ROUTES}),
    message="traffic split {weights} across {n} destinations, but {missing} has no outlierDetection: "
            "when a canary fails, Istio keeps sending it its share",
    fix="Add trafficPolicy.outlierDetection to the DestinationRule for {first} (or to every subset "
        "in the split).",
    check=check,
)
