"""`--prometheus URL`: Istio's standard metrics and Envoy's stats, read through Prometheus' HTTP API.

Every question is one query over the whole mesh, aggregated in PromQL (`sum by`, `max by`) and
capped (`topk`), never one query per resource: a mesh of 5,000 services costs the same handful
of queries as one of five. Each query is evaluated at one instant (`--prometheus-at`, default
now) over one window (`--prometheus-window`, default 1h), so a run is reproducible against
stored data. The questions are asked only when a finding (or the call graph) needs the answer,
and each at most once.

An unreachable server, an answer that is not Prometheus', or a failing query is a
`PrometheusError`: the user asked for the evidence, so the run ends (exit code 2) rather than
going on silently without it. An empty answer is a fact (no traffic in the window), not an
error; a metric that no target exports at all is said once, as a note naming what it needs.

The HTTP API is small (one POST form per query, a JSON vector back), so the standard library
talks to it: a client library would add a dependency and nothing else.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..mesh.callgraph import ObservedEdge
from . import EvidenceError

DEFAULT_WINDOW = "1h"
DEFAULT_TIMEOUT = 30.0  # seconds, per query
SERIES_CAP = 50_000  # series one query may return (`topk`): more is said in a note

# Prometheus' own duration syntax (model.ParseDuration): units largest first, each at most once
_DURATION = re.compile(r"(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
MIN_WINDOW = 60  # seconds: shorter windows hold fewer than two scrapes of a common 30s-1m interval
MAX_WINDOW = (2**63 - 1) / 1e9  # Prometheus' durations are int64 nanoseconds
CLOCK_SKEW = 60  # seconds `--prometheus-at` may lie ahead of this machine's clock (Prometheus' may run ahead)


class PrometheusError(EvidenceError):
    """The server cannot be reached, or a query failed (exit code 2). The message is one line."""


@dataclass(frozen=True)
class PrometheusSource:
    """Where the telemetry is and how to ask: the server's base URL (the API is under
    `/api/v1`), the window the rates are taken over, the instant they are taken at (Unix
    seconds; None: now), extra HTTP headers (a bearer token is one) and the timeout of a query."""

    url: str
    window: str = DEFAULT_WINDOW
    at: float | None = None
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = DEFAULT_TIMEOUT


def parse_window(text: str) -> str:
    """`--prometheus-window`: a Prometheus duration (`1h`, `30m`, `1h30m`, `7d`) of at least a
    minute. Raises ValueError saying which rule the text breaks."""
    text = text.strip()
    usage = f"--prometheus-window {text!r}"
    if not text or not _DURATION.fullmatch(text):
        raise ValueError(f"{usage}: expected a Prometheus duration such as 1h, 30m or 1d12h (whole "
                         f"numbers; units y w d h m s ms, largest first, each once){_duration_hint(text)}")
    seconds = window_seconds(text)
    if seconds < MIN_WINDOW:
        raise ValueError(f"{usage}: shorter than 1m; a rate needs two scrapes inside the window (Istio's "
                         "Prometheus usually scrapes every 15s to 1m), so less would look like no traffic")
    if seconds > MAX_WINDOW:
        raise ValueError(f"{usage}: longer than Prometheus can represent (about 292 years)")
    return text


def _duration_hint(text: str) -> str:
    """What is likely meant by a duration Prometheus would refuse."""
    if re.fullmatch(r"[1-9]\d*", text):
        return f" (add a unit: {text}m, {text}h)"
    if re.fullmatch(r"\d*\.\d+[a-z]+", text):
        return " (no fractions: 1h30m, not 1.5h)"
    if text != text.lower():
        return f" (units are lower case: {text.lower()})"
    return ""


def window_seconds(window: str) -> float:
    return sum(int(n) * _SECONDS[unit] for n, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", window))


def parse_time(text: str, now: float | None = None) -> float:
    """`--prometheus-at`: RFC 3339 (`2024-05-01T12:00:00Z`) or Unix seconds, not in the future
    (`now`: the clock). Raises ValueError."""
    text = text.strip()
    usage = f"--prometheus-at {text!r}"
    if re.fullmatch(r"\d+(\.\d+)?", text):
        at = float(text)
    else:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{usage}: expected RFC 3339 (2024-05-01T12:00:00Z) or Unix seconds") from None
        if parsed.tzinfo is None:
            raise ValueError(f"{usage}: add a time zone (Z or +02:00), as RFC 3339 requires")
        at = parsed.timestamp()
    if at > (time.time() if now is None else now) + CLOCK_SKEW:
        raise ValueError(f"{usage}: in the future: Prometheus holds no telemetry there yet")
    return at


def parse_header(text: str) -> tuple[str, str]:
    """`--prometheus-header 'Name: value'`. Raises ValueError."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name.strip()):
        raise ValueError(f"--prometheus-header {text!r}: expected 'Name: value'")
    return name.strip(), value.strip()


