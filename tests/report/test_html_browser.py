"""The HTML report in a real headless Chromium (Debian's chromium and chromium-driver, driven by
selenium): it loads offline without an error, shows every finding and filters them, keeps a
hostile manifest inert, draws the call graph, and stays small and quick on 1,000 services."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# The same markup a manifest could smuggle anywhere: each piece sets window.__xss if it ever runs.
PROBE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: probe
  labels:
    istio-injection: enabled
    istio.io/rev: "<img src=x onerror=window.__xss=1></script><script>window.__xss=2</script>"
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: probe}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["shop.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: probe, namespace: probe}
spec:
  hosts:
  - "<img src=x onerror=window.__xss=3>.example.com"   # </script><script>window.__xss=4</script>
  gateways: [edge]
  http:
  - route:
    - destination: {host: web.probe.svc.cluster.local}
"""
PROBE_CALLS = 'edges:\n- {from: web.probe, to: "</script><img src=x onerror=window.__xss=5>"}\n'
LABEL_PROBE = "<img src=x onerror=window.__xss=1></script><script>window.__xss=2</script>"
HOST_PROBE = "<img src=x onerror=window.__xss=3>.example.com"
LINE_PROBE = "# </script><script>window.__xss=4</script>"
NODE_PROBE = "</script><img src=x onerror=window.__xss=5>"

CARDS = """return Array.from(document.querySelectorAll('#findings-list .finding')).map(c => ({
  code: c.dataset.code, namespace: c.dataset.namespace, severity: c.dataset.severity,
  message: c.querySelector('.message').textContent, where: c.querySelector('.where').textContent,
  resource: c.querySelector('.resource') ? c.querySelector('.resource').textContent : null,
  shown: c.getClientRects().length > 0}))"""
SHOWN = "return Array.from(document.querySelectorAll('#findings-list .finding')).filter(c => !c.hidden)" \
        ".map(c => c.dataset.code + ' ' + c.dataset.namespace + ' ' + c.dataset.severity)"


@pytest.fixture(scope="module")
def examples_report(run, root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "examples.html"
    proc = run("check", "examples", "--format", "html", "--output", str(out), cwd=root)
    assert proc.returncode == 1, proc.stderr
    return out


def _quiet(browser, page: Path) -> None:
    """No console message (an error, a refused script or request), no request over a network,
    and none from the page but for the page itself (and its data: icon)."""
    assert browser.console() == []
    requests = browser.requests()
    assert [url for url, _ in requests if urlsplit(url).scheme not in ("file", "data", "chrome")] == []
    uri = page.resolve().as_uri()
    assert {url for url, document in requests if document == uri and not url.startswith("data:")} == {uri}


def test_the_examples_report_loads_offline_and_without_errors(browser, examples_report):
    browser.open(examples_report)
    _quiet(browser, examples_report)
    assert browser.js("return document.title") == "meshlint report: 19 findings"
    assert browser.js("return document.querySelectorAll('#graph-svg .node').length") == 14


def test_every_finding_of_the_json_output_is_shown(browser, workspace, tmp_path):
    """The mixed input: a syntax error, broken objects, suppressed findings, odd file and port
    names, and a document on stdin."""
    page = tmp_path / "mixed.html"
    page.write_text(workspace.check("--format", "html", stdin=workspace.stdin).stdout)
    expected = json.loads(workspace.check("--format", "json", stdin=workspace.stdin).stdout)["findings"]
    browser.open(page)
    _quiet(browser, page)
    cards = browser.js(CARDS)
    assert all(card["shown"] for card in cards)
    shown = sorted((c["code"], c["message"], c["where"], c["resource"]) for c in cards)
    where = {id(f): f"{'stdin' if f['file'] == '-' else f['file']}:{f['line']}:{f['column']}" for f in expected}
    assert shown == sorted((f["code"], f["message"], where[id(f)], _display(f["resource"])) for f in expected)
    assert len(cards) == 24


def _display(resource: dict | None) -> str | None:
    if resource is None:
        return None
    where = f"{resource['namespace']}/{resource['name']}" if resource["namespace"] else resource["name"]
    return f"{resource['kind']} {where}"


def test_the_filters_change_what_is_shown(browser, examples_report):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.open(examples_report)
    driver = browser.driver
    everything = browser.js(SHOWN)
    assert len(everything) == 19

    def shown_after(action, count: int) -> list[str]:
        """What is shown once the page says `count` are (the text filter waits for typing to pause)."""
        action()
        WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "shown-count").text == str(count))
        return browser.js(SHOWN)

    def reset():
        browser.click("#filters button[type=reset]")

    def choose(control: str, value: str):
        return lambda: Select(driver.find_element(By.ID, control)).select_by_value(value)

    no_errors = shown_after(lambda: browser.click("input[name=severity][value=error]"), 12)
    assert no_errors == [s for s in everything if not s.endswith(" error")]
    assert shown_after(reset, 19) == everything
    assert shown_after(choose("filter-rule", "ML301"), 2) == ["ML301 payments warning"] * 2
    assert shown_after(choose("filter-namespace", "ns:shop"), 0) == []  # no ML301 in shop
    assert driver.find_element(By.ID, "no-match").is_displayed()
    shown_after(reset, 19)
    assert shown_after(choose("filter-namespace", "ns:legacy"), 1) == ["ML201 legacy error"]
    shown_after(reset, 19)
    # every word, in any case, anywhere in a finding (message, resource, file, source lines)
    typed = shown_after(lambda: driver.find_element(By.ID, "filter-text").send_keys("STRICT payments/default"), 5)
    assert typed == ["ML201 legacy error", "ML202 payments error", "ML202 payments error", "ML201 payments error",
                     "ML202 payments error"]
    shown_after(reset, 19)
    # the summary's links set the filters
    istio = shown_after(lambda: browser.click("[data-filter-namespace='ns:istio-system']"), 2)
    assert istio == ["ML203 istio-system warning", "ML404 istio-system warning"]
    assert shown_after(lambda: browser.click("[data-only-severity=error]"), 0) == []
    assert shown_after(lambda: browser.click("[data-filter-rule=ML202]"), 0) == []
    assert browser.console() == []


