"""`--format html` without a browser: what the page is made of, what it says about each finding,
and that nothing of the input becomes markup. (In a browser: test_html_browser.py.)"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from meshlint.config import Config
from meshlint.engine import Inputs, Result, check
from meshlint.finding import Evidence, Finding, Severity
from meshlint.report import RenderOptions, renderer
from meshlint.resource import LiveOrigin, Ref, Resource


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each <script> and <style>."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._open = tag

    def handle_data(self, data):
        if self._open in self.inline:
            self.inline[self._open].append(data)

    def handle_endtag(self, tag):
        self._open = None

    def named(self, *tags: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag in tags]


def html_of(run, *args: str, cwd=None, input: str | None = None) -> str:
    proc = run("check", *args, "--format", "html", input=input, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout.startswith("<!doctype html>")
    return proc.stdout


def test_the_page_fetches_nothing_and_runs_only_its_own_script(run, root):
    page = html_of(run, "examples", cwd=root)
    elements = Elements(page)
    (policy,) = [attrs["content"] for attrs in elements.named("meta") if attrs.get("http-equiv")]
    assert elements.tags[:3] == [("html", {"lang": "en"}), ("head", {}), ("meta", {"charset": "utf-8"})]
    assert elements.named("meta")[1]["http-equiv"] == "Content-Security-Policy"  # before anything it could govern
    (script,) = elements.inline["script"]
    (style,) = elements.inline["style"]
    script_hash, style_hash = (base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
                               for text in (script, style))
    assert policy.startswith(f"default-src 'none'; script-src 'sha256-{script_hash}'; "
                             f"style-src 'sha256-{style_hash}'; img-src data:;")
    # nothing that a browser loads by itself: no external script, style sheet, image or frame
    assert not elements.named("img", "iframe", "object", "embed", "video", "audio", "source")
    assert all("src" not in attrs for attrs in elements.named("script"))
    (icon,) = elements.named("link")
    assert icon["rel"] == "icon" and icon["href"].startswith("data:image/svg+xml,")
    assert "url(" not in style and "@import" not in style
    # links go to the page itself, or (rule references) are followed only when clicked
    hrefs = {attrs["href"] for attrs in elements.named("a")}
    assert all(h.startswith(("#", "https://")) for h in hrefs), hrefs - {h for h in hrefs if h.startswith("#")}


def test_the_format_builds_the_call_graph_and_only_it(root):
    """`engine.check` builds the call graph for the formats that draw it; the CLI asks for it
    only then, and `meshlint check` with another format never imports the HTML machinery."""
    assert check(Inputs([str(root / "examples")]), Config()).call_graph is None
    view = check(Inputs([str(root / "examples")]), Config(), call_graph=True).call_graph
    assert view is not None and len(view.graph.nodes) == 14 and view.max_amplification == 10


def test_other_formats_import_none_of_it(run, root, tmp_path):
    probe = ("import sys; from meshlint.cli import main; main(['check', 'examples', '--format', 'json', "
             "'--output', sys.argv[1]]); "
             "print(sorted(m for m in sys.modules if m.startswith(('jinja2', 'markdown_it', 'meshlint.report.html', "
             "'meshlint.graph'))))")
    proc = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "out.json")], capture_output=True, text=True,
                          cwd=root, env={"PYTHONPATH": str(root / "src")}, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_input_never_becomes_markup(run, files, tmp_path):
    """Hosts, label values, names and source lines are escaped wherever they are printed,
    attributes included (the browser test proves the page inert; this one holds without it)."""
    files("probe.yaml", """\
apiVersion: v1
kind: Namespace
metadata:
  name: probe
  labels: {istio-injection: enabled, istio.io/rev: "x\\" onmouseover=\\"alert(1)"}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: probe}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: probe, namespace: probe}
spec:
  hosts: ["<svg onload=alert(2)>.example.com"]   # </style></script><!--
  gateways: [edge]
  http:
  - route:
    - destination: {host: shop.example.com}
