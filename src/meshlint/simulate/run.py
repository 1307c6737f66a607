"""The retry storm, simulated with discrete events (simpy).

Requests arrive at the entry service at `rps`, evenly spaced, for `duration` seconds. Every
service, on each request, calls all of its dependencies in parallel; a call goes through the
caller's sidecar, which tries it up to `1 + attempts` times (the hop's effective retry policy,
see `meshlint.mesh.retries`), on the conditions of `retryOn`, with Envoy's back-off (25 ms
base, doubling, at most 250 ms), the route's `perTryTimeout` and `timeout`, the destination's
retry budget (`retryBudget`: concurrent retries at most `percent` of active requests, at least
`minRetryConcurrency`) and `connectionPool.http.maxRetries`, and outlier detection (after
`consecutive5xxErrors` failures, default 5, the caller's sidecar ejects the destination for
`baseEjectionTime`, default 30 s, and fails fast without sending it anything). The failing
service answers 503, resets the connection, or never answers (`timeout`). A caller whose
dependency still fails after its retries fails the same way, so retries compound up the chain.

The load at a service is the number of tries it receives; amplification is that load divided
by the requests that entered. On a plain chain without budgets the result is exactly the
closed form `(1+a)^depth`. The same run is repeated with the fixes of `model.FixPolicy`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

import simpy

from ..mesh.callgraph import Graph
from .model import RETRIABLE, STATUSES, FixPolicy, Hop, Result

SERVICE_TIME = 0.002  # seconds each healthy service spends before calling its dependencies
BACKOFF_BASE, BACKOFF_MAX = 0.025, 0.25  # Envoy's retry back-off
HANG = 3600.0  # a service that never answers
MAX_TRIES = 2_000_000  # stop a run that would simulate more tries than this


class TooLarge(Exception):
    """The run would exceed MAX_TRIES: lower --rps or --duration."""


class _Cluster:
    """One caller sidecar's view of one destination: active requests and retries, outlier state."""

    def __init__(self) -> None:
        self.active = 0
        self.retrying = 0
        self.consecutive = 0
        self.ejected_until = -1.0


