"""A document is not a valid Kubernetes object, or a field has the wrong type.

Every document that claims to be an object (it sets `apiVersion` or `kind`) must be a mapping
with `apiVersion`, `kind` and `metadata.name`. The fields that meshlint's rules read are also
checked for their type: `ports` must be a list, `attempts` an integer, labels and annotations
strings. A resource that fails is reported at the offending field and left out of the
analysis; the other documents are analysed as usual. `istioctl analyze` rejects an object
without a kind the same way (istio/istio `pilot/pkg/config/file/store.go`) and reports Istio
objects that fail their schema as IST0106 (istio/istio
`pkg/config/analysis/analyzers/schema/validation.go`). Documents that are not Kubernetes
objects at all (neither `apiVersion` nor `kind`, a list, Helm's `Chart.yaml`, kustomize and
skaffold configuration) are skipped, not reported: `meshlint check --verbose` lists them.

## Why it matters
The Kubernetes API server rejects such an object (`kubectl apply` fails with "cannot
unmarshal"), so the configuration you reviewed is not the configuration that runs. Unquoted
values are the usual cause: `sidecar.istio.io/inject: true` is a boolean, not the string
`"true"`, and `version: 1.10` is the number 1.1.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: cart
spec:
  hosts: [cart]
  http:
  - retries:
      attempts: "five"   # must be an integer
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: cart
spec:
  hosts: [cart]
  http:
  - retries:
      attempts: 2
    route:
    - destination: {host: cart}
```

## Fix
Give the field the type the API expects: quote label and annotation values, write numbers
without quotes, and use lists (`- item`) where a list is expected.

## References
- istio/istio `pilot/pkg/config/file/store.go`: documents without a kind are rejected
- istio/istio `pkg/config/analysis/analyzers/schema/validation.go`: schema validation in `istioctl analyze`
- [IST0106 SchemaValidationError](https://istio.io/latest/docs/reference/config/analysis/ist0106/)
- [Objects in Kubernetes](https://kubernetes.io/docs/concepts/overview/working-with-objects/kubernetes-objects/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..load import ProblemKind

PROBLEM_KIND = ProblemKind.INVALID_OBJECT


def check(index: Index, options: Options) -> Iterator[Finding]:
    for problem in index.problems:
        if problem.kind is PROBLEM_KIND:
            if problem.resource is not None:
                yield RULE.finding(INVALID_OBJECT, problem.resource, problem.path[len(problem.resource.prefix):],
                                   problem=problem.message)
            elif problem.missing:
                yield RULE.finding(MISSING_FIELDS, None, problem.path, document=problem.document,
                                   problem=problem.message, missing=" and ".join(problem.missing))
            else:
                yield RULE.finding(INVALID_OBJECT, None, problem.path, document=problem.document,
                                   problem=problem.message)


MISSING_FIELDS = Variant(
    "missing-fields", Severity.ERROR, "{problem}",
    "Add {missing}: the API server needs apiVersion, kind and metadata.name on every object; the "
    "document was not analysed.")
INVALID_OBJECT = Variant(
    "invalid-object", Severity.ERROR, "{problem}",
    "Give the field the type the Kubernetes API expects (quote strings, unquote numbers); "
    "the resource was not analysed.")

RULE = Rule(
    code="ML002",
    name="invalid-resource",
    summary="A document is not a valid Kubernetes object",
    inputs=frozenset(),
    variants=(INVALID_OBJECT, MISSING_FIELDS),
    check=check,
)