""")
    files("calls.yaml", "edges:\n- {from: 'a&b<i>.probe', to: '\"><svg onload=alert(3)>'}\n")
    page = html_of(run, "probe.yaml", "--call-graph", "calls.yaml", cwd=tmp_path)
    assert "<svg onload" not in page and "<i>" not in page and "onmouseover=\"" not in page
    assert "&lt;svg onload=alert(2)&gt;.example.com" in page  # the message and the source line
    assert "&lt;/style&gt;&lt;/script&gt;&lt;!--" in page
    assert 'data-name="&#34;&gt;&lt;svg onload=alert(3)&gt;"' in page  # the graph node, in an attribute
    assert "istio.io/rev=x&#34; onmouseover=&#34;alert(1)" in page
    assert page.count("<script") == page.count("</script>") == 1
    assert page.count("<style") == page.count("</style>") == 1


def test_each_finding_shows_the_lines_around_it(run, files, tmp_path):
    files("cart.yaml", """\
# the cart service
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: {app: cart}
  ports:
  - name: web
    port: 8080
    targetPort: 8080
""" + "  # " + "x" * 500 + "\n")
    page = html_of(run, "cart.yaml", cwd=tmp_path)
    (excerpt,) = re.findall(r'<pre class="excerpt".*?</pre>', page)
    lines = re.findall(r'<span class="line( marked)?"><span class="number">(\d+)</span>(.*?)</span>', excerpt)
    assert [(int(n), bool(marked)) for marked, n, _ in lines] == [(7, False), (8, False), (9, False), (10, True),
                                                                 (11, False), (12, False), (13, False)]
    assert lines[3][2] == "  - name: web"
    assert lines[6][2] == "  # " + "x" * 236 + " …"  # a long line is cut


def test_lines_are_counted_inside_a_rendered_template(run):
    """A document under helm's `# Source:` comment is attributed to its template, its lines
    counted from the comment: the excerpt shows those lines."""
    stream = ("---\n# Source: shop/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: cart\n"
              "  namespace: shop\nspec:\n  selector: {app: cart}\n  ports:\n  - name: web\n    port: 8080\n")
    page = html_of(run, "-", input=stream)
    assert '<span class="where">shop/templates/svc.yaml:9:5</span>' in page
    assert '<span class="line marked"><span class="number">9</span>  - name: web</span>' in page


@pytest.mark.parametrize("padding", [0, 600])
def test_a_finding_deep_in_a_compact_json_line_shows_the_part_around_its_column(run, files, tmp_path, padding):
    """A compact JSON dump is one line: the excerpt is cut around the finding's column (the
    offending port, past the 240 characters from the line's start), not at the line's start. A
    large List is read item by item: the excerpt is the item's own text, in which the column
    is counted from the item's start."""
    def service(name: str, port: str) -> dict:
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"},
                "spec": {"selector": {"app": name}, "ports": [{"name": port, "port": 8080}]}}

    items = [service(f"s{i}", "http") for i in range(3 + padding)] + [service("cart", "web")]
    text = json.dumps({"apiVersion": "v1", "items": items, "kind": "List"}, separators=(",", ":"))
    files("dump.json", text)
    page = html_of(run, "dump.json", cwd=tmp_path)
    column = text.index('"name":"web"') + 1
    assert column > 240 and f'<span class="where">dump.json:1:{column}</span>' in page
    (excerpt,) = re.findall(r'<pre class="excerpt".*?</pre>', page)
    (line,) = re.findall(r'<span class="line marked"><span class="number">1</span>(.*?)</span>', excerpt)
    if padding:  # the item, 140 characters
        assert line.replace("&#34;", '"') == json.dumps(items[-1], separators=(",", ":"))
    else:
        start = column - 1 - 40  # 40 characters before the key
        end = " …" if start + 240 < len(text) else ""
        assert line.replace("&#34;", '"') == "… " + text[start:start + 240] + end


def test_control_characters_are_shown_not_passed_on(run, files, tmp_path):
    files("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: \"\x1b[31m\"}\n")
    page = html_of(run, "bad.yaml", cwd=tmp_path)
    assert "\x1b" not in page
    assert "␛[31m" in page


