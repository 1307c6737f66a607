"""An Istio annotation or label is where Istio never reads it, is not Istio's, or has a value
Istio refuses.

Istio reads each of its annotations on one kind of object (istio/api
`annotation/annotations.yaml`, carried as data in `mesh/annotations.py`): the sidecar
settings on pods, `networking.istio.io/exportTo` on Services, and so on. Reported, as
`istioctl analyze` does (istio/istio `pkg/config/analysis/analyzers/annotations/annotations.go`),
for Namespaces, Services, Pods, every workload controller (Deployment, StatefulSet, DaemonSet,
Job, CronJob, ReplicaSet, Argo Rollout) and every pod template, which is what the controller
creates and the injector reads:

- a misplaced annotation (IST0107): on a kind Istio does not read it on. On a controller's
  own metadata it is the classic footgun: `sidecar.istio.io/inject: "false"` there does not
  keep the sidecar out of the Job's pods, and `sidecar.istio.io/proxyCPU` or
  `sidecar.istio.io/rewriteAppHTTPProbers` there change nothing;
- an unknown annotation in Istio's namespace (a key whose prefix ends with `istio.io`), with
  the catalogue name it most likely meant (IST0108);
- a value the injector refuses (IST0125; istio/istio `pkg/kube/inject/validate.go`): ports,
  CIDR lists, `interceptionMode`, the readiness settings, `proxy.istio.io/config`.

The catalogue also marks deprecated annotations (such as the `sidecar.istio.io/inject`
annotation, deprecated in favour of the label); `istioctl analyze` reports those as IST0135,
which is advice rather than a footgun, and meshlint does not.

Labels that Istio reads on pods (`sidecar.istio.io/inject`, `istio.io/rev`,
`istio.io/dataplane-mode`) on a controller's own metadata and not on its pod template do
nothing either; `istio-injection` is read on Namespaces only.

## Why it matters
Kubernetes accepts any annotation anywhere, and Istio says nothing about the ones it does not
read. The fix of a footgun then looks applied and is not: the Job still hangs on its sidecar
(footgun 2), the proxy keeps the global resources (footgun 6), probes are still rewritten or
not (footgun 7). A typo (`sidecar.istio.io/proxyCpu`) fails the same silent way.

## Example
```yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
  annotations:
    sidecar.istio.io/inject: "false"   # the Job's metadata: no pod ever sees it
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: ghcr.io/example/shop-migrations:2.3.0
```

## Fixed example
```yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
spec:
  template:
    metadata:
      labels:
        sidecar.istio.io/inject: "false"   # on the pod, as a label
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: ghcr.io/example/shop-migrations:2.3.0
```

## Fix
Put pod settings under the pod template's `metadata` (`spec.template.metadata`, for a CronJob
`spec.jobTemplate.spec.template.metadata`); use the label `sidecar.istio.io/inject` rather than
the deprecated annotation; correct the name or value of an annotation Istio does not know or
refuses.

## References
- istio/istio `pkg/config/analysis/analyzers/annotations/annotations.go`: IST0107, IST0108, IST0125
- istio/istio `pkg/kube/inject/validate.go`: the values the injector accepts
- [istio/api annotations.yaml](https://github.com/istio/api/blob/master/annotation/annotations.yaml): the catalogue
- [Resource Annotations](https://istio.io/latest/docs/reference/config/annotations/)
- [IST0107 MisplacedAnnotation](https://istio.io/latest/docs/reference/config/analysis/ist0107/)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh import annotations as catalogue
from ..mesh.workloads import WORKLOAD_KINDS, Workload
from ..resource import FieldPath, Resource


def _template_where(w: Workload) -> str:
    return ".".join(str(step) for step in w.metadata_path)


def check(index: Index, options: Options) -> Iterator[Finding]:
    for kind in ("Namespace", "Service"):
        for r in index.of_kind(kind):
            yield from _annotations(r, kind, r.annotations, ("metadata",), None)
    for w in index.workloads():
        if w.path:  # a controller: its own metadata first, then its pod template
            r = w.resource
            yield from _annotations(r, r.kind, r.annotations, ("metadata",), w)
            yield from _controller_labels(w)
        yield from _annotations(w.resource, "Pod", w.annotations, w.metadata_path, None)
        yield from _namespace_labels(w.resource, w.labels, w.metadata_path, "a pod")


def _annotations(r: Resource, kind: str, annotations: Mapping[str, Any], meta: FieldPath,
                 controller: Workload | None) -> Iterator[Finding]:
    """annotations.go `allowAnnotations`, for the annotations at `meta` read as `kind`;
    `controller` is set when they are a workload controller's own."""
    for key, value in annotations.items():
        if not isinstance(key, str) or not catalogue.is_istio_annotation(key):
            continue
        path = (*meta, "annotations", key)
        known = catalogue.lookup(key)
        if known is None:
            meant = catalogue.suggestion(key)
            if meant:
                yield RULE.finding(UNKNOWN_TYPO, r, path, key=key, meant=meant)
            else:
                yield RULE.finding(UNKNOWN, r, path, key=key)
            continue
        if catalogue.placed_on(known, kind):
            why = catalogue.invalid_value(key, value)
            if why:
                yield RULE.finding(INVALID, r, path, key=key, value=value, why=why)
            continue
        kinds = " and ".join(_plural(k) for k in known.resources)
        if controller is not None and catalogue.POD in known.resources:
            where = _template_where(controller)
            if key in controller.annotations:
                yield RULE.finding(MISPLACED_REDUNDANT, r, path, key=key, kind=kind, where=where)
            else:
                yield RULE.finding(MISPLACED_ON_CONTROLLER, r, path, key=key, kind=kind, where=where)
        else:
            yield RULE.finding(MISPLACED, r, path, key=key, kind=kind, kinds=kinds)


