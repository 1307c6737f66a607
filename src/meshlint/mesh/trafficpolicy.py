"""DestinationRule traffic policies that apply to a destination (host and subset).

istio/api `networking/v1alpha3/destination_rule.proto`: a subset's `trafficPolicy` overrides
the top-level one field by field for traffic routed to that subset; `portLevelSettings` do so
per port. Circuit breaking is `outlierDetection` (ejects failing endpoints),
`connectionPool.http.maxRetries` (caps concurrent retries; Envoy's default through Istio is
2^32-1, i.e. none) and `retryBudget` (Istio >= 1.27: retries as a percentage of active
requests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..resource import Resource


def policies(rules: Iterable[Resource], subset: str | None) -> list[Mapping[str, Any]]:
    """The trafficPolicy blocks that can apply: top level, port level, and the subset's own."""
    out: list[Mapping[str, Any]] = []
    for dr in rules:
        top = dr.spec.get("trafficPolicy")
        if isinstance(top, dict):
            out.append(top)
            out += [p for p in top.get("portLevelSettings") or () if isinstance(p, dict)]
        if subset:
            for s in dr.spec.get("subsets") or ():
                if isinstance(s, dict) and s.get("name") == subset and isinstance(s.get("trafficPolicy"), dict):
                    out.append(s["trafficPolicy"])
    return out


def has_outlier_detection(rules: Iterable[Resource], subset: str | None) -> bool:
    return any(p.get("outlierDetection") is not None for p in policies(rules, subset))


def has_circuit_breaker(rules: Iterable[Resource], subset: str | None) -> bool:
    for p in policies(rules, subset):
        if p.get("outlierDetection") is not None or p.get("retryBudget") is not None:
            return True
        http = (p.get("connectionPool") or {}).get("http") if isinstance(p.get("connectionPool"), dict) else None
        if isinstance(http, dict) and http.get("maxRetries") is not None:
            return True
    return False
