"""Which telemetry bears on which finding: the engine stage after the rules (and the scope),
before suppression and locating.

Each function here takes the findings of one rule and returns the `Evidence` for those that
telemetry can confirm, quantify or contradict; it never adds a finding, and a finding that
telemetry says nothing about is left as it was. The questions are asked only when a finding
needs their answer (`Telemetry` asks each at most once), so a clean run costs the queries of
the call graph alone.

- ML101: request-level metrics (sniffing detects HTTP today) or TCP-level ones only (L7 lost).
- ML301, ML302: the retries the callers' proxies make, next to the configured worst case, and
  the load a failure would bring at the observed request rate.
- ML304: the canary's observed error rate and its active outlier ejections.
- ML402: the proxies' memory against their request, and the sum no request accounts for.
- any finding that names an assumption about a namespace ("assuming namespace shop is
  meshed"): whether the proxies' own metrics agree with it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..finding import Evidence, Finding
from ..mesh.hosts import service_fqdn
from ..mesh.protocol import KNOWN, UNSUPPORTED, port_protocol
from ..mesh.retries import effective
from ..mesh.routes import exposed_hosts
from ..mesh.workloads import Workload
from .prometheus import Memory, Telemetry, both_ways, format_bytes, format_rate, selector_for

if TYPE_CHECKING:
    from ..index import Index
    from ..mesh.callgraph import Edge
    from ..mesh.routes import RouteRule

SOURCE = "prometheus"
L7 = frozenset({KNOWN["http"], KNOWN["http2"], KNOWN["grpc"], KNOWN["grpc-web"], KNOWN["http_proxy"]})
# the assumption clause of `mesh.injection.namespace_labels`, which every finding that rests on
# one quotes
ASSUMED = re.compile(r"assuming namespace (\S+) is (outside the mesh|meshed)")


def attach(findings: list[Finding], index: Index, telemetry: Telemetry) -> list[Finding]:
    """The findings, each with the evidence telemetry adds to it."""
    added: dict[int, list[Evidence]] = defaultdict(list)
    by_code: dict[str, list[tuple[int, Finding]]] = defaultdict(list)
    for i, f in enumerate(findings):
        by_code[f.code].append((i, f))
    assumed = [(i, f) for i, f in enumerate(findings) if ASSUMED.search(f.message)]
    # the questions the findings need, sent at once: the server answers them side by side
    telemetry.prefetch(*dict.fromkeys(q for code, questions in NEEDS.items() if code in by_code for q in questions),
                       *(("presence",) if assumed else ()))
    for code, gather in GATHER.items():
        if by_code.get(code):
            for i, evidence in gather(by_code[code], index, telemetry):
                added[i].append(evidence)
    if assumed:
        for i, evidence in _assumptions(assumed, telemetry):
            added[i].append(evidence)
    return [replace(f, evidence=f.evidence + tuple(added[i])) if i in added else f for i, f in enumerate(findings)]


Found = list[tuple[int, Finding]]
Gathered = Iterable[tuple[int, Evidence]]


# --- ML101: the port Istio sniffs ------------------------------------------------------------------


def _port_protocol(findings: Found, index: Index, telemetry: Telemetry) -> Gathered:
    requests, tcp = telemetry.requests().into(), telemetry.tcp().into()
    window = telemetry.window
    for i, f in findings:
        if f.variant == "external-name-port" or f.resource is None:
            continue
        svc = f.resource
        host = service_fqdn(svc.name, svc.namespace, index.facts.domain)
        ported = f.path[3] if len(f.path) > 3 and isinstance(f.path[3], int) else None
        others = [p for j, p in enumerate(svc.spec.get("ports") or ()) if j != ported and isinstance(p, dict)]
        declared = {p.get("port"): port_protocol(p.get("port"), p.get("name"), p.get("protocol"), p.get("appProtocol"))
                    for p in others}
        http = sorted(str(n) for n, proto in declared.items() if proto in L7)
        opaque = sorted(str(n) for n, proto in declared.items() if proto not in L7 and proto != UNSUPPORTED
                        and proto != KNOWN["udp"])
        received, streamed = requests.get(host, 0.0), tcp.get(host, 0.0)
        request_query = f"sum(rate(istio_requests_total{{{selector_for(host)}}}[{window}]))"
        if received > 0:
            maybe = f" (port {' or '.join(http)}, declared for HTTP, may carry them)" if http else ""
            yield i, Evidence(SOURCE, f"request-level metrics {telemetry.span}: {format_rate(received, 'req/s')}"
                              f"{maybe}: Istio's sniffing detects HTTP today; naming the port keeps it so "
                              "without depending on detection", request_query, received)
        elif streamed > 0:
            tcp_query = both_ways("destination_service", window, f"{{{selector_for(host)}}}")
            maybe = f" (port {' or '.join(opaque)}, declared for TCP, may carry it)" if opaque else ""
            yield i, Evidence(SOURCE, f"TCP-level metrics only {telemetry.span}: "
                              f"{format_rate(streamed, 'B/s')}{maybe} and no request-level metrics: Istio "
                              "handles this traffic as opaque TCP, so L7 routing, retries and request metrics "
                              "are lost", tcp_query, streamed)
        else:
            yield i, Evidence(SOURCE, f"no Istio metrics for this Service {telemetry.span}: no traffic, or no "
                              "proxy on either end", request_query, 0.0)


# --- ML301 and ML302: retries ---------------------------------------------------------------------


def _route_rules(index: Index) -> dict[tuple[int, Any], RouteRule]:
    return {(id(rule.resource), rule.path): rule for rule in index.route_rules()}


def _rule_of(rules: Mapping[tuple[int, Any], RouteRule], f: Finding) -> RouteRule | None:
    """The routing rule a finding points into: its path starts with the rule's own
    (`spec, http|tcp|tls|rules, index`)."""
    return rules.get((id(f.resource), tuple(f.path[:3])))


def _per_host(retries: Mapping[tuple[str, str], float]) -> dict[str, float]:
    """Retries per second toward each host, all its subsets together."""
    out: dict[str, float] = defaultdict(float)
    for (host, _subset), rate in retries.items():
        out[host] += rate
    return out


def _retry_query(host: str, window: str) -> str:
    return f'sum(rate(envoy_cluster_upstream_rq_retry{{cluster_name=~"outbound[|].*[|]{re.escape(host)}"}}[{window}]))'


def _aggressive_retries(findings: Found, index: Index, telemetry: Telemetry) -> Gathered:
    rules = _route_rules(index)
    located = [(i, rule) for i, f in findings if (rule := _rule_of(rules, f)) is not None]
    if not located:
        return
    observed = telemetry.retries()
    if observed is None:
        return
    retries = _per_host(observed)
    requests = telemetry.requests().into()
    for i, rule in located:
        hosts = list(dict.fromkeys(t.fqdn for t in rule.targets))
        if not hosts:
            continue
        made = sum(retries.get(h, 0.0) for h in hosts)
        received = sum(requests.get(h, 0.0) for h in hosts)
        names = ", ".join(hosts)
        share = f" ({made / received:.1%} of its {format_rate(received, 'req/s')})" if received > 0 else ""
        configured = _configured_tries(rule)
        worst = f"; configured worst case {configured} tries per request" if configured else ""
        yield i, Evidence(SOURCE, f"observed {telemetry.span}: {format_rate(made, 'retries/s')} toward {names}"
                          f"{share}{worst}", _retry_query(hosts[0], telemetry.window) if len(hosts) == 1 else
                          " + ".join(_retry_query(h, telemetry.window) for h in hosts), made)


def _configured_tries(rule: RouteRule) -> int | None:
    if rule.gateway_api:
        attempts = (rule.spec.get("retry") or {}).get("attempts") if isinstance(rule.spec.get("retry"), dict) else None
        return attempts + 1 if isinstance(attempts, int) else None
    retries = rule.spec.get("retries")
    return effective(retries).tries if isinstance(retries, dict) else None


def _retry_amplification(findings: Found, index: Index, telemetry: Telemetry) -> Gathered:
    wanted = [(i, f) for i, f in findings if f.variant.startswith("amplification")]
    if not wanted:
        return
    from ..mesh.callgraph import short_names

    graph = index.call_graph()
    names = short_names(graph.nodes, index.facts.domain)
    # ML302's message starts with the path's chain of short names: "a → b → c: up to 27x ..."
    paths = {" → ".join(names[h] for h in p.hosts): p
             for p in graph.worst_paths(exposed_hosts(index.of_kind("VirtualService"), index.facts.domain))}
    located = [(i, paths[chain]) for i, f in wanted if (chain := f.message.split(": up to ", 1)[0]) in paths]
    if not located:
        return
    requests = telemetry.requests().into()
    observed = telemetry.retries()
    retries = _per_host(observed) if observed is not None else None
    for i, path in located:
        entry = path.hosts[0]
        received = requests.get(entry, 0.0)
        flow = "receives" if received > 0 else "sends"  # an entry that is no service: a gateway, a load generator
        received = received or _observed_out(graph.out.get(entry, ()))
        peak = received * path.amplification
        if received > 0 and math.isfinite(peak):  # (past ~1e308 a float is infinite: JSON has no such number)
            yield i, Evidence(
                SOURCE, f"{names[entry]} {flow} {format_rate(received, 'req/s')} {telemetry.span}: when "
                f"{names[path.hosts[-1]]} fails, up to {format_rate(peak, 'tries/s')} reach it "
                f"({path.amplification:g}x)", f"sum(rate(istio_requests_total{{{selector_for(entry)}}}"
                f"[{telemetry.window}]))", peak)
        if retries is None:
            continue
        hops = [(e, retries.get(e.target, 0.0)) for e in path.edges]
        shown = "; ".join(f"{names[e.target]} {_retried(made, requests.get(e.target, 0.0))}" for e, made in hops)
        total = sum(made for _, made in hops)
        yield i, Evidence(SOURCE, f"retries observed {telemetry.span}: {shown}; the configured worst case is "
                          f"{' x '.join(str(e.tries) for e in path.edges)} tries per hop",
                          " + ".join(_retry_query(e.target, telemetry.window) for e in path.edges), total)


def _retried(made: float, received: float) -> str:
    """`0.2 retries/s (1.6% of its requests)`, or `none`."""
    if not made:
        return "none"
    share = f" ({made / received:.1%} of its requests)" if received else ""
    return f"{format_rate(made, 'retries/s')}{share}"


def _observed_out(edges: Iterable[Edge]) -> float:
    """The requests per second an entry that is no service (a load generator) sends."""
    return sum(rate for rate, unit in (e.observed or (0.0, "") for e in edges) if unit == "req/s")


# --- ML304: the canary ----------------------------------------------------------------------------


def _canary(findings: Found, index: Index, telemetry: Telemetry) -> Gathered:
    rules = _route_rules(index)
    located = [(i, rule) for i, f in findings if (rule := _rule_of(rules, f)) is not None]
    if not located:
        return
    responses = telemetry.responses(t.fqdn for _, rule in located for t in rule.targets)
    ejections = telemetry.ejections()
    for i, rule in located:
        parts, worst = [], 0.0
        for t in rule.targets:
            version = _subset_version(index, t.fqdn, t.subset)
            rows = [v for (host, ver), v in responses.items() if host == t.fqdn and (version is None or ver == version)]
            total, errors = sum(r[0] for r in rows), sum(r[1] for r in rows)
            if total <= 0:
                parts.append(f"{t.label} no requests")
                continue
            ratio = errors / total
            worst = max(worst, ratio)
            parts.append(f"{t.label} {ratio:.1%} 5xx of {format_rate(total, 'req/s')}")
        query = " / ".join(
            f"sum(rate(istio_requests_total{{{selector_for(rule.targets[-1].fqdn)}{code}}}[{telemetry.window}]))"
            for code in (',response_code=~"5.."', ""))
        yield i, Evidence(SOURCE, f"observed {telemetry.span}: " + "; ".join(parts), query, worst)
        if ejections is not None:
            peak = sum(ejections.get((t.fqdn, t.subset or ""), 0.0) for t in rule.targets)
            said = "no outlier ejections" if peak == 0 else \
                f"at most {peak:g} host{'s' if peak != 1 else ''} ejected at once"
            yield i, Evidence(SOURCE, f"{said} {telemetry.span}: Istio keeps sending each destination its weight",
                              "sum(max_over_time(envoy_cluster_outlier_detection_ejections_active{cluster_name=~"
                              f'"outbound[|].*[|]{re.escape(rule.targets[-1].fqdn)}"}}[{telemetry.window}]))', peak)


def _subset_version(index: Index, fqdn: str, subset: str | None) -> str | None:
    """The `version` label of the pods a subset selects (Istio's destination_version), or None
    for every version."""
    if not subset:
        return None
    for dr in index.destination_rules_for(fqdn):
        for s in dr.spec.get("subsets") or ():
            if isinstance(s, dict) and s.get("name") == subset and isinstance(s.get("labels"), dict):
                labels = s["labels"]
                version = labels.get("version", labels.get("app.kubernetes.io/version"))
                return str(version) if version is not None else None
    return None


# --- ML402: proxy memory --------------------------------------------------------------------------

PROXY_MEMORY = "sidecar.istio.io/proxyMemory"


def _proxy_memory(findings: Found, index: Index, telemetry: Telemetry) -> Gathered:
    wanted = [(i, f) for i, f in findings if f.variant != "linkerd-without-requests"]
    if not wanted:
        return
    memory = telemetry.proxy_memory()
    if memory is None:
        return
    workloads = {id(w.resource): w for w in index.workloads()}
    owners = _owners(memory.by_pod, {(w.namespace, w.name) for w in workloads.values()})
    unrequested = {(w.namespace, w.name) for _, f in wanted  # workloads whose proxies have no memory request
                   if (w := workloads.get(id(f.resource))) is not None and _memory_request(w) is None}
    per_namespace: dict[str, list[float]] = defaultdict(list)
    per_workload: dict[tuple[str, str], list[float]] = defaultdict(list)
    for pod, owner in owners.items():
        per_workload[owner].append(memory.by_pod[pod])
        if owner in unrequested:
            per_namespace[pod[0]].append(memory.by_pod[pod])
    for i, f in wanted:
        if f.variant == "global-without-requests":
            yield from _global(i, index, memory.by_pod, owners, telemetry, memory.query)
            continue
        w = workloads.get(id(f.resource))
        if w is None:
            continue
        pods = per_workload.get((w.namespace, w.name), [])
        if not pods:
            yield i, Evidence(SOURCE, f"no istio-proxy memory observed for its pods {telemetry.span}",
                              memory.query, 0.0)
            continue
        total = sum(pods)
        request = _memory_request(w)
        if request is None:
            against = "no memory request: the scheduler accounts for none of it"
        else:
            size = _quantity(request)
            against = f"a {request} memory request" + (f" ({max(pods) / size:.1f}x)" if size else "")
        yield i, Evidence(SOURCE, f"istio-proxy memory {telemetry.span}: peak {format_bytes(max(pods))} "
                          f"({len(pods)} pod{'s' if len(pods) != 1 else ''}, {format_bytes(total)} in all), against "
                          f"{against}", _pod_query(memory, w, telemetry.window), total)
        others = per_namespace.get(w.namespace, [])
        if (w.namespace, w.name) in unrequested and len(others) > len(pods):
            yield i, Evidence(SOURCE, f"namespace {w.namespace}: {format_bytes(sum(others))} of istio-proxy "
                              f"memory in {len(others)} proxies without a memory request {telemetry.span}",
                              memory.query, sum(others))


def _global(i: int, index: Index, by_pod: Mapping[tuple[str, str], float], owners: Mapping[tuple[str, str],
            tuple[str, str]], telemetry: Telemetry, query: str) -> Gathered:
    """Global proxy resources without requests: every proxy whose pod sets no memory request of
    its own (as far as the input shows: proxies of workloads not in it are counted)."""
    own = {(w.namespace, w.name) for w in index.workloads() if PROXY_MEMORY in w.annotations}
    per_namespace: dict[str, list[float]] = defaultdict(list)
    for pod, value in by_pod.items():
        if owners.get(pod) not in own:
            per_namespace[pod[0]].append(value)
    if not per_namespace:
        return
    total = sum(sum(v) for v in per_namespace.values())
    count = sum(len(v) for v in per_namespace.values())
    largest = sorted(per_namespace.items(), key=lambda kv: -sum(kv[1]))[:3]
    shown = ", ".join(f"{ns} {format_bytes(sum(v))} in {len(v)}" for ns, v in largest)
    more = f", and {len(per_namespace) - len(largest)} more namespaces" if len(per_namespace) > len(largest) else ""
    yield i, Evidence(SOURCE, f"{format_bytes(total)} of istio-proxy memory in {count} proxies without a memory "
                      f"request {telemetry.span} ({shown}{more})", query, total)


def _memory_request(w: Workload) -> str | None:
    """The memory request of a workload's istio-proxy: a running container's own, else the pod
    annotations' (a limit alone is the request too, as Kubernetes defaults it); None when
    neither sets one. (ML402 reports the workloads; a workload that sets no annotation follows
    the global proxy resources.)"""
    for _, c in w.containers():
        if c.get("name") == "istio-proxy" and isinstance(c.get("resources"), dict):
            resources = c["resources"]
            for key in ("requests", "limits"):
                if isinstance(resources.get(key), dict) and "memory" in resources[key]:
                    return str(resources[key]["memory"])
            return None
    for key in (PROXY_MEMORY, PROXY_MEMORY + "Limit"):
        if key in w.annotations:
            return str(w.annotations[key])
    return None


def _pod_query(memory: Memory, w: Workload, window: str) -> str:
    selector = '{container="istio-proxy",' if memory.metric.startswith("container_") else "{"
    return (f'max_over_time({memory.metric}{selector}namespace="{w.namespace}",pod=~"{re.escape(w.name)}-.*"}}'
            f"[{window}])")


# pod name suffixes: StatefulSet ordinal; DaemonSet, Job, ReplicaSet (5 characters); a
# Deployment's ReplicaSet hash and a CronJob's schedule time before them
_ORDINAL = re.compile(r"-\d+$")
_RANDOM = re.compile(r"-[a-z0-9]{5}$")
_HASH = re.compile(r"-[a-z0-9]{1,10}$")


def _owners(pods: Iterable[tuple[str, str]], workloads: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """Each pod's workload in the input, by the names Kubernetes gives pods (`cart-7d9f8c6b5-x2x9z`
    belongs to Deployment cart); pods of no workload in the input are left out."""
    out = {}
    for namespace, pod in pods:
        for candidate in _candidates(pod):
            if (namespace, candidate) in workloads:
                out[(namespace, pod)] = (namespace, candidate)
                break
    return out


def _candidates(pod: str) -> list[str]:
    names = [pod, _ORDINAL.sub("", pod)]
    owner = _RANDOM.sub("", pod)
    if owner != pod:
        names += [owner, _HASH.sub("", owner)]
    return names


_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _quantity(text: str | None) -> float | None:
    """A Kubernetes memory quantity in bytes (`128Mi`, `1G`, `134217728`), or None."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|k|M|G|T)?\s*", str(text or ""))
    if not found:
        return None
    return float(found.group(1)) * _UNITS.get(found.group(2) or "", 1)


