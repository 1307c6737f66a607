"""What a simulated sidecar does on each hop, the fixes the simulation tries, and its result.

Failure conditions follow Envoy's `retry_on`: a 503 is retried on `5xx`, `gateway-error`,
`503` (Istio's default `retriable-status-codes`); a reset on `reset`, `connect-failure`, `5xx`;
a per-try timeout on `5xx`, `gateway-error`, `reset`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from ..mesh.callgraph import Edge
from ..mesh.retries import parse_duration

STATUSES = ("503", "reset", "timeout")  # how the failing service fails
RETRIABLE = {
    "503": {"5xx", "gateway-error", "503", "retriable-status-codes"},
    "reset": {"reset", "connect-failure", "5xx"},
    "timeout": {"5xx", "gateway-error", "reset"},
}
DEFAULT_OUTLIER_ERRORS = 5  # Istio's consecutive5xxErrors
DEFAULT_EJECTION_TIME = 30.0  # Istio's baseEjectionTime, seconds
MAX_DURATION = 3600.0  # seconds of traffic at most: the timeline holds every second of every service


@dataclass(frozen=True)
class Hop:
    """What a caller's sidecar does for one edge."""

    attempts: int
    retry_on: frozenset[str]
    per_try_timeout: float | None
    timeout: float | None
    budget_percent: float | None
    min_retry_concurrency: int
    max_retries: int | None
    outlier_errors: int | None  # consecutive errors that eject; None = no outlier detection
    ejection_time: float

    @classmethod
    def of(cls, edge: Edge) -> Hop:
        """The hop as the configuration has it."""
        policy = edge.policy
        outlier = edge.outlier
        errors = None
        ejection = DEFAULT_EJECTION_TIME
        if isinstance(outlier, dict):
            consecutive = outlier.get("consecutive5xxErrors", outlier.get("consecutiveErrors",
                                                                          DEFAULT_OUTLIER_ERRORS))
            errors = consecutive if isinstance(consecutive, int) and consecutive > 0 else None
            ejection = parse_duration(outlier.get("baseEjectionTime")) or DEFAULT_EJECTION_TIME
        return cls(attempts=edge.tries - 1,
                   retry_on=frozenset(policy.retry_on) if policy else frozenset(),
                   per_try_timeout=policy.per_try_timeout if policy else None,
                   timeout=edge.timeout, budget_percent=edge.budget_percent,
                   min_retry_concurrency=edge.min_retry_concurrency, max_retries=edge.max_retries,
                   outlier_errors=errors, ejection_time=ejection)


@dataclass(frozen=True)
class FixPolicy:
    """The fixes the simulation compares with: fewer retries on safe conditions only, a retry
    budget on every hop, and outlier detection on every destination."""

    attempts: int = 2
    retry_on: tuple[str, ...] = ("connect-failure", "refused-stream", "503")
    budget_percent: float = 20.0
    outlier_errors: int = DEFAULT_OUTLIER_ERRORS

    def apply(self, hop: Hop) -> Hop:
        """The hop with the fixes: limits already tighter than the fixes' stay."""
        budget = self.budget_percent if hop.budget_percent is None else min(hop.budget_percent, self.budget_percent)
        return replace(hop, attempts=min(hop.attempts, self.attempts), retry_on=frozenset(self.retry_on),
                       budget_percent=budget, outlier_errors=hop.outlier_errors or self.outlier_errors)

    def describe(self) -> str:
        """The fixes in one sentence, for the report."""
        retries = "retry" if self.attempts == 1 else "retries"
        return (f"at most {self.attempts} {retries}, on {','.join(self.retry_on)} only; "
                f"a {self.budget_percent:g}% retryBudget on every hop; outlierDetection "
                f"({self.outlier_errors} consecutive errors eject the destination for {DEFAULT_EJECTION_TIME:g}s)")


FIXES = FixPolicy()


@dataclass
class HopLimits:
    """What held tries back on one hop during a run: why a run's load can stay far below the
    worst case of one request (ML302's figure)."""

    ejections: int = 0  # times outlier detection ejected the destination
    failed_fast: int = 0  # tries never sent: the destination was ejected
    retries_refused: int = 0  # retries a retryBudget or connectionPool.http.maxRetries refused
    timed_out: int = 0  # calls the route's timeout ended while retries were left
    not_retried: int = 0  # failures retryOn does not name, with retries left
    retry_on: tuple[str, ...] = ()  # the hop's retryOn, to say what it does not cover

    def __bool__(self) -> bool:
        return bool(self.ejections or self.failed_fast or self.retries_refused or self.timed_out or self.not_retried)


@dataclass(frozen=True)
class WorstCase:
    """The most tries one request into the entry can make at the failing service along one
    path, as ML302 multiplies them: the product of each hop's tries, whatever the failure."""

    hosts: list[str]
    tries: list[int]  # per hop

    @property
    def amplification(self) -> float:
        product = 1.0
        for t in self.tries:
            product *= t
        return product


@dataclass
class Result:
    """One run: the tries each service received, in all and per second of the run."""

    entry: str
    failed: str
    status: str
    entry_rps: float
    duration: float
    requests: int
    tries: Counter = field(default_factory=Counter)
    timeline: dict[str, list[int]] = field(default_factory=dict)  # tries per second, per service
    worst: WorstCase | None = None  # the closed form, for the failing service
    peak: int = 0  # the most tries one request made at the failing service
    limits: dict[tuple[str, str], HopLimits] = field(default_factory=dict)  # (caller, callee) -> held back

    def rps(self, host: str) -> float:
        return self.tries[host] / self.duration

    def amplification(self, host: str) -> float:
        return self.tries[host] / self.requests if self.requests else 0.0


def requests(rps: float, duration: float) -> int:
    """How many requests enter a run (capped far above what a run can simulate: their product
    may be infinite)."""
    return int(round(min(rps * duration, 2.0**62)))
