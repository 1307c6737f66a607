"""`--prometheus` against a real Prometheus serving backfilled telemetry (conftest.py): observed
calls in the call graph, evidence on findings, secured servers, and every way a server can
fail the user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest

from meshlint.evidence.attach import _owners, _quantity
from meshlint.evidence.prometheus import PrometheusSource, Telemetry, parse_header, parse_time, parse_window

AT = "1700007200"  # --prometheus-at: the end of the telemetry conftest.py backfills (2023-11-15T00:13:20Z)
EARLIER = "1699999940"  # a minute before it starts: only Envoy's own stats (conftest.py EARLIER)
MiB = 1 << 20
CLUSTER = "svc.cluster.local"
SHOP = Path(__file__).with_name("shop.yaml")
SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


def findings(run, *args: str) -> tuple[int, list[dict], str]:
    proc = run("check", str(SHOP), "--format", "json", *args)
    return proc.returncode, json.loads(proc.stdout)["findings"], proc.stderr


def one(found: list[dict], code: str, name: str) -> dict:
    (f,) = [f for f in found if f["code"] == code and f["resource"]["name"] == name]
    return f


@pytest.fixture(scope="module")
def observed(run, prometheus) -> tuple[int, list[dict], str]:
    """`check --format json` on the shop with its telemetry."""
    return findings(run, "--prometheus", prometheus, "--prometheus-at", AT)


# --- observed calls ---------------------------------------------------------------------------------


def test_a_call_known_only_from_telemetry_changes_ml302s_verdict(run, prometheus):
    code, without, _ = findings(run)
    assert not [f for f in without if f["code"] == "ML302"]  # frontend -> cart -> payment: 9x
    code, found, _ = findings(run, "--prometheus", prometheus, "--prometheus-at", AT)
    (ml302,) = [f for f in found if f["code"] == "ML302"]
    assert ml302["message"].startswith("workload/istio-system/istio-ingressgateway → frontend → cart → payment → "
                                       "bank: up to 81x at bank")
    # the entry is a gateway only telemetry knows: the finding points at the first service of the input
    assert ml302["resource"]["name"] == "frontend" and ml302["line"] > 0
    load, retries = ml302["evidence"]
    assert load["source"] == "prometheus" and load["value"] == pytest.approx(20 * 81)
    assert "istio-ingressgateway sends 20 req/s" in load["text"] and "1,620 tries/s" in load["text"]
    assert retries["value"] == pytest.approx(0.25)
    assert "cart 0.2 retries/s (1.6% of its requests)" in retries["text"] and "payment none" in retries["text"]


def test_graph_shows_observed_calls_with_their_rates(run, prometheus):
    proc = run("graph", str(SHOP), "--format", "json", "--prometheus", prometheus, "--prometheus-at", AT)
    assert proc.returncode == 0, proc.stderr
    edges = {(e["from"].split(".")[0], e["to"].split(".")[0]): e for e in json.loads(proc.stdout)["edges"]}
    bank = edges[("payment", "bank")]
    assert bank["source"] == "prometheus" and bank["tries"] == 3
    assert bank["observed"] == {"rate": pytest.approx(2), "unit": "req/s"}
    assert edges[("frontend", "cart")]["source"] == "env,prometheus"
    # the call to ledger is TCP only: its rate is in bytes per second, both ways
    assert edges[("cart", "ledger")]["observed"] == {"rate": pytest.approx(2500), "unit": "B/s"}
    without = json.loads(run("graph", str(SHOP), "--format", "json").stdout)["edges"]
    assert all("observed" not in e for e in without) and len(without) == len(edges) - 2
    text = run("graph", str(SHOP), "--prometheus", prometheus, "--prometheus-at", AT).stdout
    assert "81x  workload/istio-system/istio-ingressgateway → frontend → cart →" in text
    assert "[prometheus]" in text and "2 req/s; Istio default" in text
    for fmt, label in (("dot", "3x\\n2 req/s"), ("mermaid", "3x · 2 req/s")):
        out = run("graph", str(SHOP), "--format", fmt, "--prometheus", prometheus, "--prometheus-at", AT).stdout
        assert label in out


def test_simulate_takes_the_observed_request_rate(run, prometheus):
    args = ("simulate", str(SHOP), "--fail", "bank", "--format", "json", "--prometheus", prometheus,
            "--prometheus-at", AT)
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["entry_rps"] == pytest.approx(20)
    assert "--rps 20: the request rate into workload/istio-system/istio-ingressgateway in the 1h to " \
           "2023-11-15 00:13 UTC (--prometheus)" in proc.stderr
    assert json.loads(run(*args, "--rps", "50").stdout)["entry_rps"] == 50
    # entering at frontend, the rate is what frontend receives
    entered = run(*args, "--entry", "frontend")
    assert json.loads(entered.stdout)["entry_rps"] == pytest.approx(20)


# --- evidence on findings -------------------------------------------------------------------------


def test_ml101_request_metrics_mean_sniffing_detects_http(observed):
    _, found, _ = observed
    (evidence,) = one(found, "ML101", "cart")["evidence"]
    assert evidence["value"] == pytest.approx(12.5)  # frontend 12 req/s, legacy/batch 0.5
    assert "request-level metrics in the 1h to 2023-11-15 00:13 UTC: 12.5 req/s: Istio's sniffing detects " \
           "HTTP today" in evidence["text"]
    assert "lost" not in evidence["text"]
    assert evidence["query"] == \
        'sum(rate(istio_requests_total{destination_service="cart.shop.svc.cluster.local"}[1h]))'


def test_ml101_tcp_metrics_alone_confirm_that_l7_is_lost(observed):
    _, found, _ = observed
    (evidence,) = one(found, "ML101", "ledger")["evidence"]
    assert evidence["value"] == pytest.approx(2500)
    assert evidence["text"].startswith("TCP-level metrics only in the 1h to 2023-11-15 00:13 UTC: 2.44 KiB/s and "
                                       "no request-level metrics: Istio handles this traffic as opaque TCP")


def test_ml101_without_traffic_says_only_that(observed):
    _, found, _ = observed
    (evidence,) = one(found, "ML101", "quiet")["evidence"]
    assert evidence["value"] == 0 and evidence["text"].startswith("no Istio metrics for this Service")


def test_ml402_proxy_memory_against_its_request_and_per_namespace(observed):
    _, found, _ = observed
    pods, namespace = one(found, "ML402", "cart")["evidence"]
    assert pods["value"] == 112 * MiB
    assert "peak 60 MiB (2 pods, 112 MiB in all), against no memory request" in pods["text"]
    assert namespace["value"] == 152 * MiB  # cart's two proxies and ledger's, none with a memory request
    assert namespace["text"].startswith("namespace shop: 152 MiB of istio-proxy memory in 3 proxies without a "
                                        "memory request")
    (quiet,) = one(found, "ML402", "quiet")["evidence"]  # its finding is about CPU: memory has a request
    assert "peak 100 MiB (1 pod, 100 MiB in all), against a 64Mi memory request (1.6x)" in quiet["text"]


def test_ml304_the_canarys_error_rate_and_ejections(observed):
    _, found, _ = observed
    errors, ejections = one(found, "ML304", "reviews")["evidence"]
    assert errors["value"] == pytest.approx(0.12)
    assert "reviews (subset v1) 0.1% 5xx of 27 req/s; reviews (subset v2) 12.0% 5xx of 3 req/s" in errors["text"]
    assert ejections["value"] == 0 and ejections["text"].startswith("no outlier ejections")


def test_without_the_kubelets_metrics_envoys_own_memory_and_ejections_are_read(run, prometheus):
    # the hour before the shop's telemetry: only the proxies' Envoy stats were scraped (conftest.py)
    code, found, stderr = findings(run, "--prometheus", prometheus, "--prometheus-at", EARLIER)
    (pods,) = one(found, "ML402", "cart")["evidence"][:1]
    assert pods["value"] == 120 * MiB
    assert "peak 70 MiB (2 pods, 120 MiB in all), against no memory request" in pods["text"]
    assert pods["query"].startswith('max_over_time(envoy_server_memory_allocated{namespace="shop",pod=~"cart-.*"}')
    errors, ejections = one(found, "ML304", "reviews")["evidence"]
    assert "reviews (subset v2) no requests" in errors["text"]
    assert ejections["value"] == 1
    assert ejections["text"].startswith("at most 1 host ejected at once in the 1h to 2023-11-14 22:12 UTC")


def test_ml301_the_observed_retry_rate_beside_the_configured_worst_case(observed):
    _, found, _ = observed
    too_many = [f for f in found if f["code"] == "ML301" and f["variant"] == "too-many-attempts"][0]
    (evidence,) = too_many["evidence"]
    assert evidence["value"] == pytest.approx(0.4)
    assert "0.4 retries/s toward reviews.shop.svc.cluster.local (1.3% of its 30 req/s); configured worst case " \
           "6 tries per request" in evidence["text"]


def test_telemetry_contradicting_an_assumption_is_said(observed):
    _, found, _ = observed
    ml201 = one(found, "ML201", "batch")
    assert "assuming namespace legacy is outside the mesh" in ml201["message"]
    (evidence,) = ml201["evidence"]
    assert evidence["text"].startswith("telemetry contradicts the assumption that namespace legacy is outside the "
                                       "mesh: its workloads call meshed services with Istio mTLS certificates")
    assert 'source_workload_namespace="legacy",connection_security_policy="mutual_tls"' in evidence["query"]


def test_evidence_never_creates_or_changes_a_finding(run, observed):
    def key(found: list[dict]) -> list[tuple]:
        return [(f["code"], f["line"], f["message"]) for f in found if f["code"] != "ML302"]

    code, without, _ = findings(run)
    assert key(observed[1]) == key(without)
    assert all("evidence" not in f for f in without)
    # evidence only where telemetry has a fact: ML303 and ML403 have none
    assert all("evidence" not in f for f in observed[1] if f["code"] in ("ML303", "ML403"))


def test_text_and_sarif_carry_the_evidence(run, prometheus):
    text = run("check", str(SHOP), "--prometheus", prometheus, "--prometheus-at", AT).stdout.splitlines()
    at = next(i for i, line in enumerate(text) if "ML101" in line and "shop/ledger" in line)
    assert text[at + 1].startswith("  evidence (prometheus): TCP-level metrics only")
    assert text[at + 2].startswith("  help: ")
    proc = run("check", str(SHOP), "--format", "sarif", "--prometheus", prometheus, "--prometheus-at", AT)
    doc = json.loads(proc.stdout)
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)
    errors = list(validator(schema).iter_errors(doc))
    assert not errors, errors[:3]
    ledger = next(r for r in doc["runs"][0]["results"] if r["ruleId"] == "ML101" and "shop/ledger" in
                  r["message"]["text"])
    assert "\nEvidence (prometheus): TCP-level metrics only" in ledger["message"]["text"]
    assert ledger["properties"]["evidence"][0]["value"] == pytest.approx(2500)


def test_the_html_report_shows_the_evidence_and_the_observed_calls(run, prometheus, tmp_path):
    report = tmp_path / "report.html"
    proc = run("check", str(SHOP), "--format", "html", "--output", str(report), "--prometheus", prometheus,
               "--prometheus-at", AT)
    assert proc.returncode == 1, proc.stderr
    page = report.read_text()
    assert "TCP-level metrics only in the 1h to 2023-11-15 00:13 UTC: 2.44 KiB/s and no request-level metrics" in page
    # the query is shown as text: PromQL's quotes and braces are escaped, never markup
    assert "<code>sum(rate(istio_requests_total{destination_service=&#34;cart.shop.svc.cluster.local&#34;}[1h]))" \
           "</code>" in page
    # the call graph's hop that only telemetry knows carries its observed rate
    assert "payment → bank: 3 tries; 2 req/s; Istio default [prometheus]" in page


def test_a_query_is_capped_and_the_cap_is_said(prometheus, monkeypatch):
    from meshlint.evidence import prometheus as telemetry_module

    monkeypatch.setattr(telemetry_module, "SERIES_CAP", 3)
    telemetry = Telemetry.connect(PrometheusSource(prometheus, at=float(AT)))
    try:
        telemetry.prefetch("calls")
        calls = telemetry.requests().into()
    finally:
        telemetry.close()
    # the three largest calls (frontend -> reviews 30, the gateway -> frontend 20, frontend -> cart 12
    # req/s): the smaller ones are left out
    assert calls == {f"reviews.shop.{CLUSTER}": pytest.approx(30), f"frontend.shop.{CLUSTER}": pytest.approx(20),
                     f"cart.shop.{CLUSTER}": pytest.approx(12)}
    assert telemetry.notes == ["--prometheus: requests per call: only the 3 largest series are used"]


def test_an_empty_answer_is_a_fact_not_an_error(run, prometheus):
    code, found, stderr = findings(run, "--prometheus", prometheus, "--prometheus-at", "2020-01-01T00:00:00Z")
    assert code == 1
    assert not [f for f in found if f["code"] == "ML302"]
    assert one(found, "ML101", "cart")["evidence"][0]["value"] == 0
    assert "evidence" not in one(found, "ML402", "cart")
    assert "meshlint: note: --prometheus: no container_memory_working_set_bytes" in stderr


# --- reaching the server, and failing ---------------------------------------------------------------


class _Gate(BaseHTTPRequestHandler):
    """A reverse proxy in front of Prometheus that wants a bearer token and a tenant header (as
    an OAuth proxy or Mimir's gateway does), and counts the queries it forwards; or, with
    `answer` set, a server that gives that answer to everything."""

    upstream = ""
    url = ""
    token = "s3cret"
    tenant = "shop"
    answer: tuple[int, bytes] | None = None
    delay = 0.0  # seconds before answering
    mangle = False  # forward each query without its last character (so that Prometheus refuses it)
    forwarded = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay)
        if self.answer is not None:
            return self._reply(*self.answer)
        if self.mangle:
            form = urllib.parse.parse_qs(body.decode())
            body = urllib.parse.urlencode({**form, "query": form["query"][0][:-1]}, doseq=True).encode()
            return self._forward(body)
        if self.headers.get("Authorization") != f"Bearer {self.token}" or self.headers.get("X-Scope-OrgID") != \
                self.tenant:
            return self._reply(401, b"Unauthorized\n")
        type(self).forwarded += 1
        self._forward(body)

    def _forward(self, body: bytes) -> None:
        request = urllib.request.Request(self.upstream + self.path, data=body, method="POST",
                                         headers={"Content-Type": self.headers["Content-Type"]})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                self._reply(response.status, response.read())
        except urllib.error.HTTPError as exc:
            self._reply(exc.code, exc.read())

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gate(prometheus) -> Iterator[type[_Gate]]:
    handler = type("Gate", (_Gate,), {"upstream": prometheus, "forwarded": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield handler
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_secured_server_takes_a_bearer_token_and_headers(run, gate, tmp_path):
    proc = run("check", str(SHOP), "--prometheus", gate.url, "--prometheus-at", AT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"meshlint: error: --prometheus {gate.url}: HTTP 401 (Unauthorized): give credentials "
                           "with --prometheus-header or --prometheus-token-file; query: " +
                           proc.stderr.split("; query: ", 1)[1])
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    code, found, stderr = findings(run, "--prometheus", gate.url, "--prometheus-at", AT,
                                   "--prometheus-token-file", str(token), "--prometheus-header", "X-Scope-OrgID: shop")
    assert code == 1, stderr
    assert one(found, "ML101", "ledger")["evidence"][0]["value"] == pytest.approx(2500)
    # bounded: every question is one query over the whole mesh, whatever its size
    assert gate.forwarded <= 10


def test_an_unreachable_server_ends_the_run(run, tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run("check", str(SHOP), "--prometheus", f"http://127.0.0.1:{port}")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(f"meshlint: error: --prometheus http://127.0.0.1:{port}: cannot connect: ")
    assert proc.stderr.count("\n") == 1
    for command in (("graph",), ("simulate", "--fail", "bank")):
        assert run(*command, str(SHOP), "--prometheus", f"http://127.0.0.1:{port}").returncode == 2


def test_a_server_answering_400_ends_the_run(run, gate):
    gate.mangle = True  # the real server refuses the query, as it answers a PromQL it cannot parse
    proc = run("check", str(SHOP), "--prometheus", gate.url, "--prometheus-at", AT)
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.count("\n") == 1
    assert proc.stderr == f"meshlint: error: --prometheus {gate.url}: HTTP 400 (bad_data: invalid parameter " \
                          '"query": 1:9: parse error: unclosed left parenthesis); query: vector(1)\n'
    gate.mangle = False
    gate.answer = (400, b'{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": '
                        b'1:9: parse error: unexpected end of input"}')
    proc = run("check", str(SHOP), "--prometheus", gate.url)
    assert proc.returncode == 2
    assert f"--prometheus {gate.url}: HTTP 400 (bad_data: invalid parameter \"query\": 1:9: parse error" in proc.stderr
    gate.answer = (200, b"<html>Grafana</html>")
    proc = run("check", str(SHOP), "--prometheus", gate.url)
    assert proc.returncode == 2 and "the answer is not Prometheus' query API" in proc.stderr


def test_a_server_that_does_not_answer_in_time_ends_the_run(run, gate):
    gate.delay = 3
    began = time.monotonic()
    proc = run("graph", str(SHOP), "--prometheus", gate.url, "--prometheus-timeout", "0.5")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"meshlint: error: --prometheus {gate.url}: no answer within 0.5s (--prometheus-timeout); " \
                          "query: vector(1)\n"
    assert time.monotonic() - began < 3


def test_a_query_the_real_server_refuses_ends_the_run(run, prometheus_server):
    url = prometheus_server("--query.max-samples=1")  # every query loads more samples than that
    proc = run("check", str(SHOP), "--prometheus", url, "--prometheus-at", AT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"meshlint: error: --prometheus {url}: HTTP 422 (execution: query processing would load too many " \
           "samples into memory" in proc.stderr


@pytest.mark.parametrize(("args", "error"), [
    (("--prometheus-window", "1h"), ""),
    (("--prometheus", "http://127.0.0.1:9", "--prometheus-window", "1h1h"), "--prometheus-window '1h1h'"),
    (("--prometheus", "http://127.0.0.1:9", "--prometheus-window", "30s"), "--prometheus-window '30s': shorter"),
    (("--prometheus", "http://127.0.0.1:9", "--prometheus-at", "2999-01-01T00:00:00Z"), "in the future"),
    (("--prometheus", "http://127.0.0.1:9", "--prometheus-at", "yesterday"), "--prometheus-at 'yesterday'"),
    (("--prometheus", "http://127.0.0.1:9", "--prometheus-at", "2024-05-01T12:00:00"), "add a time zone"),
    (("--prometheus", "http://127.0.0.1:9", "--prometheus-header", "Bearer x"), "expected 'Name: value'"),
    (("--prometheus", "prometheus:9090"), "expected an http:// or https:// URL"),
    (("--prometheus-at", "0"), "the --prometheus-* options need --prometheus URL"),
    (("--prometheus", "http://127.0.0.1:9", "--prometheus-token-file", "/nonexistent"), "cannot read /nonexistent"),
])
def test_options_that_cannot_be_used_are_usage_errors(run, args, error):
    proc = run("check", str(SHOP), *args)
    if not error:  # the default window alone is no option given
        assert proc.returncode == 1
        return
    assert proc.returncode == 2 and error in proc.stderr and proc.stderr.count("\n") == 1
    for command in (("graph",), ("simulate", "--fail", "bank")):  # the same options, the same checks
        proc = run(*command, str(SHOP), *args)
        assert proc.returncode == 2 and proc.stdout == "" and error in proc.stderr


@pytest.mark.parametrize("timeout", ["0", "-1", "inf", "nan", "soon"])
def test_a_timeout_that_bounds_nothing_is_a_usage_error(run, timeout):
    proc = run("check", str(SHOP), "--prometheus", "http://127.0.0.1:9", "--prometheus-timeout", timeout)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines()[-1].startswith("meshlint check: error: argument --prometheus-timeout: ")


def test_a_run_without_prometheus_imports_none_of_it(root):
    """`meshlint check one.yaml` starts as fast as before: nothing --prometheus needs is imported."""
    script = ("import sys; from meshlint.cli import main; code = main(['check', sys.argv[1], '--fail-on', 'never']); "
              "print(sorted(m for m in sys.modules if m.startswith(('meshlint.evidence', 'urllib.request', "
              "'http.client', 'concurrent.futures', 'ssl'))), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", script, str(SHOP)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(root / "src")})
    assert proc.returncode == 0 and proc.stderr.splitlines()[-1] == "[]", proc.stderr


# --- units --------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", ["1m", "60s", "30m", "1h", " 2h ", "1h30m", "7d", "1y2w3d4h5m6s7ms"])
def test_windows_prometheus_takes_of_a_minute_or_more_are_accepted(window):
    assert parse_window(window) == window.strip()


@pytest.mark.parametrize(("window", "reason"), [
    ("", "expected a Prometheus duration such as 1h, 30m or 1d12h"),
    ("1h1h", "largest first, each once"),
    ("1m1h", "largest first, each once"),
    ("-1h", "expected a Prometheus duration"),
    ("1.5h", "(no fractions: 1h30m, not 1.5h)"),
    ("90", "(add a unit: 90m, 90h)"),
    ("1H", "(units are lower case: 1h)"),
    ("0", "expected a Prometheus duration"),
    ("0h", "shorter than 1m"),
    ("30s", "shorter than 1m; a rate needs two scrapes inside the window"),
    ("5ms", "shorter than 1m"),  # a typo of 5m that would read as 'no traffic anywhere'
    ("300y", "longer than Prometheus can represent"),
])
def test_windows_prometheus_refuses_or_too_short_to_hold_a_rate_are_refused(window, reason):
    with pytest.raises(ValueError) as refused:
        parse_window(window)
    assert str(refused.value).startswith(f"--prometheus-window {window.strip()!r}: ") and reason in str(refused.value)


def test_parsing_the_time_and_headers():
    assert parse_time("1700007200") == 1700007200 and parse_time("1700007200.5") == 1700007200.5
    assert parse_time("2023-11-15T00:13:20Z") == 1700007200
    assert parse_time("2023-11-15T01:13:20+01:00") == 1700007200
    for refused, reason in (("nan", "expected RFC 3339"), ("1e9", "expected RFC 3339"), ("-5", "expected RFC 3339"),
                            ("2023-11-15", "add a time zone"), ("1700007261", "in the future")):
        with pytest.raises(ValueError, match=reason):
            parse_time(refused, now=1700007200)
    assert parse_time("1700007259", now=1700007200) == 1700007259  # a server's clock may run a little ahead
    assert parse_header("X-Scope-OrgID:  shop ") == ("X-Scope-OrgID", "shop")


def test_pods_belong_to_workloads_by_the_names_kubernetes_gives_them():
    workloads = {("shop", "cart"), ("shop", "db"), ("shop", "agent"), ("shop", "report"), ("shop", "one-off")}
    pods = [("shop", "cart-7d9f8c6b5-x2x9z"), ("shop", "db-0"), ("shop", "agent-q7w8e"),
            ("shop", "report-28391040-k2j4h"), ("shop", "one-off"), ("shop", "cartographer-5d8f-abcde"),
            ("other", "cart-7d9f8c6b5-x2x9z")]
    assert _owners(pods, workloads) == {
        ("shop", "cart-7d9f8c6b5-x2x9z"): ("shop", "cart"), ("shop", "db-0"): ("shop", "db"),
        ("shop", "agent-q7w8e"): ("shop", "agent"), ("shop", "report-28391040-k2j4h"): ("shop", "report"),
        ("shop", "one-off"): ("shop", "one-off")}
    assert _quantity("128Mi") == 128 * MiB and _quantity("1G") == 10**9 and _quantity("lots") is None
