"""`meshlint simulate`: what-if retry storm over the service call graph (discrete events, simpy).

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

Failure conditions follow Envoy's `retry_on`: a 503 is retried on `5xx`, `gateway-error`,
`503` (Istio's default `retriable-status-codes`); a reset on `reset`, `connect-failure`, `5xx`;
a per-try timeout on `5xx`, `gateway-error`, `reset`.

The load at a service is the number of tries it receives; amplification is that load divided
by the requests that entered. On a plain chain without budgets the result is exactly the
closed form `(1+a)^depth`. The same run is repeated "with the suggested fixes": at most 2
attempts on `connect-failure,refused-stream,503` only, a 20 % retry budget on every hop, and
outlier detection on every destination.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import simpy

from ..mesh.callgraph import Edge, Graph
from ..mesh.retries import parse_duration

SERVICE_TIME = 0.002  # seconds each healthy service spends before calling its dependencies
BACKOFF_BASE, BACKOFF_MAX = 0.025, 0.25  # Envoy's retry back-off
HANG = 3600.0  # a service that never answers
FIX_RETRY_ON = ("connect-failure", "refused-stream", "503")
FIX_ATTEMPTS = 2
FIX_BUDGET_PERCENT = 20.0
RETRIABLE = {
    "503": {"5xx", "gateway-error", "503", "retriable-status-codes"},
    "reset": {"reset", "connect-failure", "5xx"},
    "timeout": {"5xx", "gateway-error", "reset"},
}
STATUSES = ("503", "reset", "timeout")
MAX_TRIES = 2_000_000  # stop a run that would simulate more tries than this


class TooLarge(Exception):
    """The run would exceed MAX_TRIES: lower --rps or --duration."""


@dataclass
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


@dataclass
class Result:
    entry: str
    failed: str
    status: str
    entry_rps: float
    duration: float
    requests: int
    tries: Counter = field(default_factory=Counter)
    timeline: dict[str, list[int]] = field(default_factory=dict)  # tries per second, per service

    def rps(self, host: str) -> float:
        return self.tries[host] / self.duration

    def amplification(self, host: str) -> float:
        return self.tries[host] / self.requests if self.requests else 0.0


def hop_of(edge: Edge, fixed: bool) -> Hop:
    policy = edge.policy
    attempts = edge.tries - 1
    retry_on = frozenset(policy.retry_on) if policy else frozenset()
    per_try = policy.per_try_timeout if policy else None
    outlier = edge.outlier
    errors = None
    ejection = 30.0
    if isinstance(outlier, dict):
        consecutive = outlier.get("consecutive5xxErrors", outlier.get("consecutiveErrors", 5))
        errors = consecutive if isinstance(consecutive, int) and consecutive > 0 else None
        ejection = parse_duration(outlier.get("baseEjectionTime")) or 30.0
    hop = Hop(attempts, retry_on, per_try, edge.timeout, edge.budget_percent, edge.min_retry_concurrency,
              edge.max_retries, errors, ejection)
    if fixed:
        hop.attempts = min(hop.attempts, FIX_ATTEMPTS)
        hop.retry_on = frozenset(FIX_RETRY_ON)
        hop.budget_percent = FIX_BUDGET_PERCENT if hop.budget_percent is None else min(hop.budget_percent,
                                                                                        FIX_BUDGET_PERCENT)
        hop.outlier_errors = hop.outlier_errors or 5
    return hop


class _Cluster:
    """One caller sidecar's view of one destination: active requests and retries, outlier state."""

    def __init__(self) -> None:
        self.active = 0
        self.retrying = 0
        self.consecutive = 0
        self.ejected_until = -1.0


class Simulation:
    def __init__(self, graph: Graph, entry: str, failed: str, status: str = "503", rps: float = 100.0,
                 duration: float = 10.0, fixed: bool = False) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        self.graph, self.entry, self.failed, self.status = graph, entry, failed, status
        self.rps, self.duration, self.fixed = rps, duration, fixed
        self.env = simpy.Environment()
        self.hops = {key: hop_of(e, fixed) for key, e in graph.edges.items()}
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
    seen, stack, order = {start}, [start], [start]
    while stack:
        for e in graph.out.get(stack.pop(), ()):
            if e.target not in seen:
                seen.add(e.target)
                order.append(e.target)
                stack.append(e.target)
    return order


def choose_entry(graph: Graph, failed: str, exposed: Any = ()) -> str | None:
    """The entry whose worst path to `failed` amplifies the most."""
    best, best_value = None, 0.0
    for entry in graph.entries(exposed) or sorted(graph.nodes):
        if failed not in reachable(graph, entry):
            continue
        value = graph.worst_from(entry).amplification
        if best is None or value > best_value:
            best, best_value = entry, value
    return best


# --- reports ---------------------------------------------------------------------------------------


def _rows(result: Result, hosts: list[str]) -> list[dict]:
    return [{"host": h, "rps": round(result.rps(h), 3), "amplification": round(result.amplification(h), 4)}
            for h in hosts]


def ordered_hosts(current: Result, fixed: Result) -> list[str]:
    hosts = set(current.tries) | set(fixed.tries)
    return sorted(hosts, key=lambda h: (-current.tries[h], h))


def render_json(current: Result, fixed: Result) -> str:
    import json

    hosts = ordered_hosts(current, fixed)
    doc = {"entry_rps": current.entry_rps, "services": _rows(current, hosts),
           "fixed": {"services": _rows(fixed, hosts)}}
    return json.dumps(doc, indent=2) + "\n"


def render_text(current: Result, fixed: Result, names: dict[str, str]) -> str:
    hosts = ordered_hosts(current, fixed)
    width = max([len(names.get(h, h)) for h in hosts] + [7])
    what = {"503": "answering 503", "reset": "resetting connections", "timeout": "never answering"}[current.status]
    out = [f"{current.duration:g}s at {current.entry_rps:g} rps into {names.get(current.entry, current.entry)}, "
           f"with {names.get(current.failed, current.failed)} {what}:", "",
           f"{'service':<{width}}  {'current':>20}  {'with the fixes':>20}",
           f"{'':<{width}}  {'tries/s':>10} {'amp':>9}  {'tries/s':>10} {'amp':>9}"]
    for h in hosts:
        mark = "  <- failing" if h == current.failed else ""
        out.append(f"{names.get(h, h):<{width}}  {current.rps(h):>10.1f} {current.amplification(h):>8.2f}x"
                   f"  {fixed.rps(h):>10.1f} {fixed.amplification(h):>8.2f}x{mark}")
    out += ["", "The fixes: at most 2 retries, on connect-failure,refused-stream,503 only; a 20% retryBudget on "
                "every hop; outlierDetection (5 consecutive errors eject the destination for 30s)."]
    return "\n".join(out) + "\n"


def plot(current: Result, fixed: Result, names: dict[str, str], path: str) -> None:
    """PNG chart of tries per second at each service over time, current vs with the fixes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hosts = ordered_hosts(current, fixed)[:8]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, result, title in ((axes[0], current, "current configuration"), (axes[1], fixed, "with the fixes")):
        for h in hosts:
            series = result.timeline.get(h, [])
            ax.plot(range(len(series)), series, label=names.get(h, h), linewidth=2 if h == result.failed else 1.2)
        ax.set_title(title)
        ax.set_xlabel("time (s)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("tries per second")
    axes[1].legend(loc="upper right", fontsize=8)
    fig.suptitle(f"{names.get(current.failed, current.failed)} failing ({current.status}), "
                 f"{current.entry_rps:g} rps into {names.get(current.entry, current.entry)}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
