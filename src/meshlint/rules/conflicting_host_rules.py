"""Several VirtualServices for one host on the mesh, or DestinationRules for one host that
override each other: only one of them applies.

**VirtualServices.** Sidecars take one VirtualService per host: when several VirtualServices
bound to the mesh (no `gateways:`, or `mesh` among them) define the same host for the same
namespaces, the oldest wins and the rules of the others are silently ignored. Hosts are
compared fully qualified, per the namespaces each VirtualService is exported to (`exportTo`;
none means all), and a VirtualService exported to all namespaces also conflicts with any
exported to some of them whose host it overlaps (`*.example.com` and `api.example.com`). Same
check as `istioctl analyze` IST0109 and Kiali KIA1106 (istio/istio
`pkg/config/analysis/analyzers/virtualservice/conflictingmeshgatewayhosts.go`). VirtualServices
bound to gateways are merged by Istio and are not reported. Two documents of the same kind,
namespace and name are versions of one object (the later `kubectl apply` replaces the other),
not two rules.

**DestinationRules.** DestinationRules of one namespace for the same host (and the same
`workloadSelector`) are merged: subsets are added, but only the oldest rule's top-level
`trafficPolicy` is kept, and a subset name already defined keeps its first definition (istio/istio
`pilot/pkg/model/destination_rule.go`, `mergeDestinationRule`). So two of them that both set a
top-level `trafficPolicy`, or define the same subset, conflict (Kiali KIA0201). DestinationRules
of different namespaces for one host do not: the client's namespace wins by design.

## Why it matters
Which VirtualService or traffic policy wins depends on creation time, so a second rule for the
same host, often a copy left behind by a team or a tool, silently disables the first one's
routing, retries, timeouts, outlier detection or TLS settings, and which one wins can change
when either is re-created.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - timeout: 2s
    route:
    - destination: {host: reviews}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-canary, namespace: shop}
spec:
  hosts: [reviews.shop.svc.cluster.local]   # the same host
  http:
  - route:
    - destination: {host: reviews, subset: v2}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers: {x-canary: {exact: "true"}}
    route:
    - destination: {host: reviews, subset: v2}
  - timeout: 2s
    route:
    - destination: {host: reviews}
```

## Fix
Merge the VirtualServices of a host into one (its routes in the order they must be tried), or
restrict each to the namespaces it is meant for with `exportTo`. Keep one top-level
`trafficPolicy` and one definition of each subset per host and namespace.

## References
- istio/istio `pkg/config/analysis/analyzers/virtualservice/conflictingmeshgatewayhosts.go`: `istioctl analyze` IST0109
- istio/istio `pilot/pkg/model/destination_rule.go`: how DestinationRules for one host are merged
- [IST0109](https://istio.io/latest/docs/reference/config/analysis/ist0109/)
- [Split large virtual services and destination rules](https://istio.io/latest/docs/ops/best-practices/traffic-management/#split-virtual-services)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import TypeVar

from ..finding import MAX_RELATED, Finding, Options, Rule, Severity, Variant, some_of
from ..index import HostTable, Index
from ..mesh import routes
from ..mesh.hosts import MESH_GATEWAY, expand_host, matches
from ..resource import Ref, Resource

T = TypeVar("T")

ALL = "*"


def check(index: Index, options: Options) -> Iterator[Finding]:
    yield from _virtual_services(index)
    yield from _destination_rules(index)


def _scopes(vs: Resource) -> list[str]:
    """The namespaces the VirtualService applies to ("*" = all), as istio's analyzer reads
    exportTo (`util.IsExportToAllNamespaces`)."""
    export_to = [e for e in vs.spec.get("exportTo") or () if isinstance(e, str)]
    if not export_to or ALL in export_to:
        return [ALL]
    return sorted({vs.namespace if e == "." else e for e in export_to})


def _virtual_services(index: Index) -> Iterator[Finding]:
    domain = index.facts.domain
    # (scope, fqdn) -> [(vs, index of the host in spec.hosts)]
    groups: dict[tuple[str, str], list[tuple[Resource, int]]] = defaultdict(list)
    exported_to_all: HostTable[tuple[str, Resource, int]] = HostTable()
    first: dict[Ref, Resource] = {}
    for vs in index.of_kind("VirtualService"):
        if first.setdefault(vs.ref, vs) is not vs:
            continue  # another version of the same object (alternative files): one object, no conflict
        gateways = routes.gateways(vs)
        if gateways and MESH_GATEWAY not in gateways:  # no gateways means the mesh
            continue
        for scope in _scopes(vs):
            for i, host in enumerate(vs.spec.get("hosts") or ()):
                if not isinstance(host, str) or not host:
                    continue
                fqdn = expand_host(host, vs.namespace, domain)
                if (vs, i) in groups[(scope, fqdn)]:
                    continue
                groups[(scope, fqdn)].append((vs, i))
                if scope == ALL:
                    exported_to_all.add(fqdn, (fqdn, vs, i))
    reported: set[int] = set()
    for (scope, fqdn), members in groups.items():
        group = list(members)
        if scope != ALL:  # those exported to all namespaces apply in this one too
            group += [(vs, i) for h, vs, i in exported_to_all.matching(fqdn) if matches(h, fqdn)]
        if len({id(vs) for vs, _ in group}) < 2:
            continue
        names = sorted({f"{vs.namespace}/{vs.name}" for vs, _ in group})
        refs = [vs.ref for vs, _ in group]
        copies = Counter(refs)  # (a VirtualService may name the host twice)
        for vs, i in group:
            if id(vs) in reported:
                continue
            reported.add(id(vs))
            where = "all namespaces" if scope == ALL else f"namespace {scope}"
            yield RULE.finding(DUPLICATE_VIRTUAL_SERVICE, vs, ("spec", "hosts", i),
                               related=_but(refs, vs.ref), related_total=len(refs) - copies[vs.ref],
                               host=fqdn, where=where, others=some_of(_but(names, f"{vs.namespace}/{vs.name}"),
                                                                      len(names) - 1),
                               s="" if len(names) == 2 else "s")


def _destination_rules(index: Index) -> Iterator[Finding]:
    domain = index.facts.domain
    groups: dict[tuple[str, str, tuple], list[Resource]] = defaultdict(list)
    first: dict[Ref, Resource] = {}
    for dr in index.of_kind("DestinationRule"):
        host = dr.spec.get("host")
        if not isinstance(host, str) or not host or first.setdefault(dr.ref, dr) is not dr:
            continue
        selector = dr.spec.get("workloadSelector")
        labels = selector.get("matchLabels") if isinstance(selector, dict) else None
        key = tuple(sorted(labels.items())) if isinstance(labels, dict) else ()
        groups[(dr.namespace, expand_host(host, dr.namespace, domain), key)].append(dr)
    for (_, fqdn, _), rules in groups.items():
        if len(rules) < 2:
            continue
        with_policy = [dr for dr in rules if isinstance(dr.spec.get("trafficPolicy"), dict)]
        if len(with_policy) > 1:
            names, refs = [o.name for o in with_policy], [o.ref for o in with_policy]
            for dr in with_policy:
                yield RULE.finding(DUPLICATE_TRAFFIC_POLICY, dr, ("spec", "trafficPolicy"),
                                   related=_but(refs, dr.ref), related_total=len(refs) - 1, host=fqdn,
                                   others=some_of(_but(names, dr.name), len(names) - 1))
        defined: dict[str, list[tuple[Resource, int]]] = defaultdict(list)
        for dr in rules:
            for i, subset in enumerate(dr.spec.get("subsets") or ()):
                if isinstance(subset, dict) and isinstance(subset.get("name"), str):
                    defined[subset["name"]].append((dr, i))
        for name, where in defined.items():
            owners = {id(dr) for dr, _ in where}
            if len(owners) < 2:
                continue
            names = sorted({o.name for o, _ in where})
            refs = [o.ref for o, _ in where]
            copies = Counter(refs)
            for dr, i in where:
                yield RULE.finding(DUPLICATE_SUBSET, dr, ("spec", "subsets", i, "name"),
                                   related=_but(refs, dr.ref), related_total=len(refs) - copies[dr.ref],
                                   subset=name, host=fqdn, others=some_of(_but(names, dr.name), len(names) - 1))


def _but(items: list[T], mine: T) -> list[T]:
    """The first items other than `mine`, as many as a finding keeps: each member of a group of
    thousands names the others, so each must cost no more than a few of them."""
    return [x for x in items[:MAX_RELATED + 1] if x != mine][:MAX_RELATED]


DUPLICATE_VIRTUAL_SERVICE = Variant(
    "duplicate-virtual-service", Severity.ERROR,
    "host {host} is also defined for the mesh in {where} by VirtualService{s} {others}: sidecars use "
    "only one of them (the oldest), and ignore the others' routes",
    "Merge the VirtualServices for {host} into one, or separate them with exportTo.")
DUPLICATE_TRAFFIC_POLICY = Variant(
    "duplicate-traffic-policy", Severity.WARNING,
    "DestinationRule {others} of this namespace also sets a top-level trafficPolicy for {host}: Istio "
    "merges them and keeps only the oldest rule's policy",
    "Keep one top-level trafficPolicy for {host} in this namespace (merge the DestinationRules).")
DUPLICATE_SUBSET = Variant(
    "duplicate-subset", Severity.WARNING,
    'subset "{subset}" of {host} is also defined by DestinationRule {others} of this namespace: Istio '
    "keeps only the oldest definition",
    'Define subset "{subset}" once for {host} in this namespace.')

RULE = Rule(
    code="ML108",
    name="conflicting-host-rules",
    summary="Several mesh VirtualServices, or clashing DestinationRules, for one host",
    inputs=frozenset({"VirtualService", "DestinationRule"}),
    variants=(DUPLICATE_VIRTUAL_SERVICE, DUPLICATE_TRAFFIC_POLICY, DUPLICATE_SUBSET),
    check=check,
    istio_codes=frozenset({"IST0109"}),  # ConflictingMeshGatewayVirtualServiceHosts
)