def _plural(kind: str) -> str:
    return kind + ("es" if kind.endswith("s") else "s")


def _controller_labels(w: Workload) -> Iterator[Finding]:
    """Pod labels on a controller's own metadata, and not on its pod template."""
    r = w.resource
    for key in catalogue.POD_LABELS:
        if key in r.labels and key not in w.labels:
            yield RULE.finding(LABEL_ON_CONTROLLER, r, ("metadata", "labels", key), key=key, kind=r.kind,
                               where=_template_where(w))


def _namespace_labels(r: Resource, labels: Mapping[str, Any], meta: FieldPath, what: str) -> Iterator[Finding]:
    for key in catalogue.NAMESPACE_ONLY_LABELS:
        if key in labels:
            yield RULE.finding(NAMESPACE_LABEL, r, (*meta, "labels", key), key=key, what=what)


MISPLACED_ON_CONTROLLER = Variant(
    "misplaced-on-controller", Severity.WARNING,
    "annotation {key} on the {kind}'s own metadata does nothing: Istio reads it on pods, from {where}",
    "Move it to {where}.annotations.")
MISPLACED = Variant(
    "misplaced", Severity.WARNING,
    "annotation {key} does nothing on a {kind}: Istio reads it on {kinds}",
    "Move it to the object it configures ({kinds}), or remove it.")
MISPLACED_REDUNDANT = Variant(
    "misplaced-redundant", Severity.INFO,
    "annotation {key} on the {kind}'s own metadata does nothing: Istio reads the copy in {where}",
    "Remove it from the {kind}'s metadata.")
UNKNOWN_TYPO = Variant(
    "unknown-typo", Severity.WARNING,
    "annotation {key} is not an Istio annotation (did you mean {meant}?): Istio ignores it",
    "Rename it to {meant}.")
UNKNOWN = Variant(
    "unknown", Severity.WARNING,
    "annotation {key} is in Istio's namespace but is not an Istio annotation: Istio ignores it",
    "Check the name against Istio's annotation reference, or remove it.")
INVALID = Variant(
    "invalid", Severity.WARNING,
    "annotation {key}: {value!r} is not a value Istio accepts ({why})",
    "Give it a value in the form Istio's injector validates.")
LABEL_ON_CONTROLLER = Variant(
    "label-on-controller", Severity.WARNING,
    "label {key} on the {kind}'s own metadata does nothing: Istio reads it on pods, from {where}",
    "Move it to {where}.labels.")
NAMESPACE_LABEL = Variant(
    "namespace-label", Severity.WARNING,
    "label {key} does nothing on {what}: Istio reads it on Namespaces only",
    "Label the Namespace instead, or use the pod label sidecar.istio.io/inject.")

RULE = Rule(
    code="ML405",
    name="annotation-ignored",
    summary="Istio annotation or label that is misplaced, unknown or invalid",
    inputs=frozenset({"Namespace", "Service", *WORKLOAD_KINDS}),
    variants=(MISPLACED_ON_CONTROLLER, MISPLACED, MISPLACED_REDUNDANT, UNKNOWN_TYPO, UNKNOWN, INVALID,
              LABEL_ON_CONTROLLER, NAMESPACE_LABEL),
    check=check,
    istio_codes=frozenset({"IST0107", "IST0108", "IST0125"}),
)
