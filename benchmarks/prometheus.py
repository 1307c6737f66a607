#!/usr/bin/env python3
"""What `--prometheus` costs `meshlint check` on the 5,000-service mesh (issue #16: at most 1 s).

    .venv/bin/python benchmarks/prometheus.py [--services 5000] [--repeat 5] [--step 60]

Generates the telemetry such a mesh's Prometheus holds for one hour (`telemetry()`): Istio's
request metrics on every call of the call graph (both reporters, two response codes), 5% more
calls that only telemetry knows, TCP bytes on a tenth of the calls, the memory of two
istio-proxy containers per Deployment, and Envoy's retry and outlier-ejection stats per
outbound cluster. It backfills them with `promtool tsdb create-blocks-from openmetrics`,
starts Debian's `prometheus` on 127.0.0.1 on that data, and times
`meshlint check stream.yaml --format json` with and without `--prometheus`, interleaved,
counting the queries Prometheus answered (its own `prometheus_http_requests_total`), the CPU
it spent on them (`process_cpu_seconds_total`) and the time it took for each (its query log).
Everything is stopped and removed at the end; needs `make dev` and `apt-get install prometheus`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as bench  # noqa: E402  (benchmarks/run.py: the corpus and the measuring harness)

START = 1_700_000_000
SPAN = 3600
MiB = 1 << 20


def telemetry(edges: list[tuple[str, str]], deployments: list[tuple[str, str]], rng: random.Random,
              step: int) -> tuple[str, int]:
    """OpenMetrics text of one hour of the mesh's telemetry, and its number of series."""
    out: list[str] = []
    series = 0

    def family(metric: str, members: list[tuple[dict[str, str], float, bool]]) -> None:
        nonlocal series
        out.append(f"# TYPE {metric} gauge")
        for labels, value, counter in members:
            series += 1
            text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            for t in range(START, START + SPAN + 1, step):
                out.append(f"{metric}{{{text}}} {value * (t - START) if counter else value:.3f} {t}")

    requests, tcp, retries, ejections = [], [], [], []
    for source, target in edges:
        src_name, src_ns = source.split(".")[:2]
        dst_ns = target.split(".")[1]
        base = {"source_workload": src_name, "source_workload_namespace": src_ns, "destination_service": target,
                "destination_service_namespace": dst_ns, "destination_workload": target.split(".")[0],
                "destination_workload_namespace": dst_ns}
        rate = round(rng.uniform(0.5, 50), 2)
        for reporter in ("source", "destination"):
            labels = {**base, "reporter": reporter,
                      "connection_security_policy": "mutual_tls" if reporter == "destination" else "unknown"}
            requests.append(({**labels, "response_code": "200"}, rate, True))
            requests.append(({**labels, "response_code": "503"}, round(rate * rng.uniform(0, 0.02), 4), True))
            if rng.random() < 0.1:
                tcp.append((labels, rate * 800, True))
        cluster = f"outbound|8080||{target}"
        pod = f"{src_name}-6d8f7c9b5-a1b2c"
        retries.append(({"cluster_name": cluster, "namespace": src_ns, "pod": pod}, round(rate * 0.01, 4), True))
        ejections.append(({"cluster_name": cluster, "namespace": src_ns, "pod": pod}, 0, False))
    family("istio_requests_total", requests)
    family("istio_tcp_sent_bytes_total", tcp)
    family("istio_tcp_received_bytes_total", [(labels, value / 4, True) for labels, value, _ in tcp])
    family("envoy_cluster_upstream_rq_retry", retries)
    family("envoy_cluster_outlier_detection_ejections_active", ejections)
    family("container_memory_working_set_bytes", [
        ({"container": "istio-proxy", "namespace": ns, "pod": f"{name}-6d8f7c9b5-{suffix}"},
         rng.randint(40, 90) * MiB, False) for ns, name in deployments for suffix in ("x2x9z", "q7w8e")])
    out.append("# EOF")
    return "\n".join(out) + "\n", series


def call_graph(meshlint: str, path: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The mesh's service calls (meshlint's own `graph`), and its Deployments (namespace, name)."""
    graph = json.loads(subprocess.run([meshlint, "graph", path, "--format", "json"], check=True,
                                      capture_output=True, text=True).stdout)
    edges = [(e["from"], e["to"]) for e in graph["edges"]
             if e["from"].endswith(".svc.cluster.local") and e["to"].endswith(".svc.cluster.local")]
    deployments = sorted({tuple(n.split(".")[1::-1]) for n in graph["nodes"] if n.endswith(".svc.cluster.local")})
    return edges, deployments  # type: ignore[return-value]


def start_prometheus(data: str, workdir: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = os.path.join(workdir, "prometheus.yml")
    with open(config, "w") as f:  # every query is logged with the time Prometheus took (query_times)
        f.write(f"global:\n  scrape_interval: 1h\n  query_log_file: {os.path.join(workdir, 'queries.log')}\n")
    log = open(os.path.join(workdir, "prometheus.log"), "wb")  # noqa: SIM115 (the server's, closed with it)
    proc = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
                             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1):
                return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"prometheus did not start: see {log.name}")


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run of `cmd`. On a machine shared with
    other work the wall clock also counts waiting for a core; the CPU time is meshlint's own."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime


def server_counters(url: str) -> tuple[int, float]:
    """The queries Prometheus has answered, and the CPU seconds it has used, so far."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    answered = re.search(r'prometheus_http_requests_total\{code="200",handler="/api/v1/query"\} (\d+)', text)
    cpu = re.search(r"^process_cpu_seconds_total (\S+)$", text, re.MULTILINE)
    return (int(answered.group(1)) if answered else 0), (float(cpu.group(1)) if cpu else 0.0)


