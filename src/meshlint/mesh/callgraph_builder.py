"""Building the service call graph from the index: the edges that env values, args and the
`--call-graph` file name, and each hop's tries from the VirtualService routes its caller's
sidecar uses (Istio's default without one), capped by the destination's retry budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ..resource import Resource
from . import routes
from .callgraph import Edge, EdgeSource, ExplicitEdge, Graph, ObservedEdge, observed_caller, resolve_host, workload_node
from .hosts import expand_host, service_fqdn
from .injection import Sidecar
from .mentions import mentions
from .meshconfig import MeshSettings
from .protocol import port_protocol
from .retries import RetryPolicy, effective, parse_duration
from .workloads import Workload

NON_HTTP = {"TCP", "UDP", "TLS", "HTTPS", "Mongo", "Redis", "MySQL"}  # the sidecar sees no HTTP: no retries


class MeshView(Protocol):
    """What the builder reads: the lookups of `meshlint.index.Index` it needs, no more."""

    def of_kind(self, kind: str) -> list[Resource]: ...
    def workloads(self) -> list[Workload]: ...
    def services_of(self, w: Workload) -> list[Resource]: ...
    def workloads_of(self, service: Resource) -> list[Workload]: ...
    def sidecar(self, w: Workload) -> Sidecar: ...
    def mesh(self) -> MeshSettings: ...
    def destination_rules_for(self, fqdn: str) -> list[Resource]: ...
    def service_entries_for(self, host: str) -> list[Resource]: ...


def build(index: MeshView, domain: str, explicit: Iterable[ExplicitEdge] = (),
          default_namespace: str = "default", known_host: Callable[[str], bool] = lambda host: False,
          observed: Iterable[ObservedEdge] = ()) -> Graph:
    """The service call graph of everything the index holds, the `--call-graph` edges and the
    calls telemetry saw (`observed`). `known_host`: a host the user says exists outside the
    input (`known-hosts`)."""
    nodes: dict[str, Resource | None] = {}
    edges: dict[tuple[str, str], Edge] = {}
    services = {service_fqdn(s.name, s.namespace, domain): s for s in index.of_kind("Service")}
    external = frozenset(h for se in index.of_kind("ServiceEntry") for h in se.spec.get("hosts") or ()
                         if isinstance(h, str) and not h.startswith("*"))

    callers_of: dict[str, Resource] = {}  # workload nodes: key -> workload resource

    def add(a: str, b: str, ev: EdgeSource, port: int | None) -> None:
        if a == b:
            return
        nodes.setdefault(a, services.get(a, callers_of.get(a)))
        nodes.setdefault(b, services.get(b))
        edge = edges.get((a, b))
        if edge is None:
            edge = edges[(a, b)] = Edge(a, b, [], port=port)
        edge.evidence.append(ev)

    def callers(w: Workload) -> list[str]:
        """The nodes a workload's calls leave from: the Services that select it, else itself."""
        found = [service_fqdn(s.name, s.namespace, domain) for s in index.services_of(w)]
        if not found:
            key = workload_node(w)
            callers_of[key] = w.resource
            found = [key]
        return found

    workloads = index.workloads()
    for w in workloads:
        for m in mentions(w, domain, external):
            if m.fqdn not in services and m.fqdn not in external:
                continue
            for caller in callers(w):
                add(caller, m.fqdn, EdgeSource("env", w.resource, m.path), m.port)
    undefined: dict[str, ExplicitEdge] = {}
    for e in explicit:
        a = resolve_host(e.source, default_namespace, domain)
        b = resolve_host(e.target, default_namespace, domain)
        add(a, b, EdgeSource("call-graph", None, e.path, e.document), None)
        for host in (a, b):
            if host not in services and host not in external and host not in callers_of and not known_host(host):
                undefined.setdefault(host, e)

    # Istio names a caller by its workload (the Deployment's name, not the pod's); a workload the
    # input does not hold is its namesake Service when the input has one, else a node of its own
    named: dict[tuple[str, str], Workload] = {}
    for w in workloads:
        named.setdefault((w.namespace, w.name), w)
    for o in observed:
        caller_workload = named.get((o.namespace, o.workload))
        if caller_workload is not None:
            sources = callers(caller_workload)
        else:
            namesake = service_fqdn(o.workload, o.namespace, domain)
            sources = [namesake if namesake in services else observed_caller(o.workload, o.namespace)]
        for caller in sources:
            add(caller, o.target, EdgeSource("prometheus", rate=o.rate, unit=o.unit), None)

    # retries: the VirtualServices that sidecars use for each host
    vs_by_host: dict[str, list[Resource]] = {}
    for vs in index.of_kind("VirtualService"):
        if vs.spec.get("gateways") and "mesh" not in vs.spec["gateways"]:
            continue  # gateway-only: not applied to sidecar callers
        for h in vs.spec.get("hosts") or ():
            vs_by_host.setdefault(expand_host(h, vs.namespace, domain), []).append(vs)
    mesh_default = index.mesh().mesh.get("defaultHttpRetryPolicy")
    default = mesh_default if isinstance(mesh_default, dict) else None
    sidecars = _caller_sidecars(index, nodes, services)
    # what every hop to a host shares (its worst route, the destination's limits) and whether a
    # host's port speaks HTTP, worked out once per host: many callers may call one host
    hop_to: dict[str, Edge] = {}
    http: dict[tuple[str, int | None], bool] = {}
    for edge in edges.values():
        target = edge.target
        if all(ev.unit == "B/s" for ev in edge.evidence):
            edge.tries, edge.capped_tries, edge.note = 1, 1.0, "only TCP traffic observed: no retries"
            continue
        caller_sidecar = sidecars.get(edge.source)
        if caller_sidecar is not None:
            edge.assumption = caller_sidecar.assumption
            if not caller_sidecar.istio:
                edge.tries, edge.capped_tries = 1, 1.0
                edge.note = f"no retries: the caller has no Istio sidecar ({caller_sidecar.reason})"
                continue
        speaks_http = http.get((target, edge.port))
        if speaks_http is None:
            speaks_http = http[(target, edge.port)] = _speaks_http(services.get(target), edge.port, index, target,
                                                                   port_protocol)
        if not speaks_http:
            edge.tries, edge.capped_tries, edge.note = 1, 1.0, "not HTTP: no retries"
            continue
        shared = hop_to.get(target)
        if shared is None:
            shared = hop_to[target] = _hop_to(target, vs_by_host.get(target, ()), default,
                                              index.destination_rules_for(target))
        for name in _SHARED:
            setattr(edge, name, getattr(shared, name))
    return Graph(nodes, edges, undefined)


