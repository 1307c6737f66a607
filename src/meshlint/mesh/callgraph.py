"""Who calls whom: service hosts named in a workload's container env values and args.

A value names a Service when, after stripping a scheme (`http://`, `grpc://`, `dns:///`),
credentials, a port and a path, what remains is `name` (a Service in the caller's namespace),
`name.ns`, `name.ns.svc` or `name.ns.svc.cluster.local`. Values are split on whitespace,
commas, semicolons and `=`, so `--backend=cart:7070` and `a:80,b:80` work too. Every token is
only a candidate: an edge exists only when a Service (or ServiceEntry host) of that name is in
the input, so a word such as `debug` in `--log-level=debug` adds nothing unless a Service
`debug` exists in the caller's namespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from .workloads import Workload

_SPLIT = re.compile(r"[\s,;=]+")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://+")
_HOST = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")  # DNS-1035 label: ValidateServiceName


@dataclass(frozen=True)
class Mention:
    """A host named by a workload: where (path in the resource), the FQDN, and the port."""

    fqdn: str
    path: tuple
    text: str
    port: int | None = None


def split_host_port(token: str) -> tuple[str, int | None] | None:
    """`http://user@cart.shop:8080/x` -> ("cart.shop", 8080); None when it is not a host."""
    t = _SCHEME.sub("", token.strip().strip("'\""))
    t = t.split("/", 1)[0]
    t = t.rsplit("@", 1)[-1]
    port = None
    if t.count(":") == 1:
        t, raw = t.split(":")
        if not raw.isdigit():
            return None
        port = int(raw)
    elif ":" in t:
        return None
    t = t.lower().rstrip(".")
    if not t or not _HOST.match(t):
        return None
    return t, port


def candidate_fqdns(token: str, namespace: str, domain: str = "cluster.local") -> list[str]:
    """The cluster-local FQDNs a token could name (most specific first); [] when none."""
    found = split_host_port(token)
    if found is None:
        return []
    return list(_fqdns(found[0], namespace, domain))


def _fqdns(t: str, namespace: str, domain: str) -> tuple[str, ...]:
    parts = t.split(".")
    if not _SERVICE_NAME.match(parts[0]):
        return ()
    if len(parts) == 1:
        return (f"{parts[0]}.{namespace}.svc.{domain}",)
    if len(parts) == 2:
        return (f"{parts[0]}.{parts[1]}.svc.{domain}",)
    if len(parts) == 3 and parts[2] == "svc":
        return (f"{parts[0]}.{parts[1]}.svc.{domain}",)
    if t.endswith(f".svc.{domain}") and len(parts) == 3 + len(domain.split(".")):
        return (t,)
    return ()


def mentions(w: Workload, domain: str = "cluster.local", external: frozenset[str] = frozenset()) -> Iterator[Mention]:
    """Every token of every container's env values, command and args that could name a Service
    (or one of the `external` hosts, as written)."""
    for init in (False, True):
        field = "initContainers" if init else "containers"
        for i, c in w.containers(init=init):
            base = w.spec_path + (field, i)
            for j, env in enumerate(c.get("env") or ()):
                value = env.get("value") if isinstance(env, dict) else None
                if isinstance(value, str):
                    yield from _tokens(value, w.namespace, base + ("env", j, "value"), domain, external)
            for key in ("command", "args"):
                for j, arg in enumerate(c.get(key) or ()):
                    if isinstance(arg, str):
                        yield from _tokens(arg, w.namespace, base + (key, j), domain, external)


def _tokens(value: str, namespace: str, path: tuple, domain: str, external: frozenset[str]) -> Iterator[Mention]:
    for host, port, token, fqdns in _hosts_in(value, namespace, domain):
        if host in external:
            yield Mention(host, path, token, port)
            continue
        for fqdn in fqdns:
            yield Mention(fqdn, path, token, port)


@lru_cache(maxsize=1 << 16)
def _hosts_in(value: str, namespace: str, domain: str) -> tuple[tuple[str, int | None, str, tuple[str, ...]], ...]:
    """(host, port, token, candidate FQDNs) of each token of `value` that is a host. Memoised:
    the same values (`json`, `9090`, `/etc/app/config.yaml`) recur in thousands of pods."""
    out = []
    for token in _SPLIT.split(value):
        found = split_host_port(token)
        if found is not None:
            out.append((found[0], found[1], token, _fqdns(found[0], namespace, domain)))
    return tuple(out)


# --- the service call graph -------------------------------------------------------------------

import math  # noqa: E402
from typing import Any, Callable, Iterable, Mapping  # noqa: E402

from ..resource import Document, Resource  # noqa: E402
from .retries import RetryPolicy, parse_duration  # noqa: E402


@dataclass
class Evidence:
    """Where an edge was seen: a resource and field, or a line of the call-graph file."""

    source: str  # "env", "call-graph", "prometheus"
    resource: Resource | None = None
    path: tuple = ()
    document: Document | None = None


@dataclass
class Edge:
    source: str  # caller FQDN
    target: str  # callee FQDN
    evidence: list[Evidence]
    tries: int = 1  # worst case: 1 + attempts of the route the caller uses
    capped_tries: float = 1.0  # with the destination's retry budget
    policy: RetryPolicy | None = None
    route: Resource | None = None  # the VirtualService that sets the retries (None = default)
    route_path: tuple = ()
    note: str = ""  # e.g. "2 routes differ; the worst is used"
    budget: str = ""  # "retryBudget 20%", "maxRetries 3"
    timeout: float | None = None  # route timeout of that route, seconds (None: no timeout)
    budget_percent: float | None = None  # DestinationRule retryBudget percent
    min_retry_concurrency: int = 3
    max_retries: int | None = None  # DestinationRule connectionPool.http.maxRetries
    outlier: Mapping[str, Any] | None = None  # DestinationRule outlierDetection

    @property
    def origins(self) -> list[str]:
        return sorted({e.source for e in self.evidence})


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

    def __post_init__(self) -> None:
        self.out: dict[str, list[Edge]] = {h: [] for h in self.nodes}
        self.indegree: dict[str, int] = {h: 0 for h in self.nodes}
        for (a, b), e in sorted(self.edges.items()):
            self.out[a].append(e)
            self.indegree[b] += 1
        self._cycles: list[list[str]] | None = None
        self._best: dict[str, tuple[float, list[Edge]]] = {}

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
                best: tuple[float, list[Edge]] = (1.0, [])
                for e in edges:
                    below = self._best.get(e.target)
                    if below is None or e.target == node:
                        continue  # a back edge (the target is still on the trail): not followed
                    value = e.tries * below[0]
                    # the worst product; on a tie, the longer path (so 1x hops still show)
                    if (value, len(below[1]) + 1) > (best[0], len(best[1])):
                        best = (value, [e] + below[1])
                self._best[node] = best
        self._cycles = cycles

    def worst_from(self, host: str) -> PathResult:
        if self._cycles is None:
            self._search()
        value, edges = self._best.get(host, (1.0, []))
        hosts = [host] + [e.target for e in edges]
        capped = math.prod(e.capped_tries for e in edges) if edges else 1.0
        return PathResult(hosts, edges, float(value), float(capped))

    def entries(self, exposed: Iterable[str] = ()) -> list[str]:
        """Where requests start: services nobody in the graph calls, and services exposed
        through a gateway, that call something."""
        exposed = set(exposed)
        return sorted(h for h in self.nodes if self.out[h] and (self.indegree[h] == 0 or h in exposed))

    def worst_paths(self, exposed: Iterable[str] = ()) -> list[PathResult]:
        results = [self.worst_from(h) for h in self.entries(exposed)]
        return sorted(results, key=lambda p: (-p.amplification, p.hosts))


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


# --- building the graph from the index ----------------------------------------------------------

NON_HTTP = {"TCP", "UDP", "TLS", "HTTPS", "Mongo", "Redis", "MySQL"}  # the sidecar sees no HTTP: no retries


@dataclass(frozen=True)
class ExplicitEdge:
    """An edge of the `--call-graph` file: hosts as written, and where it is."""

    source: str
    target: str
    document: Document | None
    path: tuple


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


def build(index: Any, explicit: Iterable[ExplicitEdge] = (), default_namespace: str = "default") -> Graph:
    """The service call graph of everything in `index` (duck-typed meshlint.index.Index)."""
    from .hosts import expand_host
    from .protocol import port_protocol
    from .retries import effective
    from . import routes

    domain = index.facts.domain
    nodes: dict[str, Resource | None] = {}
    edges: dict[tuple[str, str], Edge] = {}
    services = {f"{s.name}.{s.namespace}.svc.{domain}": s for s in index.of_kind("Service")}
    external = frozenset(h for se in index.of_kind("ServiceEntry") for h in se.spec.get("hosts") or ()
                         if isinstance(h, str) and not h.startswith("*"))

    callers_of: dict[str, Resource] = {}  # workload nodes: key -> workload resource

    def add(a: str, b: str, ev: Evidence, port: int | None) -> None:
        if a == b:
            return
        nodes.setdefault(a, services.get(a, callers_of.get(a)))
        nodes.setdefault(b, services.get(b))
        edge = edges.get((a, b))
        if edge is None:
            edge = edges[(a, b)] = Edge(a, b, [])
            edge.port = port  # type: ignore[attr-defined]
        edge.evidence.append(ev)

    for w in index.workloads():
        callers = [f"{s.name}.{s.namespace}.svc.{domain}" for s in index.services_of(w)]
        if not callers:
            key = workload_node(w)
            callers_of[key] = w.resource
            callers = [key]
        for m in mentions(w, domain, external):
            if m.fqdn not in services and m.fqdn not in external:
                continue
            for caller in callers:
                add(caller, m.fqdn, Evidence("env", w.resource, m.path), m.port)
    for e in explicit:
        a = resolve_host(e.source, default_namespace, domain)
        b = resolve_host(e.target, default_namespace, domain)
        add(a, b, Evidence("call-graph", None, e.path, e.document), None)

    # retries: the VirtualServices that sidecars use for each host
    vs_by_host: dict[str, list[Resource]] = {}
    for vs in index.of_kind("VirtualService"):
        if vs.spec.get("gateways") and "mesh" not in vs.spec["gateways"]:
            continue  # gateway-only: not applied to sidecar callers
        for h in vs.spec.get("hosts") or ():
            vs_by_host.setdefault(expand_host(h, vs.namespace, domain), []).append(vs)
    mesh_default = index.mesh().mesh.get("defaultHttpRetryPolicy")
    retrying = _istio_callers(index, nodes, services)
    for edge in edges.values():
        target = edge.target
        if not retrying.get(edge.source, True):
            edge.tries, edge.capped_tries = 1, 1.0
            edge.note = "the caller has no Istio sidecar: Istio does not retry its requests"
            continue
        if not _speaks_http(services.get(target), getattr(edge, "port", None), index, target, port_protocol):
            edge.tries, edge.capped_tries, edge.note = 1, 1.0, "not HTTP: no retries"
            continue
        candidates: list[tuple[int, RetryPolicy, Resource | None, tuple, float | None]] = []
        for vs in vs_by_host.get(target, ()):
            for kind, i, route in routes.routes(vs, ("http",)):
                policy = effective(route.get("retries") if isinstance(route.get("retries"), dict) else None,
                                   mesh_default if isinstance(mesh_default, dict) else None)
                path = ("spec", "http", i, "retries") if "retries" in route else ("spec", "http", i)
                candidates.append((policy.tries, policy, vs, path, parse_duration(route.get("timeout"))))
        if not candidates:
            policy = effective(None, mesh_default if isinstance(mesh_default, dict) else None)
            candidates.append((policy.tries, policy, None, (), None))
        worst = max(candidates, key=lambda c: c[0])
        edge.tries, edge.policy, edge.route, edge.route_path, edge.timeout = worst
        distinct = sorted({c[0] for c in candidates})
        if len(distinct) > 1:
            edge.note = f"{len(candidates)} routes differ ({'/'.join(map(str, distinct))} tries); the worst is used"
        _limits(edge, index.destination_rules_for(target))
    return Graph(nodes, edges)


def _limits(edge: Edge, rules: list[Resource]) -> None:
    """The destination's retry limits: retry budget (which caps the hop's extra load: capped
    tries = 1 + percent/100), maxRetries (concurrent retries) and outlier detection."""
    for dr in rules:
        policy = dr.spec.get("trafficPolicy") if isinstance(dr.spec.get("trafficPolicy"), dict) else {}
        budget = policy.get("retryBudget")
        if isinstance(budget, dict):
            percent = budget.get("percent")
            percent = percent.get("value") if isinstance(percent, dict) else percent
            edge.budget_percent = float(percent) if isinstance(percent, (int, float)) else 20.0
            minimum = budget.get("minRetryConcurrency")
            edge.min_retry_concurrency = minimum if isinstance(minimum, int) else 3
        http = (policy.get("connectionPool") or {}).get("http") if isinstance(policy.get("connectionPool"), dict) else None
        if isinstance(http, dict) and isinstance(http.get("maxRetries"), int):
            edge.max_retries = http["maxRetries"]
        if isinstance(policy.get("outlierDetection"), dict):
            edge.outlier = policy["outlierDetection"]
    words = []
    edge.capped_tries = float(edge.tries)
    if edge.budget_percent is not None:
        edge.capped_tries = min(edge.capped_tries, 1.0 + edge.budget_percent / 100.0)
        words.append(f"retryBudget {edge.budget_percent:g}%")
    if edge.max_retries is not None:
        words.append(f"maxRetries {edge.max_retries} concurrent")
    edge.budget = ", ".join(words)


def _istio_callers(index: Any, nodes: Mapping[str, Resource | None], services: Mapping[str, Resource]) -> dict[str, bool]:
    """Whether each caller node's requests go through an Istio sidecar, which is what retries.
    Callers whose workloads are not in the input (a call-graph file, an external client) are
    assumed to be meshed: the worst case."""
    out: dict[str, bool] = {}
    by_resource = {id(w.resource): w for w in index.workloads()}
    for host, resource in nodes.items():
        if resource is None:
            continue
        if host in services:
            workloads = index.workloads_of(resource)
        else:
            workloads = [by_resource[id(resource)]] if id(resource) in by_resource else []
        if workloads:
            out[host] = any(index.sidecar(w).istio for w in workloads)
    return out


def _speaks_http(service: Resource | None, port: int | None, index: Any, host: str,
                 port_protocol: Callable[..., str]) -> bool:
    if service is None:
        entries = index.service_entries_for(host)
        protocols = [str(p.get("protocol", "")).upper() for se in entries for p in se.spec.get("ports") or ()
                     if isinstance(p, dict) and (port is None or p.get("number") == port)]
        return not protocols or any(p not in {x.upper() for x in NON_HTTP} for p in protocols)
    ports = [p for p in service.spec.get("ports") or () if isinstance(p, dict)]
    if port is not None:
        ports = [p for p in ports if p.get("port") == port] or ports
    if not ports:
        return True
    return any(port_protocol(p.get("port"), p.get("name"), p.get("protocol"), p.get("appProtocol")) not in NON_HTTP
               for p in ports)
