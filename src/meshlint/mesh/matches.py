"""Which VirtualService rules and matches can never be used, because an earlier one takes every
request they would.

Routes are tried in order and the first whose match takes a request wins (Envoy); a rule with
no `match` takes everything, and Istio stops generating routes after it (istio/istio
`pilot/pkg/networking/core/route/route.go`, `BuildHTTPRoutesForVirtualService`). A match is
*covered* by an earlier one when every request it takes, the earlier one takes too; a rule all
of whose matches are covered is unreachable.

`istioctl analyze` (IST0130 VirtualServiceUnreachableRule, IST0131
VirtualServiceIneffectiveMatch; istio/istio `pkg/config/validation/validation.go`,
`analyzeUnreachableHTTPRules`) compares matches by their JSON (identical matches), a rule
without match after another one, and URI prefixes; this module decides coverage field by field
instead, so that it finds the same cases and never one that Envoy would still route:

- a string match (`uri`, `method`, `authority`, `scheme`, a header or query parameter): absent
  covers everything; `prefix: p` covers `prefix`/`exact` values starting with `p`; `exact` and
  `regex` cover only themselves;
- `headers`, `queryParams`: each of the earlier match's entries must be in the later one and
  cover it; `withoutHeaders`: the earlier match's must all be in the later one, equal;
- `port`, `sourceNamespace`: absent, or equal; `sourceLabels`: the earlier ones a subset of the
  later ones; `gateways`: absent (the VirtualService's), or a superset of the later ones;
- `ignoreUriCase` must agree (or the earlier one ignores case and covers the lower-cased URI);
- any other field (`name`, `statPrefix` aside) must be equal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

IGNORED = frozenset({"name", "statPrefix"})
STRINGS = ("uri", "method", "authority", "scheme")
KNOWN = frozenset({*STRINGS, *IGNORED, "headers", "queryParams", "withoutHeaders", "port", "sourceNamespace",
                   "sourceLabels", "gateways", "ignoreUriCase"})


def string_covers(a: Any, b: Any) -> bool:
    """Does StringMatch `a` take every value StringMatch `b` takes? (None = any value.)"""
    if a is None:
        return True
    if b is None or not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return False
    if not a:  # `{}`: the header is present, any value
        return True
    if "prefix" in a and isinstance(a["prefix"], str):
        for kind in ("prefix", "exact"):
            if isinstance(b.get(kind), str):
                return b[kind].startswith(a["prefix"])
        return False
    return dict(a) == dict(b)


def _entries_cover(a: Any, b: Any) -> bool:
    """headers / queryParams: every entry of `a` is in `b` and covers it."""
    a = a or {}
    b = b or {}
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return False
    return all(key in b and string_covers(value, b[key]) for key, value in a.items())


def _uri_covers(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    ua, ub = a.get("uri"), b.get("uri")
    a_nocase, b_nocase = bool(a.get("ignoreUriCase")), bool(b.get("ignoreUriCase"))
    if ua is None:
        return True
    if a_nocase == b_nocase:
        return string_covers(ua, ub)
    if a_nocase and isinstance(ub, Mapping):
        lower = {k: v.lower() if isinstance(v, str) and k in ("prefix", "exact") else v for k, v in ub.items()}
        upper = {k: v.lower() if isinstance(v, str) and k in ("prefix", "exact") else v for k, v in ua.items()}
        return string_covers(upper, lower)
    return False


def covers(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Does HTTP/TCP/TLS match `a` (None: the rule has no match) take every request match `b`
    takes?"""
    if a is None:
        return True
    if b is None:
        b = {}
    for key in set(a) | set(b):
        if key in IGNORED or key in ("uri", "ignoreUriCase"):
            continue
        va, vb = a.get(key), b.get(key)
        if key in STRINGS:
            ok = string_covers(va, vb)
        elif key in ("headers", "queryParams"):
            ok = _entries_cover(va, vb)
        elif key == "withoutHeaders" or key == "sourceLabels":
            ok = all(isinstance(vb, Mapping) and vb.get(k) == v for k, v in (va or {}).items())
        elif key == "gateways":
            ok = not va or (bool(vb) and set(vb or ()) <= set(va))
        elif key in ("port", "sourceNamespace"):
            ok = va is None or va == vb
        else:  # a field this module does not model (sniHosts, destinationSubnets, ...)
            ok = _canonical(va) == _canonical(vb)
        if not ok:
            return False
    return _uri_covers(a, b)


def _canonical(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        value = sorted(value, key=str)
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class Shadowed:
    """A match (`match` set) or a whole rule (`match` None) that can never take a request,
    and the earlier rule (and match) that takes its requests; `catch_all` when that earlier
    rule has no match at all."""

    rule: int
    match: int | None
    by_rule: int
    by_match: int | None
    catch_all: bool = False


def shadowed(rules: Sequence[Mapping[str, Any]]) -> Iterator[Shadowed]:
    """Every unreachable rule and ineffective match of one route list (http, tcp or tls), in
    order. A rule all of whose matches are covered is reported once, as a rule."""
    earlier: list[tuple[int, int | None, Mapping[str, Any] | None]] = []  # (rule, match, match spec)
    for r, rule in enumerate(rules):
        raw = rule.get("match") if isinstance(rule, Mapping) else None
        matches = [m for m in raw if isinstance(m, Mapping)] if isinstance(raw, list) and raw else []
        if not matches:
            hit = next(((er, em) for er, em, spec in earlier if spec is None), None)
            if hit is not None:
                yield Shadowed(r, None, hit[0], hit[1], catch_all=True)
            earlier.append((r, None, None))
            continue
        covered: list[tuple[int, int, int | None, bool]] = []
        for m, match in enumerate(matches):
            cover = next(((er, em, spec is None) for er, em, spec in earlier if covers(spec, match)), None)
            if cover is not None:
                covered.append((m, *cover))
            earlier.append((r, m, match))
        if covered and len(covered) == len(matches) and all(by < r for _, by, _, _ in covered):
            m, by, bm, catch_all = covered[0]
            yield Shadowed(r, None, by, bm, catch_all=catch_all)
        else:
            for m, by, bm, catch_all in covered:
                yield Shadowed(r, m, by, bm, catch_all=catch_all)