# The fields of an Edge that depend on its destination only.
_SHARED = ("tries", "policy", "route", "route_path", "timeout", "note", "budget_percent", "min_retry_concurrency",
           "max_retries", "outlier", "capped_tries", "budget")


def _hop_to(target: str, virtual_services: Iterable[Resource], mesh_default: dict | None,
            destination_rules: list[Resource]) -> Edge:
    """A hop to `target` from a caller with an Istio sidecar: the worst route of the
    VirtualServices for it (Istio's default without one) and the limits of its
    DestinationRules."""
    edge = Edge("", target, [])
    candidates: list[tuple[int, RetryPolicy, Resource | None, tuple, float | None]] = []
    for vs in virtual_services:
        for _kind, i, route in routes.routes(vs, ("http",)):
            policy = effective(route.get("retries") if isinstance(route.get("retries"), dict) else None, mesh_default)
            path = ("spec", "http", i, "retries") if "retries" in route else ("spec", "http", i)
            candidates.append((policy.tries, policy, vs, path, parse_duration(route.get("timeout"))))
    if not candidates:
        policy = effective(None, mesh_default)
        candidates.append((policy.tries, policy, None, (), None))
    worst = max(candidates, key=lambda c: c[0])
    edge.tries, edge.policy, edge.route, edge.route_path, edge.timeout = worst
    distinct = sorted({c[0] for c in candidates})
    if len(distinct) > 1:
        tries = "/".join(map(str, distinct)) if len(distinct) <= 5 else f"{distinct[0]} to {distinct[-1]}"
        edge.note = f"{len(candidates)} routes differ ({tries} tries); the worst is used"
    _limits(edge, destination_rules)
    return edge


def _limits(edge: Edge, rules: list[Resource]) -> None:
    """The destination's retry limits: retry budget (which caps the hop's extra load: capped
    tries = 1 + percent/100), maxRetries (concurrent retries) and outlier detection."""
    for dr in rules:
        policy: Mapping[str, Any] = dr.spec["trafficPolicy"] if isinstance(dr.spec.get("trafficPolicy"), dict) else {}
        budget = policy.get("retryBudget")
        if isinstance(budget, dict):
            edge.budget_percent = _percent(budget.get("percent"))
            minimum = budget.get("minRetryConcurrency")
            edge.min_retry_concurrency = minimum if isinstance(minimum, int) else 3
        pool = policy.get("connectionPool")
        http = pool.get("http") if isinstance(pool, dict) else None
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


def _percent(value: Any) -> float:
    """A retry budget's `percent` (`{value: 25}` or `25`) as Envoy applies it: a percentage
    from 0 to 100; Istio's default 20 when it is not a number."""
    value = value.get("value") if isinstance(value, dict) else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # (NaN)
        return 20.0
    return float(min(max(value, 0), 100))


def _caller_sidecars(index: MeshView, nodes: Mapping[str, Resource | None],
                   services: Mapping[str, Resource]) -> dict[str, Sidecar]:
    """Each caller node's sidecar, which is what retries: of one of its workloads with an Istio
    sidecar if any has one, else of its first workload. Callers whose workloads are not in the
    input (a call-graph file, an external client) are left out: they are taken to be meshed,
    the worst case."""
    out: dict[str, Sidecar] = {}
    by_resource = {id(w.resource): w for w in index.workloads()}
    for host, resource in nodes.items():
        if resource is None:
            continue
        if host in services:
            workloads = index.workloads_of(resource)
        else:
            workloads = [by_resource[id(resource)]] if id(resource) in by_resource else []
        sidecars = [index.sidecar(w) for w in workloads]
        if sidecars:
            out[host] = next((sc for sc in sidecars if sc.istio), sidecars[0])
    return out


def _speaks_http(service: Resource | None, port: int | None, index: MeshView, host: str,
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
