"""A real Prometheus for the `--prometheus` tests, on 127.0.0.1, serving deterministic telemetry.

The telemetry of a small shop (`TELEMETRY`: rates per second of Istio's standard metrics and
Envoy's stats, gauges for proxy memory) is written as OpenMetrics samples every 30 s over two
hours (`START` to `END`), backfilled with `promtool tsdb create-blocks-from openmetrics` into a
temporary data directory, and served by Debian's `prometheus`. Counters grow linearly, so a
rate over any window inside the data is exact; tests query at `END` (`--prometheus-at`), or at
`EARLIER`, in the two hours before, when only the proxies' own Envoy stats were scraped.

`prometheus_server(*flags)` starts another server on the same data (with extra flags, e.g. a
sample limit that makes every query fail), stopped when the test ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

START = 1_700_000_000  # 2023-11-14T22:13:20Z
END = START + 7200  # the tests query here (--prometheus-at 1700007200): the default 1h window lies inside
STEP = 30

MiB = 1 << 20
SHOP = "svc.cluster.local"


def _istio(reporters: tuple[str, ...], source: tuple[str, str], host: str, **extra: str) -> list[dict[str, str]]:
    """The labels of an Istio standard metric, as each reporting proxy writes it."""
    namespace, workload = source
    service_ns = host.split(".")[1]
    out = []
    for reporter in reporters:
        labels = {"reporter": reporter, "source_workload": workload, "source_workload_namespace": namespace,
                  "destination_service": host, "destination_service_namespace": service_ns,
                  "destination_workload": host.split(".")[0], "destination_workload_namespace": service_ns,
                  "connection_security_policy": "mutual_tls" if reporter == "destination" else "unknown"}
        out.append({**labels, **extra})
    return out


BOTH = ("source", "destination")
GATEWAY = ("istio-system", "istio-ingressgateway")

# (metric, labels, rate per second for counters / value for gauges, "counter" | "gauge", first
# and last sample time)
TELEMETRY: list[tuple[str, dict[str, str], float, str, int, int]] = []


def _add(metric: str, label_sets: list[dict[str, str]], value: float, kind: str = "counter",
         period: tuple[int, int] = (START, END)) -> None:
    TELEMETRY.extend((metric, labels, value, kind, *period) for labels in label_sets)


# calls (requests per second): the ingress gateway -> frontend -> cart -> payment -> bank, where
# payment -> bank is known only from telemetry; frontend -> reviews, a 90/10 canary whose v2 fails
_add("istio_requests_total", _istio(BOTH, GATEWAY, f"frontend.shop.{SHOP}", response_code="200"), 20)
_add("istio_requests_total", _istio(BOTH, ("shop", "frontend"), f"cart.shop.{SHOP}", response_code="200"), 12)
_add("istio_requests_total", _istio(BOTH, ("shop", "cart"), f"payment.shop.{SHOP}", response_code="200"), 6)
_add("istio_requests_total", _istio(BOTH, ("shop", "payment"), f"bank.shop.{SHOP}", response_code="200"), 2)
for version, ok, failed in (("v1", 26.973, 0.027), ("v2", 2.64, 0.36)):
    for code, rate in (("200", ok), ("503", failed)):
        _add("istio_requests_total", _istio(BOTH, ("shop", "frontend"), f"reviews.shop.{SHOP}", response_code=code,
                                            destination_version=version), rate)
# a batch job in namespace legacy (no Namespace object in the input, so assumed outside the mesh)
# calls cart with an Istio mTLS certificate: cart's proxy reports it
_add("istio_requests_total", _istio(("destination",), ("legacy", "batch"), f"cart.shop.{SHOP}", response_code="200"),
     0.5)
# cart -> ledger: opaque TCP (ledger's port is unnamed and the protocol is not detected as HTTP)
_add("istio_tcp_sent_bytes_total", _istio(BOTH, ("shop", "cart"), f"ledger.shop.{SHOP}"), 2000)
_add("istio_tcp_received_bytes_total", _istio(BOTH, ("shop", "cart"), f"ledger.shop.{SHOP}"), 500)

# Envoy's retries and outlier ejections, per outbound cluster, from the callers' proxies
for cluster, rate in ((f"outbound|8080||cart.shop.{SHOP}", 0.2), (f"outbound|8080||payment.shop.{SHOP}", 0.0),
                      (f"outbound|8080||bank.shop.{SHOP}", 0.05), (f"outbound|9080|v1|reviews.shop.{SHOP}", 0.1),
                      (f"outbound|9080|v2|reviews.shop.{SHOP}", 0.3)):
    _add("envoy_cluster_upstream_rq_retry", [{"cluster_name": cluster, "namespace": "shop", "pod": "frontend-1"}], rate)
for subset in ("v1", "v2"):
    _add("envoy_cluster_outlier_detection_ejections_active",
         [{"cluster_name": f"outbound|9080|{subset}|reviews.shop.{SHOP}", "namespace": "shop", "pod": "frontend-1"}],
         0, "gauge")

# the proxies' memory (the kubelet's working set of each istio-proxy container)
for pod, size in (("cart-7d9f8c6b5-abcde", 60), ("cart-7d9f8c6b5-fghij", 52), ("ledger-5c8d7f9b4-kx2lp", 40),
                  ("quiet-6b7c8d9f5-zz9qq", 100), ("frontend-59d7c8b6f4-q7w8e", 45)):
    _add("container_memory_working_set_bytes", [{"container": "istio-proxy", "namespace": "shop", "pod": pod}],
         size * MiB, "gauge")

# the two hours before START (query at EARLIER): the kubelet's metrics were not scraped, only the
# proxies' Envoy stats: their own memory, and the canary reviews v2 ejected by frontend's proxy
EARLIER = START - 60
for pod, size in (("cart-7d9f8c6b5-abcde", 70), ("cart-7d9f8c6b5-fghij", 50)):
    _add("envoy_server_memory_allocated", [{"namespace": "shop", "pod": pod}], size * MiB, "gauge",
         (START - 7200, EARLIER - 60))
_add("envoy_cluster_outlier_detection_ejections_active",
     [{"cluster_name": f"outbound|9080|v2|reviews.shop.{SHOP}", "namespace": "shop", "pod": "frontend-0"}], 1, "gauge",
     (START - 7200, EARLIER - 60))


def openmetrics(series: list[tuple[str, dict[str, str], float, str, int, int]], step: int) -> str:
    """The series as OpenMetrics text: each metric family once, each series' samples in order."""
    families: dict[str, list[tuple[dict[str, str], float, str, int, int]]] = {}
    for metric, labels, value, kind, first, last in series:
        families.setdefault(metric, []).append((labels, value, kind, first, last))
    out = []
    for metric, members in families.items():
        out.append(f"# TYPE {metric} gauge")  # rate() reads any type; counters need no _total rules here
        for labels, value, kind, start, end in members:
            text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            for t in range(start, end + 1, step):
                sample = value * (t - start) if kind == "counter" else value
                out.append(f"{metric}{{{text}}} {sample:.6f} {t}")
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binaries() -> tuple[str, str]:
    found = shutil.which("prometheus"), shutil.which("promtool")
    if not all(found):
        reason = "Debian's prometheus and promtool are not installed (make test installs them)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found  # type: ignore[return-value]


