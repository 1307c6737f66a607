"""A document is not valid YAML or JSON.

meshlint reads every document of a file on its own. When one of them cannot be parsed, it is
reported at the line the parser stopped on, and the other documents of the file are still
analysed. Files that are not text (binary, not UTF-8), and documents that expand without
bound through YAML aliases (a "billion laughs" alias bomb), are reported the same way.
`istioctl analyze` reads files the same way: a document it cannot convert is reported and
skipped, and the others are analysed (istio/istio `pilot/pkg/config/file/store.go`). A Helm or
Jinja template is not YAML until it is rendered: it is skipped, with a note naming the command
that renders it (`helm template <chart>`), never reported here.

## Why it matters
`kubectl apply` rejects the whole file, so nothing in it reaches the cluster, and every other
tool in the pipeline (Helm, Argo CD, `istioctl analyze`) stops at the first broken document.
A half-applied change is exactly when mesh configuration goes wrong.

## Example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: cart
spec:
  ports: [{name: http, port: 80}   # the flow sequence is never closed
```

## Fixed example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: cart
spec:
  ports: [{name: http, port: 80}]
```

## Fix
Correct the syntax at the reported line. `yamllint` or your editor's YAML support point at
the same place; quote values that contain `: `, `#` or start with `*`, `&`, `!`, `%` or `@`.

## References
- istio/istio `pilot/pkg/config/file/store.go`: how `istioctl analyze` splits and reads files
- [istioctl analyze](https://istio.io/latest/docs/ops/diagnostic-tools/istioctl-analyze/)
- [Objects in Kubernetes](https://kubernetes.io/docs/concepts/overview/working-with-objects/kubernetes-objects/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..load import ProblemKind

PROBLEM_KIND = ProblemKind.UNPARSABLE


def check(index: Index, options: Options) -> Iterator[Finding]:
    for problem in index.problems:
        if problem.kind is PROBLEM_KIND:
            yield RULE.finding(SYNTAX_ERROR, None, problem.path, document=problem.document, line=problem.line,
                               column=problem.column, problem=problem.message)


SYNTAX_ERROR = Variant("syntax-error", Severity.ERROR, "{problem}",
                       "Correct the syntax at this line; the document was not analysed.")

RULE = Rule(
    code="ML001",
    name="invalid-yaml",
    summary="A document is not valid YAML or JSON",
    inputs=frozenset(),
    variants=(SYNTAX_ERROR,),
    check=check,
)
