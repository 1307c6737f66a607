"""The service call graph: services and who calls whom, with the tries of every hop, and the
search for its worst paths and its cycles. `callgraph_builder.py` builds it from the index;
`mentions.py` finds the calls in env values and args.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resource import Document, FieldPath, Resource
from .mentions import candidate_fqdns, split_host_port
from .retries import RetryPolicy
from .workloads import Workload


@dataclass
class EdgeSource:
    """Where an edge was seen: a resource and field, or a line of the call-graph file."""

    source: str  # "env", "call-graph", "prometheus"
    resource: Resource | None = None
    path: FieldPath = ()
    document: Document | None = None
    rate: float | None = None  # observed (prometheus): requests per second, or bytes per second for TCP
    unit: str = ""  # of the rate: "req/s" or "B/s"


@dataclass
class Edge:
    source: str  # caller FQDN
    target: str  # callee FQDN
    evidence: list[EdgeSource]
    tries: int = 1  # worst case: 1 + attempts of the route the caller uses
    capped_tries: float = 1.0  # with the destination's retry budget
    policy: RetryPolicy | None = None
    route: Resource | None = None  # the VirtualService that sets the retries (None = default)
    route_path: FieldPath = ()
    note: str = ""  # e.g. "2 routes differ; the worst is used"
    budget: str = ""  # "retryBudget 20%", "maxRetries 3"
    timeout: float | None = None  # route timeout of that route, seconds (None: no timeout)
    budget_percent: float | None = None  # DestinationRule retryBudget percent
    min_retry_concurrency: int = 3
    max_retries: int | None = None  # DestinationRule connectionPool.http.maxRetries
    outlier: Mapping[str, Any] | None = None  # DestinationRule outlierDetection
    port: int | None = None  # the port the caller names (None: not named)
    # the assumption about the caller's namespace its tries rest on (meshed: Istio retries;
    # outside the mesh: 1 try); "" when the caller's sidecar is known
    assumption: str = ""

    @property
    def origins(self) -> list[str]:
        return sorted({e.source for e in self.evidence})

    @property
    def observed(self) -> tuple[float, str] | None:
        """The rate telemetry saw on this call (requests per second; bytes per second when it
        saw only TCP), or None when no telemetry names it."""
        for unit in ("req/s", "B/s"):
            rates = [e.rate for e in self.evidence if e.unit == unit and e.rate is not None]
            if rates:
                return sum(rates), unit
        return None


@dataclass
class PathResult:
    hosts: list[str]
    edges: list[Edge]
    amplification: float
    capped_amplification: float


@dataclass
class Graph:
    nodes: dict[str, Resource | None]  # FQDN -> its Service (None: external or not in the input)
    edges: dict[tuple[str, str], Edge]
    # hosts of the --call-graph file that nothing in the input (nor known-hosts) defines, each
    # with the first edge that names it: kept as hops, but likely a typo
    undefined: dict[str, ExplicitEdge] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out: dict[str, list[Edge]] = {h: [] for h in self.nodes}
        self.indegree: dict[str, int] = {h: 0 for h in self.nodes}
        for (a, b), e in sorted(self.edges.items()):
            self.out[a].append(e)
            self.indegree[b] += 1
        self._cycles: list[list[str]] | None = None
        # per node, its worst path down: (product of tries, hops, first edge), the rest of the
        # path being the first edge's target's (a whole list per node is quadratic on a chain)
        self._best: dict[str, tuple[float, int, Edge | None]] = {}

    def cycles(self) -> list[list[str]]:
        """Each elementary cycle found by the depth-first search, once (by its node set)."""
        if self._cycles is None:
            self._search()
        return self._cycles  # type: ignore[return-value]

    def _search(self) -> None:
        """Iterative DFS: records cycles (back edges) and memoises, per node, the worst product of
        tries below it, ignoring back edges so that cycles are never followed."""
        WHITE, GREY, BLACK = 0, 1, 2
        color = {h: WHITE for h in self.nodes}
        cycles: list[list[str]] = []
        seen_cycles: set[frozenset[str]] = set()
        for root in sorted(self.nodes):
            if color[root] != WHITE:
                continue
            stack: list[tuple[str, int]] = [(root, 0)]
            trail: list[str] = [root]
            color[root] = GREY
            while stack:
                node, i = stack[-1]
                edges = self.out[node]
                if i < len(edges):
                    stack[-1] = (node, i + 1)
                    nxt = edges[i].target
                    if color[nxt] == WHITE:
                        color[nxt] = GREY
                        stack.append((nxt, 0))
                        trail.append(nxt)
                    elif color[nxt] == GREY:
                        cycle = trail[trail.index(nxt):]
                        key = frozenset(cycle)
                        if key not in seen_cycles:
                            seen_cycles.add(key)
                            cycles.append(cycle + [nxt])
                    continue
                stack.pop()
                trail.pop()
                color[node] = BLACK
                best: tuple[float, int, Edge | None] = (1.0, 0, None)
                for e in edges:
                    below = self._best.get(e.target)
                    if below is None or e.target == node:
                        continue  # a back edge (the target is still on the trail): not followed
                    value = e.tries * below[0]
                    # the worst product; on a tie, the longer path (so 1x hops still show)
                    if (value, below[1] + 1) > best[:2]:
                        best = (value, below[1] + 1, e)
                self._best[node] = best
        self._cycles = cycles

    def worst_from(self, host: str) -> PathResult:
        if self._cycles is None:
            self._search()
        value, _, edge = self._best.get(host, (1.0, 0, None))
        edges = []
        while edge is not None:
            edges.append(edge)
            edge = self._best[edge.target][2]
        hosts = [host] + [e.target for e in edges]
        capped = math.prod(e.capped_tries for e in edges) if edges else 1.0
        return PathResult(hosts, edges, float(value), float(capped))

    def location(self, path: PathResult) -> tuple[Resource | None, FieldPath, Document | None] | None:
        """Where a finding about `path` points: its entry's Service, else the call-graph file
        line or env value that names its first hop; when only telemetry knows both (a caller
        outside the input, such as an ingress gateway), the same for the next host and hop.
        None when nothing on the path is in the input."""
        for k, host in enumerate(path.hosts):
            node = self.nodes.get(host)
            if node is not None:
                return node, ("metadata", "name"), None
            if k < len(path.edges):
                ev = next((e for e in path.edges[k].evidence if e.resource is not None or e.document is not None),
                          None)
                if ev is not None:
                    return ev.resource, ev.path, ev.document
        return None

    def entries(self, exposed: Iterable[str] = ()) -> list[str]:
        """Where requests start: services nobody in the graph calls, and services exposed
        through a gateway, that call something."""
        exposed = set(exposed)
        return sorted(h for h in self.nodes if self.out[h] and (self.indegree[h] == 0 or h in exposed))

    def worst_paths(self, exposed: Iterable[str] = ()) -> list[PathResult]:
        results = [self.worst_from(h) for h in self.entries(exposed)]
        return sorted(results, key=lambda p: (-p.amplification, p.hosts))


def times(amplification: float) -> str:
    """An amplification as reports write it (`18`, `4.6e+09`): tries multiply, and past ~1e308
    the product is infinite as a float."""
    return f"{amplification:g}" if math.isfinite(amplification) else ">1e308"


def short_names(hosts: Iterable[str], domain: str = "cluster.local") -> dict[str, str]:
    """Display names: `frontend` when the name is unique, else `frontend.shop`; external hosts
    as they are."""
    suffix = f".svc.{domain}"
    hosts = list(hosts)
    bare: dict[str, int] = {}
    for h in hosts:
        if h.endswith(suffix):
            bare[h.split(".")[0]] = bare.get(h.split(".")[0], 0) + 1
    out = {}
    for h in hosts:
        if h.endswith(suffix):
            name, ns = h.split(".")[:2]
            out[h] = name if bare[name] == 1 else f"{name}.{ns}"
        else:
            out[h] = h
    return out



@dataclass(frozen=True)
class ExplicitEdge:
    """An edge of the `--call-graph` file: hosts as written, and where it is."""

    source: str
    target: str
    document: Document | None
    path: FieldPath


@dataclass(frozen=True)
class ObservedEdge:
    """A call that telemetry saw (`--prometheus`): the calling workload as Istio names it (its
    Deployment, StatefulSet, Job... name), the host it called, and how much: requests per
    second, or bytes per second for TCP."""

    workload: str
    namespace: str
    target: str  # destination_service: an FQDN
    rate: float
    unit: str  # "req/s" or "B/s"


def observed_caller(workload: str, namespace: str) -> str:
    """Node key of a calling workload that only telemetry knows (neither it nor a Service of
    its name is in the input)."""
    return f"workload/{namespace}/{workload}"


def resolve_host(text: str, namespace: str, domain: str = "cluster.local") -> str:
    """`frontend.shop` -> `frontend.shop.svc.cluster.local`; external names stay as they are."""
    found = candidate_fqdns(text, namespace, domain)
    if found:
        return found[0]
    split = split_host_port(text)
    return split[0] if split else text.strip()


def workload_node(w: Workload) -> str:
    """Node key of a workload that no Service selects (a job, a load generator)."""
    return f"{w.resource.kind_name or w.kind}/{w.namespace}/{w.name}"
