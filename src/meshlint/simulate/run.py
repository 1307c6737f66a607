"""The retry storm, simulated with discrete events (simpy).

Requests arrive at the entry service at `rps`, evenly spaced, for `duration` seconds. Every
service, on each request, calls all of its dependencies in parallel, except those the request
already went through (a cycle of the graph is not followed around); a call goes through the
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

Before a run starts, the tries it can make are bounded from above (`tries_per_request`): a run
that could make more than MAX_TRIES is refused, not cut short after the work. A dense graph has
more paths than any run can follow (on 150 services that all call each other, one request has
more than 149! of them), so it is refused at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

import simpy

from ..mesh.callgraph import Graph
from .model import RETRIABLE, STATUSES, FixPolicy, Hop, HopLimits, Result, WorstCase, requests

SERVICE_TIME = 0.002  # seconds each healthy service spends before calling its dependencies
BACKOFF_BASE, BACKOFF_MAX = 0.025, 0.25  # Envoy's retry back-off
HANG = 3600.0  # a service that never answers
MAX_TRIES = 1_000_000  # the most a run may make: ~25 s at ~25 us a try


class TooLarge(Exception):
    """The run could make more than MAX_TRIES tries."""


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
        self.limits: dict[tuple[str, str], HopLimits] = defaultdict(HopLimits)
        self.tries_at_failed: Counter = Counter()  # request -> its tries at the failing service

    # -- processes ---------------------------------------------------------------------------

    def _serve(self, host: str, request: int, upstream: frozenset[str] = frozenset()):
        """A try arriving at `host`, from request number `request` that went through
        `upstream`: its outcome ("ok", "503", "reset", "timeout")."""
        self.tries[host] += 1
        # (the second it falls in: arrivals at i/rps add up to a hair below a whole second)
        self.timeline[host][int(self.env.now + 1e-9)] += 1
        if host == self.failed:
            self.tries_at_failed[request] += 1
            if self.status == "timeout":
                yield self.env.timeout(HANG)
                return "timeout"
            yield self.env.timeout(SERVICE_TIME if self.status == "503" else SERVICE_TIME / 2)
            return self.status
        yield self.env.timeout(SERVICE_TIME)
        chain = upstream | {host}
        calls = [self.env.process(self._call(host, e.target, request, chain))
                 for e in self.graph.out.get(host, ()) if e.target not in chain]
        if not calls:
            return "ok"
        results = yield self.env.all_of(calls)
        for call in calls:
            outcome = results[call]
            if outcome != "ok":
                return outcome  # the caller fails the same way
        return "ok"

    def _call(self, caller: str, target: str, request: int, chain: frozenset[str]):
        """The caller's sidecar: tries, retries, budgets, outlier detection."""
        hop = self.hops[(caller, target)]
        cluster = self.clusters[(caller, target)]
        limits = self.limits[(caller, target)]
        start = self.env.now
        deadline = start + hop.timeout if hop.timeout else None
        attempt = 0
        cluster.active += 1
        try:
            while True:
                if hop.outlier_errors is not None and self.env.now < cluster.ejected_until:
                    outcome = "503"  # no healthy upstream: fails fast, nothing is sent
                    limits.failed_fast += 1
                    yield self.env.timeout(0)
                else:
                    outcome = yield from self._try(target, hop, deadline, request, chain)
                    if hop.outlier_errors is not None:
                        if outcome == "ok":
                            cluster.consecutive = 0
                        else:
                            cluster.consecutive += 1
                            if cluster.consecutive >= hop.outlier_errors:
                                cluster.ejected_until = self.env.now + hop.ejection_time
                                cluster.consecutive = 0
                                limits.ejections += 1
                if outcome == "ok":
                    return "ok"
                if attempt >= hop.attempts:
                    return outcome
                if not RETRIABLE[outcome] & hop.retry_on:
                    limits.not_retried += 1
                    return outcome
                if deadline is not None and self.env.now >= deadline:
                    limits.timed_out += 1
                    return "timeout"
                if not self._retry_allowed(hop, cluster):
                    limits.retries_refused += 1
                    return outcome  # retry circuit breaker or budget overflow
                attempt += 1
                backoff = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** (attempt - 1)))
                cluster.retrying += 1
                try:
                    yield self.env.timeout(backoff / 2)  # the mean of Envoy's jittered back-off
                    if deadline is not None and self.env.now >= deadline:
                        limits.timed_out += 1
                        return "timeout"
                finally:
                    cluster.retrying -= 1
        finally:
            cluster.active -= 1

    def _try(self, target: str, hop: Hop, deadline: float | None, request: int, chain: frozenset[str]):
        limits = [t for t in (hop.per_try_timeout,
                              (deadline - self.env.now) if deadline is not None else None) if t is not None]
        serve = self.env.process(self._serve(target, request, chain))
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

    def _check_size(self) -> None:
        """TooLarge when the run could make more than MAX_TRIES tries (at once when one request
        alone could), at a cost of at most MAX_TRIES steps."""
        def tries(limit: int) -> int:
            return tries_per_request(self.graph, self.hops, self.entry, self.failed, limit)

        n = requests(self.rps, self.duration)  # each makes one try at least
        if n == 0 or n <= MAX_TRIES and tries(MAX_TRIES // n) <= MAX_TRIES // n:
            return
        if tries(MAX_TRIES) > MAX_TRIES:
            raise TooLarge(f"one request could make over {MAX_TRIES:,} tries (retries multiply along every path "
                           "from the entry): too many to simulate")
        raise TooLarge(f"{self.rps:g} rps for {self.duration:g}s could make over {MAX_TRIES:,} tries, the most a "
                       "run simulates: lower --rps or --duration")

    def _arrivals(self):
        interval = 1.0 / self.rps
        n = requests(self.rps, self.duration)
        for i in range(n):
            self.env.process(self._serve(self.entry, i))
            if i + 1 < n:
                yield self.env.timeout(interval)

    def run(self) -> Result:
        """The run, or TooLarge before any work when it could make more than MAX_TRIES tries."""
        self._check_size()
        self.env.process(self._arrivals())
        self.env.run(until=self.duration + 120.0)  # let the last requests finish their retries
        last = max((max(c) for c in self.timeline.values() if c), default=0)
        horizon = max(int(-(-self.duration // 1)), last + 1)
        timeline = {h: [c.get(s, 0) for s in range(horizon)] for h, c in self.timeline.items()}
        return Result(self.entry, self.failed, self.status, self.rps, self.duration,
                      requests(self.rps, self.duration), self.tries, timeline,
                      worst_case(self.graph, self.hops, self.entry, self.failed),
                      max(self.tries_at_failed.values(), default=0),
                      {hop: replace(held, retry_on=tuple(sorted(self.hops[hop].retry_on)))
                       for hop, held in self.limits.items() if held})


def worst_case(graph: Graph, hops: Mapping[tuple[str, str], Hop], entry: str, failed: str) -> WorstCase | None:
    """The path from `entry` to `failed` whose tries multiply the most, as ML302 finds it
    (`Graph.worst_from`: each node's best path down is worked out once, and an edge back to a
    service still being searched is not followed); None when `entry` never reaches `failed`."""
    best: dict[str, tuple[float, str | None]] = {failed: (1.0, None)}  # host -> (product, next)
    searching = {entry}
    stack: list[tuple[str, Iterator[str]]] = [(entry, iter(e.target for e in graph.out.get(entry, ())))]
    while stack:
        host, targets = stack[-1]
        target = next(targets, None)
        if target is not None:
            if target not in best and target not in searching:
                searching.add(target)
                stack.append((target, iter(e.target for e in graph.out.get(target, ()))))
            continue
        stack.pop()
        searching.discard(host)
        if host == failed:
            continue
        reached = [(max(1, 1 + hops[(host, e.target)].attempts) * best[e.target][0], e.target)
                   for e in graph.out.get(host, ()) if e.target in best and best[e.target][0] > 0]
        best[host] = max(reached, default=(0.0, None))  # 0: `failed` is not below `host`
    if best.get(entry, (0.0, None))[0] <= 0:
        return None
    path, tries = [entry], []
    while path[-1] != failed:
        host = path[-1]
        nxt = best[host][1]
        assert nxt is not None
        tries.append(max(1, 1 + hops[(host, nxt)].attempts))
        path.append(nxt)
    return WorstCase(path, tries)


def tries_per_request(graph: Graph, hops: Mapping[tuple[str, str], Hop], entry: str, failed: str,
                      limit: int) -> int:
    """The most tries one request into `entry` can make in a `Simulation`, at all services (its
    own try at the entry included): along every path that does not come back to a service it
    went through, each call that can fail tried as often as its hop allows, any other once.
    Counting stops above `limit`, after at most `limit` steps: the result is then above it.

    A call can fail when its destination is `failed`, calls (directly or not) a service that
    can fail, or when a timeout of the hop can cut it short."""
    def timed(hop: Hop) -> bool:  # as `_call` and `_try` apply the hop's timeouts
        return hop.per_try_timeout is not None or bool(hop.timeout)

    # whatever calls something that can fail can fail
    can_fail = callers(graph, {failed} | {caller for (caller, _), hop in hops.items() if timed(hop)})

    def calls(host: str) -> Iterator[tuple[str, int]]:
        """Each call `host` makes: (destination, the tries it gets for one try at `host`)."""
        if host == failed:  # it fails at once, calling nothing
            return
        for e in graph.out.get(host, ()):
            hop = hops[(host, e.target)]
            yield e.target, max(1, 1 + hop.attempts) if e.target in can_fail or timed(hop) else 1

    total = 1
    on_path = {entry}
    path: list[tuple[str, int, Iterator[tuple[str, int]]]] = [(entry, 1, calls(entry))]
    while path:  # depth first, over the paths that never come back to a service on them
        host, weight, pending = path[-1]
        for target, tries in pending:
            if target in on_path:
                continue
            total += weight * tries
            if total > limit:
                return total
            on_path.add(target)
            path.append((target, weight * tries, calls(target)))
            break
        else:
            path.pop()
            on_path.discard(host)
    return total


def callers(graph: Graph, hosts: Iterable[str]) -> set[str]:
    """`hosts`, and the hosts that call one of them, directly or not."""
    callers_of: dict[str, list[str]] = defaultdict(list)
    for caller, target in graph.edges:
        callers_of[target].append(caller)
    seen = set(hosts)
    unvisited = list(seen)
    while unvisited:
        for caller in callers_of[unvisited.pop()]:
            if caller not in seen:
                seen.add(caller)
                unvisited.append(caller)
    return seen


def choose_entry(graph: Graph, failed: str, exposed: Iterable[str] = ()) -> str | None:
    """The entry whose worst path to `failed` amplifies the most."""
    best, best_value = None, 0.0
    reaching = callers(graph, {failed})  # (one search, not one per entry)
    for entry in graph.entries(exposed) or sorted(graph.nodes):
        if entry not in reaching:
            continue
        value = graph.worst_from(entry).amplification
        if best is None or value > best_value:
            best, best_value = entry, value
    return best
