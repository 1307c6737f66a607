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
from dataclasses import dataclass
from typing import Any

from ..resource import Ref, Resource


@dataclass(frozen=True)
class HostPolicies:
    """What the DestinationRules of one host set, read once for every route to the host: the
    protection of any subset (a top-level or port-level policy) and of named subsets (a
    subset's own policy), the subsets they define, and the rules themselves."""

    refs: tuple[Ref, ...]
    breaker_everywhere: bool = False
    breaker_subsets: frozenset[str] = frozenset()
    outlier_everywhere: bool = False
    outlier_subsets: frozenset[str] = frozenset()
    subsets: frozenset[Any] = frozenset()  # the names of the subsets they define

    def has_circuit_breaker(self, subset: str | None) -> bool:
        return self.breaker_everywhere or bool(subset) and subset in self.breaker_subsets

    def has_outlier_detection(self, subset: str | None) -> bool:
        return self.outlier_everywhere or bool(subset) and subset in self.outlier_subsets


def summarise(rules: Iterable[Resource]) -> HostPolicies:
    """The HostPolicies of the DestinationRules of one host."""
    refs: list[Ref] = []
    breaker_everywhere = outlier_everywhere = False
    breaker_subsets: set[str] = set()
    outlier_subsets: set[str] = set()
    subsets: set[Any] = set()
    for dr in rules:
        refs.append(dr.ref)
        top = dr.spec.get("trafficPolicy")
        if isinstance(top, dict):
            for policy in [top] + [p for p in top.get("portLevelSettings") or () if isinstance(p, dict)]:
                breaker_everywhere = breaker_everywhere or _breaks_circuit(policy)
                outlier_everywhere = outlier_everywhere or policy.get("outlierDetection") is not None
        for subset in dr.spec.get("subsets") or ():
            if not isinstance(subset, dict):
                continue
            name = subset.get("name")
            subsets.add(name)
            own = subset.get("trafficPolicy")
            if name and isinstance(own, dict):
                if _breaks_circuit(own):
                    breaker_subsets.add(name)
                if own.get("outlierDetection") is not None:
                    outlier_subsets.add(name)
    return HostPolicies(tuple(refs), breaker_everywhere, frozenset(breaker_subsets), outlier_everywhere,
                        frozenset(outlier_subsets), frozenset(subsets))


def _breaks_circuit(policy: Mapping[str, Any]) -> bool:
    if policy.get("outlierDetection") is not None or policy.get("retryBudget") is not None:
        return True
    http = (policy.get("connectionPool") or {}).get("http") if isinstance(policy.get("connectionPool"), dict) else None
    return isinstance(http, dict) and http.get("maxRetries") is not None
