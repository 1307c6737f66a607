"""A DestinationRule names a host that does not exist, or a subset that selects no pods.

A DestinationRule's `host` must name a host of the service registry that its namespace can see
(a Service or a ServiceEntry host, exported to that namespace); a short host means the Service
of that name in the DestinationRule's own namespace. Each subset's `labels` must select some of
the pods behind that host. Same checks as `istioctl analyze` IST0174 and IST0173, and Kiali
KIA0203 (istio/istio `pkg/config/analysis/analyzers/destinationrule/subset.go`).

A subset is matched against the pods the host's Service (or the ServiceEntry's
`workloadSelector`, or its `endpoints`) selects, as Envoy's subset load balancer does; labels
that Istio adds from where a pod runs (`topology.kubernetes.io/region` and `zone`,
`topology.istio.io/subzone`, `kubernetes.io/hostname`, cluster and network) and labels that
controllers add to pods (`pod-template-hash`, `rollouts-pod-template-hash`, ...) are not in a
pod template, so they are not held against it; an empty value of a location label never matches
(Istio does not add empty ones).

Files rarely hold the whole cluster (SPEC §2). A host is reported missing only when it is a
cluster-local Service host and the input holds Services of its namespace; any other host no
Service or ServiceEntry of the input defines is "not in the input" (info), settled by
`known-hosts`. A subset is said to select no pods only when the input holds pods of the host,
and then as a warning (istioctl, which reads the cluster, says error): the pods it must select
may be deployed from files not given. A wildcard host (`*.shop.svc.cluster.local`) applies to
whatever it matches and is not checked.

## Why it matters
A DestinationRule whose host is a typo applies to nothing, silently: its outlier detection,
connection pool limits, TLS settings and load balancer protect no traffic (meshlint's ML303 and
ML304 then do not count them). A subset that selects no pods is a canary that is not there:
every request routed to it fails with `503 UH` (no healthy upstream).

## Example
```yaml
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector:
    matchLabels: {app: reviews, version: v1}
  template:
    metadata:
      labels: {app: reviews, version: v1}
    spec:
      containers:
      - {name: reviews, image: example/reviews:1.0}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}   # no reviews pod has version v2
```

## Fixed example
```yaml
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector:
    matchLabels: {app: reviews, version: v1}
  template:
    metadata:
      labels: {app: reviews, version: v1}
    spec:
      containers:
      - {name: reviews, image: example/reviews:1.0}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
```

## Fix
Fix the host (a short name means the DestinationRule's own namespace: write
`reviews.shop.svc.cluster.local` for another one), export the Service to the DestinationRule's
namespace, or list a host defined elsewhere under `known-hosts`. Deploy the pods a subset must
select, correct its labels, or remove it.

## References
- istio/istio `pkg/config/analysis/analyzers/destinationrule/subset.go`: `istioctl analyze` IST0173 and IST0174
- istio/istio `pkg/config/analysis/analyzers/util/service_lookup.go`: which hosts a namespace sees
- [IST0173](https://istio.io/latest/docs/reference/config/analysis/ist0173/)
- [IST0174](https://istio.io/latest/docs/reference/config/analysis/ist0174/)
- [DestinationRule](https://istio.io/latest/docs/reference/config/networking/destination-rule/)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.registry import FOUND, HIDDEN, KNOWN, MISSING, SHORTHAND, Entry, cluster_local_parts
from ..mesh.workloads import WORKLOAD_KINDS

# Labels Istio adds to an endpoint from where its pod runs (istio/istio
# pilot/pkg/serviceregistry/util/label), and labels controllers add to the pods they create:
# neither is in a pod template, so the input cannot say whether a pod has them.
LOCATION_LABELS = frozenset({
    "topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone",
    "kubernetes.io/hostname", "topology.istio.io/cluster", "topology.istio.io/network",
})
CONTROLLER_LABELS = frozenset({
    "pod-template-hash", "rollouts-pod-template-hash", "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index", "batch.kubernetes.io/job-completion-index",
})


def check(index: Index, options: Options) -> Iterator[Finding]:
    domain = index.facts.domain
    for dr in index.of_kind("DestinationRule"):
        host = dr.spec.get("host")
        if not isinstance(host, str) or not host or host.startswith("*"):
            continue
        export_to = tuple(e for e in dr.spec.get("exportTo") or () if isinstance(e, str))
        found = index.resolve_host(host, dr.namespace, export_to)
        where = ("spec", "host")
        if found.state == KNOWN:
            continue
        if found.state == HIDDEN:
            owner = found.hidden[0].resource
            yield RULE.finding(HOST_NOT_EXPORTED, dr, where, related=(owner.ref,), host=host, owner=owner.display(),
                               ns=_asking(dr.namespace, export_to))
        elif found.state == SHORTHAND:
            svc = found.hidden[0].resource
            yield RULE.finding(SHORTHAND_HOST, dr, where, related=(svc.ref,), host=host,
                               service=f"{svc.namespace}/{svc.name}", full=found.hidden[0].host)
        elif found.state == MISSING:
            name, ns = cluster_local_parts(found.fqdn, domain) or ("", "")
            yield RULE.finding(MISSING_HOST, dr, where, host=host, name=name, ns=ns, fqdn=found.fqdn)
        elif found.state != FOUND or found.entry is None:
            yield RULE.finding(HOST_NOT_IN_INPUT, dr, where, host=host)
        else:
            yield from _subsets(index, dr, host, found.entry)


def _subsets(index: Index, dr, host: str, entry: Entry) -> Iterator[Finding]:
    if not dr.spec.get("subsets"):
        return
    pods = _pod_labels(index, entry)
    noun = "pod" if entry.selector else "endpoint"
    if not pods:
        return  # the pods behind the host are not in the input: unknown, not "none"
    for i, subset in enumerate(dr.spec.get("subsets") or ()):
        if not isinstance(subset, dict):
            continue
        raw = subset.get("labels")
        labels: Mapping[str, str] = raw if isinstance(raw, dict) else {}
        if _selects(labels, pods):
            continue
        shown = ", ".join(f"{k}={v}" for k, v in labels.items())
        yield RULE.finding(SUBSET_SELECTS_NO_PODS, dr, ("spec", "subsets", i, "labels"), related=(entry.resource.ref,),
                           subset=subset.get("name"), labels=shown, host=host, owner=entry.resource.display(),
                           n=len(pods), pods=noun if len(pods) == 1 else noun + "s")


def _pod_labels(index: Index, entry: Entry) -> list[Mapping[str, str]]:
    """The labels of the pods (or ServiceEntry endpoints) behind a registry entry, as far as the
    input holds them."""
    if entry.selector:
        return [w.labels for w in index.workloads_selected(entry.resource.namespace, entry.selector)]
    if entry.resource.kind == "ServiceEntry":
        return [e["labels"] for e in entry.resource.spec.get("endpoints") or ()
                if isinstance(e, dict) and isinstance(e.get("labels"), dict)]
    return []


def _selects(labels: Mapping[str, str], pods: Sequence[Mapping[str, str]]) -> bool:
    """Does a subset's label selector pick at least one of these pods? Labels the input cannot
    know (location, controller-added) are left out; an empty location label never matches."""
    wanted = {}
    for key, value in labels.items():
        if key in LOCATION_LABELS:
            if value == "":
                return False
            continue
        if key in CONTROLLER_LABELS:
            continue
        wanted[key] = value
    return any(all(pod.get(k) == v for k, v in wanted.items()) for pod in pods)


def _asking(namespace: str, export_to: tuple[str, ...]) -> str:
    """The namespaces a resource names hosts from: its own, or those of its exportTo."""
    if not export_to:
        return f"namespace {namespace}"
    return "its exportTo namespaces (" + ", ".join(namespace if e == "." else e for e in export_to) + ")"


MISSING_HOST = Variant(
    "missing-host", Severity.WARNING,
    "host {host} is not found: namespace {ns} has no Service {name} (the input holds that namespace's "
    "Services); this DestinationRule applies to nothing",
    "Fix the host, create Service {ns}/{name}, or add {fqdn} to known-hosts if it is defined elsewhere.")
HOST_NOT_EXPORTED = Variant(
    "host-not-exported", Severity.WARNING,
    "host {host} ({owner}) is not exported to {ns}, so it is not found there; this "
    "DestinationRule applies to nothing",
    "Export {owner} to {ns}, or move the DestinationRule to a namespace that sees it.")
SHORTHAND_HOST = Variant(
    "shorthand-host", Severity.WARNING,
    "host {host} names no service: Istio expands only names without a dot, so it is not Service "
    "{service}; this DestinationRule applies to nothing",
    "Write the host in full: {full}.")
SUBSET_SELECTS_NO_PODS = Variant(
    "subset-selects-no-pods", Severity.WARNING,
    'subset "{subset}" ({labels}) selects none of the {n} {pods} of {owner} in the input; unless '
    "workloads elsewhere carry these labels, requests routed to it fail with 503 UH",
    'Deploy the pods subset "{subset}" must select, correct its labels, or remove it; if its pods are '
    "defined in other files, check them together.")
HOST_NOT_IN_INPUT = Variant(
    "host-not-in-input", Severity.INFO,
    "host {host} is not in the input (no Service or ServiceEntry defines it); if it does not exist, "
    "this DestinationRule applies to nothing",
    "Check the input with the files that define {host}, or list it under known-hosts.")

RULE = Rule(
    code="ML107",
    name="destination-rule-targets-nothing",
    summary="DestinationRule host that does not exist, or subset that selects no pods",
    inputs=frozenset({"DestinationRule", "Service", "ServiceEntry", *WORKLOAD_KINDS}),
    variants=(MISSING_HOST, HOST_NOT_EXPORTED, SHORTHAND_HOST, SUBSET_SELECTS_NO_PODS, HOST_NOT_IN_INPUT),
    check=check,
    istio_codes=frozenset({"IST0173", "IST0174"}),  # DestinationRuleSubsetNotSelectPods, UnknownDestinationRuleHost
)