def test_the_summary_counts_by_severity_footgun_and_namespace(run, root):
    page = html_of(run, "examples", cwd=root)
    counts = dict(re.findall(r'<span class="count">(\d+)</span>\s*<span class="what">(\w+)</span>', page))
    assert counts == {"7": "errors", "12": "warnings", "0": "info"}
    footguns = re.findall(r'<tr class="[^"]*">\s*<td class="num">(\d+)</td>\s*<td>([^<]+)</td>', page)
    assert [int(n) for n, _ in footguns] == list(range(1, 11))
    assert footguns[4][1] == "Retries that multiply into a retry storm"
    assert 'data-filter-rule="ML301" title="aggressive-retries: ' in page
    rows = re.findall(r'data-filter-namespace="ns:([^"]*)">[^<]*</a></td>\s*'
                      r'<td class="num[^"]*">(\d*)</td><td class="num[^"]*">(\d*)</td>', page)
    # most errors first; ML403 on the Namespace object shop counts in shop, as --namespace counts it
    assert rows == [("payments", "4", "3"), ("shop", "2", "7"), ("legacy", "1", ""), ("istio-system", "", "2")]


def test_footguns_of_rules_not_selected_are_not_checked(run, root):
    page = html_of(run, "examples", "--select", "ML1", cwd=root)
    rows = re.findall(r'<td class="num">(\d+)</td>\s*<td>[^<]+</td>\s*<td class="rules">.*?</td>\s*'
                      r'<td class="num">([^<]+)</td>', page, re.S)
    assert rows == [("1", "1"), ("2", "not checked"), ("3", "not checked"), ("4", "3")] + [
        (str(n), "not checked") for n in range(5, 11)]  # ML101-ML116 ran: footguns 1 and 4


def test_findings_of_live_objects_show_their_evidence():
    """A finding from the cluster has no file and no source lines: it names the object and
    its cluster, and its evidence shows."""
    resource = Resource({}, Ref("Service", "shop", "cart"), "v1", LiveOrigin("prod"))
    finding = Finding("ML101", "port-protocol-unset", "unnamed", Severity.WARNING, "port 7070 has no name",
                      "Name the port http-<suffix>.", resource=resource,
                      evidence=(Evidence("prometheus", "TCP traffic <1.2k conn/min>, no request metrics in 1h",
                                         'sum(rate(istio_tcp_connections_opened_total{destination_service="cart"}[1h]))',
                                         1200.0),))
    page = renderer("html")(Result([finding], files=0, resources=1), RenderOptions()).decode()
    assert '<span class="where">Service shop/cart (cluster prod)</span>' in page
    assert '<pre class="excerpt"' not in page
    assert "TCP traffic &lt;1.2k conn/min&gt;, no request metrics in 1h" in page
    assert "destination_service=&#34;cart&#34;" in page and "(1200)" in page


def test_the_rule_docs_of_the_findings_are_included_once(run, root):
    page = html_of(run, "examples", cwd=root)
    assert page.count('<details class="rule-doc" id="rule-ML201">') == 1
    assert 'id="rule-ML105"' not in page  # no finding of it
    assert "<h2>Why it matters</h2>" in page
    # every finding links to its rule's page
    assert set(re.findall(r'href="#rule-(ML\d+)" data-doc', page)) == set(re.findall(r'id="rule-(ML\d+)"', page))


def test_the_amplification_finding_links_to_its_path(run, root):
    page = html_of(run, "examples", cwd=root)
    (link,) = re.findall(r'data-show-path="(p\d+)"', page)
    assert re.search(rf'class="path hot" id="{link}" [^>]*><b>18×</b> frontend → checkout → payment', page)
    # findings on a resource of the graph link to its node
    assert 'data-show-node="' in page and "Show erp-connector in the call graph" in page


def test_graph_html_is_the_graph_view_alone(run, root):
    proc = run("graph", "examples", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    page = proc.stdout
    assert page.startswith("<!doctype html>") and "<title>meshlint call graph: 14 services</title>" in page
    assert page.count('class="node ') == 14 and page.count('class="edge ') == 16
    assert 'id="findings"' not in page


def test_a_clean_input_says_so(run, files, tmp_path, manifests):
    files("clean.yaml", manifests["clean"])
    page = html_of(run, "clean.yaml", cwd=tmp_path)
    assert "No findings: nothing to fix." in page
    assert "No service calls another" in page and "<svg" not in page
    assert page.count('class="card ') == 3 and page.count(" zero\"") == 3  # three zero counts, none alarming
