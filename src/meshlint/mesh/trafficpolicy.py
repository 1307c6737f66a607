"""DestinationRule traffic policies that apply to a destination (host and subset).

istio/api `networking/v1alpha3/destination_rule.proto`: a subset's `trafficPolicy` overrides
the top-level one field by field for traffic routed to that subset; `portLevelSettings` do so
per port. Circuit breaking is `outlierDetection` (ejects failing endpoints),
`connectionPool.http.maxRetries` (caps concurrent retries; Envoy's default through Istio is
2^32-1, i.e. none) and `retryBudget` (Istio >= 1.27: retries as a percentage of active
requests).

`tls_settings` lists every client TLS block of a DestinationRule (istio/api
`ClientTLSSettings`): top level, per port (`portLevelSettings[].tls`, keyed by the Service
port), per subset, and per port of a subset. A `portLevelSettings` entry replaces the policy
above it wholesale for its port, `tls` included even when the entry sets none (istio/istio
`pilot/pkg/networking/util/util.go`, `MergeSubsetTrafficPolicy`), so each block of every port
also says which ports it does not reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..resource import FieldPath, Resource


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


@dataclass(frozen=True)
class TLSSetting:
    """One `tls` block of a DestinationRule and the traffic it applies to."""

    tls: Mapping[str, Any]
    path: FieldPath  # of the `tls` block in the DestinationRule
    port: int | None = None  # the Service port of a portLevelSettings entry; None: every port
    subset: str | None = None  # the subset it belongs to; None: the host's own policy
    subset_labels: Mapping[str, str] | None = None
    # ports whose portLevelSettings entry replaces this block (for a block of every port)
    overridden: frozenset[int] = frozenset()

    @property
    def mode(self) -> str:
        mode = self.tls.get("mode")
        return mode if isinstance(mode, str) else ""


def _port_number(setting: Mapping[str, Any]) -> int | None:
    port = setting.get("port")
    number = port.get("number") if isinstance(port, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def _policy_tls(policy: Any, path: FieldPath, subset: str | None,
                labels: Mapping[str, str] | None) -> Iterator[TLSSetting]:
    if not isinstance(policy, dict):
        return
    per_port = [(i, p) for i, p in enumerate(policy.get("portLevelSettings") or ()) if isinstance(p, dict)]
    overridden = frozenset(n for _, p in per_port for n in [_port_number(p)] if n is not None)
    if isinstance(policy.get("tls"), dict):
        yield TLSSetting(policy["tls"], (*path, "tls"), None, subset, labels, overridden)
    for i, p in per_port:
        if isinstance(p.get("tls"), dict):
            yield TLSSetting(p["tls"], (*path, "portLevelSettings", i, "tls"), _port_number(p), subset, labels)


def tls_settings(dr: Resource) -> Iterator[TLSSetting]:
    """Every `tls` block of a DestinationRule, the host's own first, then each subset's."""
    yield from _policy_tls(dr.spec.get("trafficPolicy"), ("spec", "trafficPolicy"), None, None)
    for i, s in enumerate(dr.spec.get("subsets") or ()):
        if isinstance(s, dict):
            labels = s.get("labels") if isinstance(s.get("labels"), dict) else {}
            yield from _policy_tls(s.get("trafficPolicy"), ("spec", "subsets", i, "trafficPolicy"),
                                   str(s.get("name", "")), labels)
