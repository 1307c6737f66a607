"""A suppression annotation names a code that is no rule, so it suppresses nothing.

The annotation `meshlint.io/ignore` takes a comma-separated list of rule codes (`ML101,ML301`)
or `*` (SPEC §4). A code that names no rule (a typo such as `ML1O1`, a prefix such as `ML1`,
another tool's code) matches no finding: the finding the author meant to silence is still
reported, or, worse, a later one is not noticed as new. Like ruff's check of `noqa` codes,
meshlint reports it instead of ignoring it silently. The `galley.istio.io/analyze-suppress`
annotation belongs to `istioctl analyze` and may name any of its codes: it is not checked.
`istioctl analyze` itself drops a message only when the annotation names its exact code or
`*`, and says nothing of codes that match nothing (istio/istio
`pkg/config/analysis/local/istiod_analyze.go`, `filterMessages`).

## Why it matters
A suppression is a reviewed decision that a finding is acceptable. When the code is wrong, the
decision does not take effect, and nobody sees why the finding is still there, or the wrong
code stays in the manifest for years, suppressing nothing, while readers believe it does.

## Example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: legacy-db
  namespace: shop
  annotations:
    meshlint.io/ignore: "ML1O1"   # meant ML101
spec:
  selector: {app: legacy-db}
  ports:
  - {name: http, port: 5432}
```

## Fixed example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: legacy-db
  namespace: shop
  annotations:
    meshlint.io/ignore: "ML101"
spec:
  selector: {app: legacy-db}
  ports:
  - {name: http, port: 5432}
```

## Fix
Write the codes of the rules to suppress (`meshlint rules` lists them, `meshlint rule CODE`
explains one), or `*` for all of them, and remove codes that name no rule.

## References
- istio/istio `pkg/config/analysis/local/istiod_analyze.go`: how `istioctl analyze` applies its suppression annotation
- [ruff: unused or unknown noqa codes (RUF100)](https://docs.astral.sh/ruff/rules/unused-noqa/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..suppress import ANNOTATION, codes_in


def check(index: Index, options: Options) -> Iterator[Finding]:
    from . import BY_CODE, look_alike  # the catalogue this module is part of

    known = sorted(BY_CODE)
    for resource in index.annotated(ANNOTATION):
        value = resource.annotations[ANNOTATION]
        unknown = sorted(c for c in codes_in(str(value)) if c != "*" and c not in BY_CODE)
        if not unknown:
            continue
        close: list[str] = []
        for code in unknown:  # a look-alike letter names one code; otherwise every code one slip away
            meant = look_alike(code)
            close += [meant] if meant in BY_CODE else [k for k in known if _one_slip(code, k)]
        hint = f" (did you mean {', '.join(dict.fromkeys(close))}?)" if close else ""
        codes = ", ".join(unknown)
        yield RULE.finding(UNKNOWN_CODE if len(unknown) == 1 else UNKNOWN_CODES, resource,
                           ("metadata", "annotations", ANNOTATION), codes=codes, annotation=ANNOTATION, hint=hint)


def _one_slip(typed: str, code: str) -> bool:
    """One typing slip apart: a character replaced (ML1O1), or two neighbours swapped (ML110)."""
    if len(typed) != len(code):
        return False
    diffs = [i for i, (a, b) in enumerate(zip(typed, code)) if a != b]
    if len(diffs) == 1:
        return True
    return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and typed[diffs[0]] == code[diffs[1]] \
        and typed[diffs[1]] == code[diffs[0]]


UNKNOWN_CODE = Variant(
    "unknown-code", Severity.WARNING,
    "{annotation} names {codes}, which is no rule code{hint}: it suppresses nothing",
    "Write the codes of the rules to suppress (see meshlint rules), or * for all of them.")
UNKNOWN_CODES = Variant(
    "unknown-codes", Severity.WARNING,
    "{annotation} names {codes}, which are no rule codes{hint}: they suppress nothing",
    "Write the codes of the rules to suppress (see meshlint rules), or * for all of them.")

RULE = Rule(
    code="ML003",
    name="suppression-code-unknown",
    summary="Suppression annotation names a code that is no rule",
    inputs=frozenset(),  # the annotations of every kind, like the input rules read every document
    variants=(UNKNOWN_CODE, UNKNOWN_CODES),
    check=check,
)