def test_a_finding_opens_its_rule_doc(browser, examples_report):
    from selenium.webdriver.common.by import By

    browser.open(examples_report)
    doc = browser.driver.find_element(By.ID, "rule-ML101")
    assert doc.get_attribute("open") is None
    browser.click("#findings-list [data-code=ML101] a.code")
    assert doc.get_attribute("open") == "true"
    assert "Why it matters" in doc.text and "meshlint.io/ignore" in doc.text


def test_the_amplification_finding_shows_its_path_in_the_graph(browser, examples_report):
    from selenium.webdriver.common.by import By

    browser.open(examples_report)
    browser.click("[data-show-path]")
    path = browser.driver.find_element(By.CSS_SELECTOR, ".paths button.on")
    assert path.text.startswith("18× frontend → checkout → payment → api.acmebank.example")
    lit = browser.js("return Array.from(document.querySelectorAll('#graph-svg .node.on')).map(n => n.dataset.name)")
    assert lit == ["api.acmebank.example", "checkout", "frontend", "payment"]  # in id (host) order
    hot = browser.js("return Array.from(document.querySelectorAll('#graph-svg .edge.on')).map(e => e.classList"
                     ".contains('hot'))")
    assert hot == [True, True, True]


def test_a_namespace_collapses_into_a_bar_and_expands_again(browser, examples_report):
    from selenium.webdriver.common.by import By

    browser.open(examples_report)
    shown = "return Array.from(document.querySelectorAll('#graph-svg .node')).filter(n => n.getClientRects().length)" \
            ".map(n => n.dataset.name).sort()"
    before = browser.js(shown)
    lane = browser.driver.find_element(By.XPATH, "//*[local-name()='text'][@class='lane-name']"
                                                 "[contains(., 'payments')]")
    lane.click()
    payments = ("CronJob/payments/ledger-rollup", "fraud", "ledger", "payment", "payment-backoffice")
    assert browser.js(shown) == [n for n in before if n not in payments]
    # the edges of the collapsed namespace end on its bar
    bar = browser.js("const r = document.querySelector('.lane.collapsed rect'); return [+r.getAttribute('y'), "
                     "+r.getAttribute('height')]")
    into = browser.js("const payment = document.querySelector('#graph-svg .node[data-name=payment]'); "
                      "return document.querySelector(`#graph-svg .edge[data-to=${payment.id}]`).getAttribute('d')")
    assert float(into.rsplit(",", 1)[1]) == pytest.approx(bar[0] + bar[1] / 2, abs=0.1)
    lane.click()
    assert browser.js(shown) == before
    assert browser.console() == []


def test_the_graph_page_draws_the_graph_alone(browser, run, root, tmp_path):
    page = tmp_path / "graph.html"
    proc = run("graph", "examples", "--format", "html", "--output", str(page), cwd=root)
    assert proc.returncode == 0, proc.stderr
    browser.open(page)
    _quiet(browser, page)
    assert browser.js("return document.querySelectorAll('#graph-svg .node').length") == 14
    assert browser.js("return document.querySelectorAll('#findings').length") == 0
    assert browser.js("return document.querySelector('.paths button.hot').textContent").startswith("18×")


