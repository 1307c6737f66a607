"""A VirtualService rule or match can never be used: an earlier one takes all its requests.

Istio tries a VirtualService's `http` (or `tcp`, `tls`) rules in order, and the first match
wins. A rule after one without `match` (which takes everything) is never used, nor a rule all
of whose matches an earlier match already takes (the same match, or a broader one: `prefix:
/api` before `prefix: /api/v2`, no `method` before `method: GET`); a single such match of a
rule is ineffective. Same check as `istioctl analyze` IST0130 and IST0131 (istio/istio
`pkg/config/validation/validation.go`, `analyzeUnreachableHTTPRules`), decided field by
field (meshlint's `mesh/matches.py`), so it also finds the rules after a catch-all rule, which
Istio drops (istio/istio `pilot/pkg/networking/core/route/route.go`).

## Why it matters
The rule looks deployed and reviewed, but no request ever reaches it: the canary route, the
fault injection or the special timeout never takes effect, usually because a broader rule was
put first. Nothing reports it at runtime.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api]
  http:
  - match:
    - uri: {prefix: /api}
    route:
    - destination: {host: api, subset: v1}
  - match:
    - uri: {prefix: /api/v2}    # every /api/v2 request matched the rule above
    route:
    - destination: {host: api, subset: v2}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api]
  http:
  - match:
    - uri: {prefix: /api/v2}
    route:
    - destination: {host: api, subset: v2}
  - match:
    - uri: {prefix: /api}
    route:
    - destination: {host: api, subset: v1}
```

## Fix
Put the more specific rule first, make the matches disjoint, or delete the rule or match that
can never be used. Only the last rule may go without a `match`.

## References
- istio/istio `pkg/config/validation/validation.go`: `istioctl analyze` IST0130 and IST0131
- istio/istio `pilot/pkg/networking/core/route/route.go`: routes after a catch-all are dropped
- [IST0130](https://istio.io/latest/docs/reference/config/analysis/ist0130/)
- [VirtualService: HTTPMatchRequest](https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.matches import shadowed
from ..mesh.routes import ROUTE_KINDS


def _rule_name(kind: str, i: int, rule: Any) -> str:
    name = rule.get("name") if isinstance(rule, Mapping) else None
    return f'{kind} rule "{name}"' if isinstance(name, str) and name else f"{kind}[{i}]"


def check(index: Index, options: Options) -> Iterator[Finding]:
    for vs in index.of_kind("VirtualService"):
        for kind in ROUTE_KINDS:
            rules = vs.spec.get(kind)
            if not isinstance(rules, list) or len(rules) < 1:
                continue
            for s in shadowed(rules):
                by = _rule_name(kind, s.by_rule, rules[s.by_rule])
                if s.by_match is not None:
                    by += f" (match {s.by_match})"
                if s.match is None:
                    variant = AFTER_CATCH_ALL if s.catch_all else UNREACHABLE_RULE
                    yield RULE.finding(variant, vs, ("spec", kind, s.rule),
                                       rule=_rule_name(kind, s.rule, rules[s.rule]), by=by)
                else:
                    yield RULE.finding(INEFFECTIVE_MATCH, vs, ("spec", kind, s.rule, "match", s.match),
                                       rule=_rule_name(kind, s.rule, rules[s.rule]), match=s.match, by=by)


UNREACHABLE_RULE = Variant(
    "unreachable-rule", Severity.WARNING,
    "{rule} is never used: every request it matches is taken first by {by}",
    "Move {rule} before {by}, make their matches disjoint, or delete it.")
AFTER_CATCH_ALL = Variant(
    "rule-after-catch-all", Severity.WARNING,
    "{rule} is never used: {by} has no match and takes every request first",
    "Move {rule} before {by}, or delete it; only the last rule may go without a match.")
INEFFECTIVE_MATCH = Variant(
    "ineffective-match", Severity.INFO,
    "match {match} of {rule} is never used: every request it matches is taken first by {by}",
    "Delete match {match} of {rule}, or move what it must catch before {by}.")

RULE = Rule(
    code="ML109",
    name="unreachable-route-rule",
    summary="VirtualService rule or match shadowed by an earlier one",
    inputs=frozenset({"VirtualService"}),
    variants=(UNREACHABLE_RULE, AFTER_CATCH_ALL, INEFFECTIVE_MATCH),
    check=check,
    istio_codes=frozenset({"IST0130", "IST0131"}),  # VirtualServiceUnreachableRule, VirtualServiceIneffectiveMatch
)