def query_times(log: str, last: int) -> list[tuple[float, str]]:
    """The seconds Prometheus took to evaluate each of the `last` queries of its query log
    (execTotalTime: queueing, preparing and evaluating), longest first, with the query."""
    with open(log) as f:
        entries = [json.loads(line) for line in f if line.strip()][-last:]
    return sorted(((e["stats"]["timings"]["execTotalTime"], e["params"]["query"]) for e in entries), reverse=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, default=5000)
    p.add_argument("--repeat", type=int, default=5, help="interleaved runs of each (default 5; medians)")
    p.add_argument("--step", type=int, default=60, help="seconds between samples (default 60)")
    p.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    args = p.parse_args(argv)
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        sys.exit("needs Debian's prometheus and promtool: apt-get install prometheus")
    python, meshlint = bench.tool_paths()
    bench.compile_bytecode(python, os.path.join(bench.REPO, "src", "meshlint"))
    bench.ensure_data(args.services)
    stream = os.path.join(bench.DATA, str(args.services), "stream.yaml")
    bench.warm_cache(stream)

    rng = random.Random(args.services)
    edges, deployments = call_graph(meshlint, stream)
    services = sorted({h for e in edges for h in e})
    extra = [(a, rng.choice(services)) for a in rng.sample(services, len(services) // 20)]
    edges = sorted(set(edges + [(a, b) for a, b in extra if a != b]))
    with tempfile.TemporaryDirectory(prefix="meshlint-prometheus-") as work:
        text, series = telemetry(edges, deployments, rng, args.step)
        source = os.path.join(work, "telemetry.om")
        with open(source, "w") as f:
            f.write(text)
        size = len(text)
        del text
        began = time.perf_counter()
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", source, os.path.join(work, "data")],
                       check=True, capture_output=True)
        backfill = time.perf_counter() - began
        os.remove(source)
        server, url = start_prometheus(os.path.join(work, "data"), work)
        try:
            base = [meshlint, "check", stream, "--format", "json", "--output", "/dev/null", "--fail-on", "never"]
            telemetry_args = ["--prometheus", url, "--prometheus-at", str(START + SPAN)]
            before, _ = server_counters(url)
            timed(base + telemetry_args)  # Prometheus' caches, as a second run finds them
            queries = server_counters(url)[0] - before
            plain, observed, server_cpu = [], [], []
            for _ in range(args.repeat):
                plain.append(timed(base))
                cpu_before = server_counters(url)[1]
                observed.append(timed(base + telemetry_args))
                server_cpu.append(server_counters(url)[1] - cpu_before)
            slowest = query_times(os.path.join(work, "queries.log"), queries)
            findings = json.loads(subprocess.run([meshlint, "check", stream, "--format", "json", "--fail-on", "never",
                                                  *telemetry_args], capture_output=True, text=True).stdout)["findings"]
        finally:
            server.terminate()
            server.wait(timeout=30)
    wall = [statistics.median(w for w, _ in runs) for runs in (plain, observed)]
    cpu = [statistics.median(c for _, c in runs) for runs in (plain, observed)]
    added = wall[1] - wall[0]
    result = {
        "services": args.services, "calls": len(edges), "series": series, "openmetrics_mb": round(size / 1e6, 1),
        "backfill_s": round(backfill, 1), "queries": queries,
        "check_s": round(wall[0], 3), "check_prometheus_s": round(wall[1], 3), "added_s": round(added, 3),
        "check_cpu_s": round(cpu[0], 3), "check_prometheus_cpu_s": round(cpu[1], 3),
        "added_cpu_s": round(cpu[1] - cpu[0], 3), "load_average": os.getloadavg()[0],
        "prometheus_cpu_s": round(statistics.median(server_cpu), 3),
        "query_s": [[round(seconds, 3), query] for seconds, query in slowest],
        "runs": {"check": plain, "check --prometheus": observed},
        "findings_with_evidence": sum(1 for f in findings if f.get("evidence")),
        "evidence_by_code": dict(sorted(
            {c: sum(1 for f in findings if f["code"] == c and f.get("evidence")) for c in
             {f["code"] for f in findings if f.get("evidence")}}.items())),
        "verdict": "ok" if added <= 1.0 else "over 1 s",
    }
    print(f"{args.services} services, {len(edges)} calls, {series:,} series ({result['openmetrics_mb']} MB of "
          f"OpenMetrics, backfilled in {backfill:.1f}s)")
    print(f"queries per check: {queries}")
    print(f"                     wall (median of {args.repeat})   meshlint's CPU")
    print(f"check:               {wall[0]:>8.3f}s {cpu[0]:>20.3f}s")
    print(f"check --prometheus:  {wall[1]:>8.3f}s {cpu[1]:>20.3f}s")
    print(f"added:               {added:>+8.3f}s {cpu[1] - cpu[0]:>+20.3f}s  ({result['verdict']}; at most 1 s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"Prometheus' CPU per check --prometheus: {result['prometheus_cpu_s']:.3f}s; its slowest queries:")
    for seconds, query in slowest[:3]:
        print(f"  {seconds:6.3f}s  {query[:100]}{'...' if len(query) > 100 else ''}")
    print(f"findings with evidence: {result['findings_with_evidence']} {result['evidence_by_code']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0 if added <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