def test_the_xss_probe_stays_inert(browser, run, files, tmp_path):
    files("probe.yaml", PROBE)
    files("calls.yaml", PROBE_CALLS)
    for command in ("check", "graph"):
        page = tmp_path / f"{command}.html"
        proc = run(command, "probe.yaml", "--call-graph", "calls.yaml", "--format", "html", "--output", str(page),
                   cwd=tmp_path)
        assert proc.returncode in (0, 1), proc.stderr
        raw = page.read_text()
        assert "<img" not in raw and raw.count("<script") == raw.count("</script>") == 1  # the page's own
        browser.open(page)
        assert browser.js("return window.__xss") is None
        assert browser.js("return [document.images.length, document.scripts.length]") == [0, 1]
        _quiet(browser, page)  # no script even tried to run: the policy would have said so
        text = browser.js("return document.body.textContent")
        assert NODE_PROBE in text  # a host of the call graph, as it was written
        names = browser.js("return Array.from(document.querySelectorAll('#graph-svg .node')).map(n => n.dataset.name)")
        assert NODE_PROBE in names  # and in an attribute
        if command == "check":
            for probe in (LABEL_PROBE, HOST_PROBE, LINE_PROBE):
                assert probe in text, probe
            lines = browser.js("return document.querySelector('[data-code=ML103] .excerpt').textContent")
            assert f'"{HOST_PROBE}"   {LINE_PROBE}' in lines


# --- 1,000 services --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mesh_1000(root, tmp_path_factory) -> Path:
    """The benchmark's generated mesh of 1,000 services (benchmarks/README.md), one file per application."""
    out = tmp_path_factory.mktemp("mesh-1000")
    subprocess.run([sys.executable, str(root / "benchmarks" / "generate.py"), "--services", "1000", "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    return out / "files"


def test_the_report_of_1000_services_is_small_and_usable_within_3_seconds(browser, run, mesh_1000, tmp_path,
                                                                          end_of_run_summary):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = tmp_path / "mesh.html"
    proc = run("check", str(mesh_1000), "--format", "html", "--output", str(page), "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    size = page.stat().st_size
    assert size <= 10_000_000
    ready = browser.open(page)
    loaded = WebDriverWait(browser.driver, 15).until(
        lambda d: d.execute_script("return performance.getEntriesByType('navigation')[0].loadEventEnd"))
    usable = max(ready, loaded)
    assert usable <= 3000
    _quiet(browser, page)
    assert browser.js("return document.querySelectorAll('#graph-svg .node').length") == 722
    # a graph this size opens collapsed, one bar per namespace; finding a service opens its lane
    assert browser.js("return document.querySelectorAll('#graph-svg .lane.collapsed').length") == 51
    browser.driver.find_element(By.ID, "graph-search").send_keys("search-reader\n")
    picked = WebDriverWait(browser.driver, 5).until(
        lambda d: d.execute_script("const n = document.querySelector('.node.picked'); return n && n.dataset.name"))
    assert picked == "search-reader"
    assert browser.js("return document.querySelectorAll('#graph-svg .lane.collapsed').length") == 50
    # what the page takes to answer: every lane expanded and redrawn, then the findings filtered
    expand, fold = (browser.js(f"const t = performance.now(); document.querySelector('[data-lanes={how}]').click(); "
                               "return performance.now() - t") for how in ("expand", "collapse"))
    filtering = browser.js("const t = performance.now(); const box = document.getElementById('filter-text'); "
                           "box.value = 'retries'; box.dispatchEvent(new Event('change', {bubbles: true})); "
                           "return performance.now() - t")
    assert max(expand, fold, filtering) < 500
    end_of_run_summary(lambda: [f"HTML report of 1,000 services: {size / 1e6:.2f} MB, usable after {usable:.0f} ms "
                                f"in headless Chromium; expanding every namespace takes {expand:.0f} ms, collapsing "
                                f"them {fold:.0f} ms, filtering the findings {filtering:.0f} ms"])


# --- the picture in the README ---------------------------------------------------------------------


def test_screenshot_of_the_examples_report(browser, examples_report, request, tmp_path):
    """`make screenshot` saves it as docs/report.png, which the README shows."""
    from PIL import Image

    target = Path(request.config.getoption("--screenshot") or tmp_path / "report.png")
    browser.open(examples_report, 1400, 1720)
    assert browser.driver.save_screenshot(str(target))
    with Image.open(target) as image:
        assert image.size == (1400, 1720)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 500  # a page, not a blank or an error screen
