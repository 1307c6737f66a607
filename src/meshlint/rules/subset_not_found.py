"""A route sends traffic to a subset that no DestinationRule defines.

Every `destination.subset` of a VirtualService route (http, tcp, tls, and mirrors) must be
defined in the `subsets` of a DestinationRule for that host. Hosts are compared fully
qualified: a short host is expanded in the namespace of the resource that writes it (the
VirtualService for the route, the DestinationRule for its `host`), as Istio does: a host with
a dot is taken as written, so `reviews.shop` is not `reviews.shop.svc.cluster.local` (Kiali,
whose KIA1107 is this check, takes them as one). Same check as `istioctl analyze` IST0101 for
subsets (istio/istio `pkg/config/analysis/analyzers/virtualservice/destinationrules.go`).

A subset of a host for which no DestinationRule is in the input may be defined elsewhere: that
is a warning, not an error.

## Why it matters
Envoy has no cluster for an undefined subset: every request routed there fails at once with
`503 NR` (no route). In a weighted canary this is a fixed percentage of errors; when the
DestinationRule is applied after the VirtualService (or deleted first), it is an outage for
the time in between.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v3}   # only v1 and v2 are defined
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v3}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}   # defined before traffic is routed to it
```

## Fix
Define the subset in the host's DestinationRule (apply it before the VirtualService), or
route to a subset that exists.

## References
- istio/istio `pkg/config/analysis/analyzers/virtualservice/destinationrules.go`: `istioctl analyze` IST0101 for subsets
- [DestinationRule: subsets](https://istio.io/latest/docs/reference/config/networking/destination-rule/)
- [Traffic Shifting](https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant, some_of
from ..index import Index
from ..mesh import routes
from ..mesh.hosts import expand_host
from ..resource import Resource


def check(index: Index, options: Options) -> Iterator[Finding]:
    domain = index.facts.domain
    subsets_of: dict[str, _Subsets] = {}  # once per host: many routes may go there
    for vs in index.of_kind("VirtualService"):
        for dest in routes.destinations(vs):
            if not dest.subset:
                continue
            fqdn = expand_host(dest.host, vs.namespace, domain)
            subsets = subsets_of.get(fqdn)
            if subsets is None:
                subsets = subsets_of[fqdn] = _Subsets(index.destination_rules_for(fqdn))
            if dest.subset in subsets.defined:
                continue
            if not subsets.rules:  # the DestinationRule may be elsewhere (SPEC §2): not an error
                yield RULE.finding(NO_DESTINATION_RULE_IN_INPUT, vs, dest.path + ("subset",), subset=dest.subset,
                                   host=dest.host)
                continue
            yield RULE.finding(MISSING_SUBSET, vs, dest.path + ("subset",), related=subsets.rules,
                               subset=dest.subset, host=dest.host, names=subsets.names, rule=subsets.first)


class _Subsets:
    """The subsets the DestinationRules of one host define, and how the message names them."""

    def __init__(self, rules: list[Resource]) -> None:
        self.rules = tuple(dr.ref for dr in rules)
        self.defined = {s.get("name") for dr in rules for s in dr.spec.get("subsets") or () if isinstance(s, dict)}
        self.names = some_of(sorted(n for n in self.defined if n)) or "no subsets"
        self.first = f"{rules[0].namespace}/{rules[0].name}" if rules else ""


MISSING_SUBSET = Variant(
    "missing-subset", Severity.ERROR,
    'subset "{subset}" of host {host} is not defined (DestinationRule {rule} defines {names}); requests '
    "routed there fail with 503 NR",
    'Define subset "{subset}" in the DestinationRule for {host}, or route to a subset that exists.')
NO_DESTINATION_RULE_IN_INPUT = Variant(
    "no-destination-rule-in-input", Severity.WARNING,
    'subset "{subset}" of host {host} is defined by no DestinationRule in the input: unless one elsewhere '
    "defines it, requests routed there fail with 503 NR",
    'Add the DestinationRule for {host} that defines subset "{subset}", or check the input with the '
    "file that defines it.")

RULE = Rule(
    code="ML105",
    name="subset-not-found",
    summary="Route destination names an undefined subset",
    inputs=frozenset({"VirtualService", "DestinationRule"}),
    variants=(MISSING_SUBSET, NO_DESTINATION_RULE_IN_INPUT),
    check=check,
    istio_codes=frozenset({"IST0101"}),  # ReferencedResourceNotFound (a subset)
)