# --- assumptions about namespaces -----------------------------------------------------------------


def _assumptions(findings: Found, telemetry: Telemetry) -> Gathered:
    presence = telemetry.presence()
    for i, f in findings:
        seen = set()
        for namespace, assumed in ASSUMED.findall(f.message):
            if namespace in seen:
                continue
            seen.add(namespace)
            how = presence.with_proxies.get(namespace)  # (in words, the selector that shows it)
            called = namespace in presence.called
            if assumed == "meshed":
                if how:
                    text = f"telemetry agrees that namespace {namespace} is meshed: {how[0]} {telemetry.span}"
                elif called:
                    text = (f"telemetry contradicts the assumption that namespace {namespace} is meshed: callers' "
                            f"proxies send it traffic {telemetry.span}, but no proxy in it reports any; if its "
                            "pods have no sidecar, list it in uninjected-namespaces")
                else:
                    continue
            elif how:
                text = (f"telemetry contradicts the assumption that namespace {namespace} is outside the mesh: "
                        f"{how[0]} {telemetry.span}, so its pods have sidecars; list it in injected-namespaces")
            elif called:
                text = (f"telemetry agrees that namespace {namespace} is outside the mesh: callers' proxies send "
                        f"it traffic {telemetry.span}, and no proxy in it reports any")
            else:
                continue
            selector = how[1] if how else f'reporter="source",destination_service_namespace="{namespace}"'
            yield i, Evidence(SOURCE, text, f"sum(rate(istio_requests_total{{{selector}}}[{telemetry.window}]))", None)


NEEDS = {"ML301": ("retries",), "ML302": ("retries",), "ML304": ("ejections",), "ML402": ("memory",)}
GATHER: dict[str, Callable[[Found, Index, Telemetry], Gathered]] = {
    "ML101": _port_protocol,
    "ML301": _aggressive_retries,
    "ML302": _retry_amplification,
    "ML304": _canary,
    "ML402": _proxy_memory,
}
