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

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resource import FieldPath, Ref, Resource


@dataclass
class Protection:
    """Which subsets of a host one kind of policy (circuit breaking, outlier detection) protects:
    all of them (a top-level or port-level policy) or named ones (a subset's own policy); and,
    among the DestinationRules whose host names nothing (which protect nothing), the first that
    would have."""

    everywhere: bool = False
    subsets: set[str] = field(default_factory=set)
    # (position among the host's DestinationRules, the rule): the first whose host names nothing
    void_everywhere: tuple[int, Resource] | None = None
    void_subsets: dict[str, tuple[int, Resource]] = field(default_factory=dict)

    def covers(self, subset: str | None) -> bool:
        return self.everywhere or bool(subset) and subset in self.subsets

    def void_cover(self, subset: str | None) -> Resource | None:
        """The first DestinationRule that would protect `subset` but names nothing."""
        found = [v for v in (self.void_everywhere, self.void_subsets.get(subset) if subset else None) if v]
        return min(found, key=lambda v: v[0])[1] if found else None

    def add(self, position: int, dr: Resource, subset: str | None, void: bool) -> None:
        """`dr` sets the policy, at the top level (`subset` None) or for `subset`."""
        if not void:
            if subset is None:
                self.everywhere = True
            else:
                self.subsets.add(subset)
        elif subset is None:
            self.void_everywhere = self.void_everywhere or (position, dr)
        else:
            self.void_subsets.setdefault(subset, (position, dr))


@dataclass
class HostPolicies:
    """What the DestinationRules of one host set, read once for every route to the host."""

    refs: tuple[Ref, ...]  # all of them, in the input's order
    breaker: Protection
    outlier: Protection


def summarise(rules: Iterable[Resource], names_nothing: Callable[[Resource], bool]) -> HostPolicies:
    """The HostPolicies of the DestinationRules of one host; `names_nothing`: does a rule's
    host name nothing (so that its policies protect nothing)?"""
    refs: list[Ref] = []
    breaker, outlier = Protection(), Protection()
    for position, dr in enumerate(rules):
        refs.append(dr.ref)
        void = names_nothing(dr)
        top = dr.spec.get("trafficPolicy")
        if isinstance(top, dict):
            for policy in [top] + [p for p in top.get("portLevelSettings") or () if isinstance(p, dict)]:
                if _breaks_circuit(policy):
                    breaker.add(position, dr, None, void)
                if policy.get("outlierDetection") is not None:
                    outlier.add(position, dr, None, void)
        for subset in dr.spec.get("subsets") or ():
            own = subset.get("trafficPolicy") if isinstance(subset, dict) else None
            if isinstance(own, dict) and subset.get("name"):
                if _breaks_circuit(own):
                    breaker.add(position, dr, subset["name"], void)
                if own.get("outlierDetection") is not None:
                    outlier.add(position, dr, subset["name"], void)
    return HostPolicies(tuple(refs), breaker, outlier)


def _breaks_circuit(policy: Mapping[str, Any]) -> bool:
    if policy.get("outlierDetection") is not None or policy.get("retryBudget") is not None:
        return True
    http = (policy.get("connectionPool") or {}).get("http") if isinstance(policy.get("connectionPool"), dict) else None
    return isinstance(http, dict) and http.get("maxRetries") is not None


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