@dataclass(frozen=True, slots=True)
class Sample:
    labels: Mapping[str, str]
    value: float


class Prometheus:
    """One server: instant queries at the source's instant, with its headers and timeout."""

    def __init__(self, source: PrometheusSource) -> None:
        self.source = source
        self.at = source.at if source.at is not None else time.time()
        self.endpoint = source.url.rstrip("/") + "/api/v1/query"

    def query(self, promql: str) -> list[Sample]:
        """The instant vector `promql` evaluates to. Raises PrometheusError."""
        # (names imported, not `urllib.request.X`: tests/kube proves that only load/kube.py
        # builds Kubernetes requests by reading every `.request` attribute in the source)
        from urllib.error import HTTPError, URLError
        from urllib.parse import urlencode
        from urllib.request import Request, urlopen

        body = urlencode({"query": promql, "time": f"{self.at:.3f}"}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                   **dict(self.source.headers)}
        request = Request(self.endpoint, data=body, headers=headers, method="POST")
        where = f"--prometheus {self.source.url}"
        try:
            with urlopen(request, timeout=self.source.timeout) as response:
                raw = response.read()
        except HTTPError as exc:
            raise PrometheusError(f"{where}: {_refusal(exc)}; query: {promql}") from None
        except (URLError, OSError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            if isinstance(reason, TimeoutError):
                raise PrometheusError(f"{where}: no answer within {self.source.timeout:g}s "
                                      f"(--prometheus-timeout); query: {promql}") from None
            raise PrometheusError(f"{where}: cannot connect: {reason}") from None
        import orjson

        try:
            answer = orjson.loads(raw)
            if answer.get("status") != "success":
                raise PrometheusError(f"{where}: query failed ({answer.get('errorType', 'error')}: "
                                      f"{answer.get('error', 'no reason given')}); query: {promql}")
            data = answer["data"]
            if data["resultType"] != "vector":
                raise PrometheusError(f"{where}: expected an instant vector, got {data['resultType']}; "
                                      f"query: {promql}")
            return [s for s in (Sample(item["metric"], float(item["value"][1])) for item in data["result"])
                    if s.value == s.value]  # NaN: a ratio over nothing, not a measurement
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            raise PrometheusError(f"{where}: the answer is not Prometheus' query API (is the URL the "
                                  "server's base URL?)") from None


def _refusal(exc: Any) -> str:
    """An HTTP error status in words: Prometheus' own reason when it gave one."""
    import json

    try:
        answer = json.loads(exc.read())
        reason = f"{answer.get('errorType', 'error')}: {answer['error']}"
    except Exception:
        reason = str(exc.reason)
    text = f"HTTP {exc.code} ({reason})"
    if exc.code in (401, 403):
        text += ": give credentials with --prometheus-header or --prometheus-token-file"
    return text


# --- the questions ------------------------------------------------------------------------------

# Istio's standard metrics are reported by the proxies on both ends of a call when both have
# one: each series is summed per reporter, then the larger reporter kept, so no call counts twice
_EDGE_LABELS = "source_workload_namespace, source_workload, destination_service"
TCP_BYTES = ("istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total")


def both_ways(by: str, window: str, selector: str = "") -> str:
    """TCP bytes per second in both directions, per `by`: the sum of the two counters Istio
    keeps for every connection (either alone when the other is missing). Each is aggregated
    first: `rate` drops the metric name, so one rate over both names would collide."""
    sent, received = (f"sum by ({by}) (rate({metric}{selector}[{window}]))" for metric in TCP_BYTES)
    return f"({sent} + {received}) or {sent} or {received}"


# the Envoy cluster stats read, each with how it is taken over the window
RETRIES = ("envoy_cluster_upstream_rq_retry", "rate")
EJECTIONS = ("envoy_cluster_outlier_detection_ejections_active", "max_over_time")
# the proxies' memory: the kubelet's working set of the istio-proxy container, else Envoy's own
MEMORY = {"container_memory_working_set_bytes": '{container="istio-proxy"}', "envoy_server_memory_allocated": ""}


@dataclass(frozen=True)
class Traffic:
    """Observed calls: (source namespace, source workload, destination host) -> rate."""

    rates: Mapping[tuple[str, str, str], float]

    def into(self) -> dict[str, float]:
        """The rate each destination receives, from every source (outside the mesh too)."""
        out: dict[str, float] = {}
        for (_, _, host), rate in self.rates.items():
            out[host] = out.get(host, 0.0) + rate
        return out


@dataclass(frozen=True)
class Memory:
    """Each istio-proxy container's peak memory in the window, by (namespace, pod)."""

    metric: str  # the metric it was read from
    query: str
    by_pod: Mapping[tuple[str, str], float]


@dataclass(frozen=True)
class ProxyPresence:
    """Which namespaces hold Istio proxies, as their own metrics show: a proxy reports the calls
    it makes (reporter=source) and receives (reporter=destination), and a caller's mTLS
    certificate shows at the callee; and the traffic into each namespace that meshed callers saw."""

    # namespace -> how it shows, in words and as the selector of istio_requests_total that shows it
    with_proxies: Mapping[str, tuple[str, str]]
    called: frozenset[str]  # namespaces that callers' proxies sent traffic to
    query: str


@dataclass
class Telemetry:
    """The answers of one Prometheus, each asked for at most once. Queries run on a few
    threads: `prefetch` sends them ahead, so that the server evaluates them while meshlint
    reads the manifests or runs the rules, and whoever needs an answer waits only for what is
    left of it."""

    prometheus: Prometheus
    window: str = DEFAULT_WINDOW
    notes: list[str] = field(default_factory=list)
    _answers: dict[str, Future[list[Sample]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4, "prometheus"))

    @classmethod
    def connect(cls, source: PrometheusSource) -> Telemetry:
        """The server, once it has answered a trivial query: unreachable, refusing the
        credentials or not Prometheus is a PrometheusError now, before anything is read."""
        telemetry = cls(Prometheus(source), source.window)
        telemetry.prometheus.query("vector(1)")
        return telemetry

    def prefetch(self, *questions: str) -> None:
        """Send the queries of these questions (`calls`, `memory`, `retries`, `ejections`,
        `presence`) without waiting for their answers."""
        # each query with the words its answer is asked for with (a note on the series cap names them)
        queries = {"calls": ((self._requests_query(), "requests per call"), (self._tcp_query(), "TCP bytes per call")),
                   "memory": ((self._memory_query(), "proxy memory"),),
                   "retries": ((self._cluster_query(*RETRIES), RETRIES[0]),),
                   "ejections": ((self._cluster_query(*EJECTIONS), EJECTIONS[0]),),
                   "presence": ((self._presence_query(), "proxies per namespace"),)}
        for question in questions:
            for promql, what in queries[question]:
                self._submit(promql, what)

    def close(self) -> None:
        """Stop the threads (a query on its way is not waited for)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def span(self) -> str:
        """The window in words: `in the last 1h`, or `in the 1h to 2024-05-01 12:00 UTC`."""
        if self.prometheus.source.at is None:
            return f"in the last {self.window}"
        when = datetime.fromtimestamp(self.prometheus.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"in the {self.window} to {when}"

    def _ask(self, promql: str, what: str) -> list[Sample]:
        """The answer to a capped query (PrometheusError when it failed)."""
        return self._submit(promql, what).result()

    def _submit(self, promql: str, what: str) -> Future[list[Sample]]:
        with self._lock:
            answer = self._answers.get(promql)
            if answer is None:
                answer = self._answers[promql] = self._pool.submit(self._capped, promql, what)
        return answer

    def _capped(self, promql: str, what: str) -> list[Sample]:
        """When the cap is reached, the smallest series are left out, and a note says so."""
        samples = self.prometheus.query(f"topk({SERIES_CAP}, {promql})")
        if len(samples) >= SERIES_CAP:
            self.notes.append(f"--prometheus: {what}: only the {SERIES_CAP:,} largest series are used")
        return samples

    def _absent(self, metric: str, needs: str) -> None:
        note = f"--prometheus: no {metric} series {self.span}: {needs}"
        if note not in self.notes:
            self.notes.append(note)

    # -- calls ------------------------------------------------------------------------------------

    def requests(self) -> Traffic:
        """HTTP and gRPC calls, in requests per second (`istio_requests_total`)."""
        return self._traffic(self._requests_query(), "requests per call")

    def tcp(self) -> Traffic:
        """TCP traffic, in bytes per second both ways (`istio_tcp_*_bytes_total`)."""
        return self._traffic(self._tcp_query(), "TCP bytes per call")

    def _requests_query(self) -> str:
        per_reporter = f"sum by (reporter, {_EDGE_LABELS}) (rate(istio_requests_total[{self.window}]))"
        return f"max by ({_EDGE_LABELS}) ({per_reporter})"

    def _tcp_query(self) -> str:
        return f"max by ({_EDGE_LABELS}) ({both_ways(f'reporter, {_EDGE_LABELS}', self.window)})"

    def _traffic(self, promql: str, what: str) -> Traffic:
        rates: dict[tuple[str, str, str], float] = {}
        for s in self._ask(promql, what):
            key = (s.labels.get("source_workload_namespace", ""), s.labels.get("source_workload", ""),
                   s.labels.get("destination_service", ""))
            rates[key] = rates.get(key, 0.0) + s.value
        return Traffic(rates)

    def edges(self) -> tuple[ObservedEdge, ...]:
        """The calls between workloads and services that the window saw: HTTP ones in requests
        per second, the rest in TCP bytes per second. Callers outside the mesh (`unknown`) and
        destinations that are no host name (an IP through the passthrough cluster) are left out."""
        out = []
        for traffic, unit in ((self.requests(), "req/s"), (self.tcp(), "B/s")):
            for (namespace, workload, host), rate in sorted(traffic.rates.items()):
                if rate > 0 and _known(workload) and _known(namespace) and _is_host(host):
                    out.append(ObservedEdge(workload, namespace, host, rate, unit))
        return tuple(out)

    # -- proxies ----------------------------------------------------------------------------------

    def proxy_memory(self) -> Memory | None:
        """The istio-proxy containers' peak memory: the kubelet's working set (cAdvisor) when it
        is scraped, else Envoy's own allocation; None when neither is."""
        for metric in MEMORY:
            promql = self._memory_query(metric)
            samples = self._ask(promql, "proxy memory")
            if samples:
                return Memory(metric, promql, {(s.labels.get("namespace", ""), s.labels.get("pod", "")): s.value
                                               for s in samples})
        self._absent("container_memory_working_set_bytes{container=\"istio-proxy\"} or envoy_server_memory_allocated",
                     "proxy memory needs the kubelet's cAdvisor metrics or the proxies' Envoy stats scraped")
        return None

    def _memory_query(self, metric: str = "container_memory_working_set_bytes") -> str:
        return f"max by (namespace, pod) (max_over_time({metric}{MEMORY[metric]}[{self.window}]))"

    def presence(self) -> ProxyPresence:
        """Where Istio proxies report from, and the traffic meshed callers send each namespace."""
        promql = self._presence_query()
        shows: dict[str, tuple[str, str]] = {}
        called: set[str] = set()
        for s in self._ask(promql, "proxies per namespace"):
            get = s.labels.get
            reporter, source, dest = get("reporter"), get("source_workload_namespace", ""), \
                get("destination_workload_namespace", "")
            if reporter == "source" and _known(source):
                shows.setdefault(source, ("its workloads' proxies report the calls they make",
                                          f'reporter="source",source_workload_namespace="{source}"'))
            if reporter == "destination" and _known(dest):
                shows.setdefault(dest, ("its workloads' proxies report the calls they receive",
                                        f'reporter="destination",destination_workload_namespace="{dest}"'))
            if reporter == "destination" and _known(source) and get("connection_security_policy") == "mutual_tls":
                shows.setdefault(source, ("its workloads call meshed services with Istio mTLS certificates",
                                          f'reporter="destination",source_workload_namespace="{source}",'
                                          'connection_security_policy="mutual_tls"'))
            service_ns = get("destination_service_namespace", "")
            if reporter == "source" and _known(service_ns) and s.value > 0:
                called.add(service_ns)
        return ProxyPresence(shows, frozenset(called), promql)

    def _presence_query(self) -> str:
        labels = ("reporter, source_workload_namespace, destination_workload_namespace, "
                  "destination_service_namespace, connection_security_policy")
        return " or ".join(f"sum by ({labels}) (rate({metric}[{self.window}]))"
                           for metric in ("istio_requests_total", "istio_tcp_received_bytes_total"))

    # -- what the proxies did -----------------------------------------------------------------------

    def responses(self, hosts: Iterable[str]) -> dict[tuple[str, str], tuple[float, float]]:
        """For each destination host and version (the pods' `version` label): (requests/s,
        5xx responses/s). Only `hosts` are asked for."""
        wanted = sorted(set(hosts))
        if not wanted:
            return {}
        labels = "destination_service, destination_version, response_code"
        promql = (f"max by ({labels}) (sum by (reporter, {labels}) (rate(istio_requests_total"
                  f"{{destination_service=~\"{_alternatives(wanted)}\"}}[{self.window}])))")
        out: dict[tuple[str, str], tuple[float, float]] = {}
        for s in self._ask(promql, "responses"):
            key = (s.labels.get("destination_service", ""), s.labels.get("destination_version", "unknown"))
            total, errors = out.get(key, (0.0, 0.0))
            failed = s.labels.get("response_code", "").startswith("5")
            out[key] = (total + s.value, errors + (s.value if failed else 0.0))
        return out

    def clusters(self, metric: str, aggregate: str, needs: str) -> dict[tuple[str, str], float] | None:
        """An Envoy cluster stat summed over every proxy, per outbound (host, subset); None when
        no proxy exports it (Istio exports few Envoy stats unless proxyStatsMatcher asks)."""
        samples = self._ask(self._cluster_query(metric, aggregate), metric)
        if not samples:
            self._absent(metric, needs)
            return None
        out: dict[tuple[str, str], float] = {}
        for s in samples:
            parts = s.labels.get("cluster_name", "").split("|")
            if len(parts) == 4:
                key = (parts[3], parts[2])
                out[key] = out.get(key, 0.0) + s.value
        return out

    def _cluster_query(self, metric: str, aggregate: str) -> str:
        return f"sum by (cluster_name) ({aggregate}({metric}{{cluster_name=~\"outbound[|].*\"}}[{self.window}]))"

    def retries(self) -> dict[tuple[str, str], float] | None:
        """Retries per second the callers' proxies made toward each (host, subset)."""
        return self.clusters(*RETRIES, "retry evidence needs Envoy's upstream_rq_retry stats (add them to the "
                             "proxies' proxyStatsMatcher)")

    def ejections(self) -> dict[tuple[str, str], float] | None:
        """The peak of active outlier ejections per (host, subset), summed over the callers."""
        return self.clusters(*EJECTIONS, "ejection evidence needs Envoy's outlier_detection stats (add them to the "
                             "proxies' proxyStatsMatcher)")


def _known(label: str) -> bool:
    return bool(label) and label != "unknown"


def _is_host(name: str) -> bool:
    """A host name, not `unknown`, a cluster name (PassthroughCluster) or an IP address."""
    return "." in name and not re.fullmatch(r"[\d.:]+|\[?[0-9a-fA-F:]+\]?(:\d+)?", name)


def _alternatives(values: Iterable[str]) -> str:
    """A PromQL regex matching exactly these strings, escaped for a double-quoted string."""
    return "|".join(re.escape(v) for v in values).replace("\\", "\\\\").replace('"', '\\"')


def selector_for(host: str) -> str:
    """`destination_service="host"`, for the queries shown beside a fact."""
    return f'destination_service="{host}"'


def format_rate(value: float, unit: str) -> str:
    """12 req/s, 0.25 req/s, 1.5 KiB/s."""
    if unit == "B/s":
        return f"{format_bytes(value)}/s"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"


def format_bytes(value: float) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            number = value / size
            return f"{number:.3g} {unit}" if number < 100 else f"{number:,.0f} {unit}"
    return f"{value:.0f} B"