@pytest.fixture(scope="session")
def backfilled(tmp_path_factory) -> Path:
    """A data directory holding TELEMETRY, backfilled by promtool."""
    _, promtool = _binaries()
    root = tmp_path_factory.mktemp("prometheus")
    source = root / "telemetry.om"
    source.write_text(openmetrics(TELEMETRY, STEP))
    data = root / "data"
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)], check=True,
                   capture_output=True, timeout=120)
    return data


def _start(data: Path, workdir: Path, *flags: str) -> tuple[subprocess.Popen, str]:
    binary, _ = _binaries()
    port = _free_port()
    config = workdir / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\n")  # scrapes nothing: the data is backfilled
    copy = workdir / f"data-{port}"
    shutil.copytree(data, copy)  # each server locks and writes its own directory
    log = (workdir / f"prometheus-{port}.log").open("wb")
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={copy}",
                             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
                             *flags], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer:
                if answer.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError(f"prometheus did not start: see {log.name}")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def prometheus(backfilled, tmp_path_factory) -> Iterator[str]:
    """The base URL of a Prometheus serving TELEMETRY (query it at END)."""
    proc, url = _start(backfilled, tmp_path_factory.mktemp("server"))
    yield url
    _stop(proc)


@pytest.fixture
def prometheus_server(backfilled, tmp_path) -> Iterator[Callable[..., str]]:
    """`prometheus_server(*flags)`: the URL of one more server on TELEMETRY, with those flags."""
    started: list[subprocess.Popen] = []

    def start(*flags: str) -> str:
        proc, url = _start(backfilled, tmp_path, *flags)
        started.append(proc)
        return url

    yield start
    for proc in started:
        _stop(proc)