class Simulation:
    """One run over `graph`: `rps` requests a second into `entry` for `duration` seconds while
    `failed` fails with `status`; with `fixes`, every hop has them applied."""

    def __init__(self, graph: Graph, entry: str, failed: str, status: str = "503", rps: float = 100.0,
                 duration: float = 10.0, fixes: FixPolicy | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        self.graph, self.entry, self.failed, self.status = graph, entry, failed, status
        self.rps, self.duration = rps, duration
        self.env = simpy.Environment()
        hops = {key: Hop.of(e) for key, e in graph.edges.items()}
        self.hops = hops if fixes is None else {key: fixes.apply(hop) for key, hop in hops.items()}
        self.clusters: dict[tuple[str, str], _Cluster] = defaultdict(_Cluster)
        self.tries: Counter = Counter()
        self.timeline: dict[str, Counter] = defaultdict(Counter)
        self.total = 0

    # -- processes ---------------------------------------------------------------------------

    def _serve(self, host: str):
        """A try arriving at `host`: its outcome ("ok", "503", "reset", "timeout")."""
        self.tries[host] += 1
        self.timeline[host][int(self.env.now)] += 1
        self.total += 1
        if self.total > MAX_TRIES:
            raise TooLarge(f"more than {MAX_TRIES:,} tries; lower --rps or --duration")
        if host == self.failed:
            if self.status == "timeout":
                yield self.env.timeout(HANG)
                return "timeout"
            yield self.env.timeout(SERVICE_TIME if self.status == "503" else SERVICE_TIME / 2)
            return self.status
        yield self.env.timeout(SERVICE_TIME)
        calls = [self.env.process(self._call(host, e.target)) for e in self.graph.out.get(host, ())]
        if not calls:
            return "ok"
        results = yield self.env.all_of(calls)
        for call in calls:
            outcome = results[call]
            if outcome != "ok":
                return outcome  # the caller fails the same way
        return "ok"

    def _call(self, caller: str, target: str):
        """The caller's sidecar: tries, retries, budgets, outlier detection."""
        hop = self.hops[(caller, target)]
        cluster = self.clusters[(caller, target)]
        start = self.env.now
        deadline = start + hop.timeout if hop.timeout else None
        attempt = 0
        cluster.active += 1
        try:
            while True:
                if hop.outlier_errors is not None and self.env.now < cluster.ejected_until:
                    outcome = "503"  # no healthy upstream: fails fast, nothing is sent
                    yield self.env.timeout(0)
                else:
                    outcome = yield from self._try(target, hop, deadline)
                    if hop.outlier_errors is not None:
                        if outcome == "ok":
                            cluster.consecutive = 0
                        else:
                            cluster.consecutive += 1
                            if cluster.consecutive >= hop.outlier_errors:
                                cluster.ejected_until = self.env.now + hop.ejection_time
                                cluster.consecutive = 0
                if outcome == "ok":
                    return "ok"
                if attempt >= hop.attempts or not (RETRIABLE[outcome] & hop.retry_on):
                    return outcome
                if deadline is not None and self.env.now >= deadline:
                    return "timeout"
                if not self._retry_allowed(hop, cluster):
                    return outcome  # retry circuit breaker or budget overflow
                attempt += 1
                backoff = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** (attempt - 1)))
                cluster.retrying += 1
                try:
                    yield self.env.timeout(backoff / 2)  # the mean of Envoy's jittered back-off
                    if deadline is not None and self.env.now >= deadline:
                        return "timeout"
                finally:
                    cluster.retrying -= 1
        finally:
            cluster.active -= 1

    def _try(self, target: str, hop: Hop, deadline: float | None):
        limits = [t for t in (hop.per_try_timeout,
                              (deadline - self.env.now) if deadline is not None else None) if t is not None]
        serve = self.env.process(self._serve(target))
        if not limits:
            return (yield serve)
        timer = self.env.timeout(max(0.0, min(limits)))
        fired = yield serve | timer
        if serve in fired:
            return fired[serve]
        return "timeout"

    @staticmethod
    def _retry_allowed(hop: Hop, cluster: _Cluster) -> bool:
        if hop.max_retries is not None and cluster.retrying >= hop.max_retries:
            return False
        if hop.budget_percent is not None:
            allowed = max(hop.min_retry_concurrency, hop.budget_percent / 100.0 * cluster.active)
            if cluster.retrying >= allowed:
                return False
        return True

    def _arrivals(self):
        interval = 1.0 / self.rps
        n = int(round(self.rps * self.duration))
        for i in range(n):
            self.env.process(self._serve(self.entry))
            if i + 1 < n:
                yield self.env.timeout(interval)

    def run(self) -> Result:
        self.env.process(self._arrivals())
        self.env.run(until=self.duration + 120.0)  # let the last requests finish their retries
        requests = int(round(self.rps * self.duration))
        last = max((max(c) for c in self.timeline.values() if c), default=0)
        horizon = max(int(-(-self.duration // 1)), last + 1)
        timeline = {h: [c.get(s, 0) for s in range(horizon)] for h, c in self.timeline.items()}
        return Result(self.entry, self.failed, self.status, self.rps, self.duration, requests,
                      self.tries, timeline)


def reachable(graph: Graph, start: str) -> list[str]:
    """The hosts `start` calls, directly or not, `start` first."""
    seen, stack, order = {start}, [start], [start]
    while stack:
        for e in graph.out.get(stack.pop(), ()):
            if e.target not in seen:
                seen.add(e.target)
                order.append(e.target)
                stack.append(e.target)
    return order


def choose_entry(graph: Graph, failed: str, exposed: Iterable[str] = ()) -> str | None:
    """The entry whose worst path to `failed` amplifies the most."""
    best, best_value = None, 0.0
    for entry in graph.entries(exposed) or sorted(graph.nodes):
        if failed not in reachable(graph, entry):
            continue
        value = graph.worst_from(entry).amplification
        if best is None or value > best_value:
            best, best_value = entry, value
    return best
