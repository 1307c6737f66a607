"""SARIF output, checked against the official SARIF 2.1.0 schema and GitHub's requirements."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from meshlint import __version__, docs, rules
from meshlint.report import sarif

SCHEMA_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def validate(doc: dict, schema: dict) -> None:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(doc), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.fixture(scope="module")
def log(workspace, schema) -> dict:
    proc = workspace.check("--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    validate(doc, schema)
    return doc


@pytest.fixture(scope="module")
def reported(workspace) -> list[dict]:
    """The same run's findings from the JSON format (SPEC §3), to compare against."""
    return json.loads(workspace.check("--format", "json").stdout)["findings"]


def display(resource: dict | None) -> str:
    if resource is None:
        return ""
    ns = resource["namespace"]
    return f"{resource['kind']} {ns}/{resource['name']}" if ns else f"{resource['kind']} {resource['name']}"


def uri_of(file: str) -> str:
    return "stdin" if file == "-" else file


def where(result: dict) -> tuple[str, str, int]:
    loc = result["locations"][0]["physicalLocation"]
    return result["ruleId"], unquote(loc["artifactLocation"]["uri"]), loc["region"]["startLine"]


def test_schema_file_is_the_official_one(schema):
    assert schema["id"] == sarif.SCHEMA_URI
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"


def test_log_shape(log):
    assert log["version"] == "2.1.0"
    assert log["$schema"] == sarif.SCHEMA_URI
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "meshlint"
    assert driver["version"] == __version__
    assert "informationUri" not in driver  # meshlint has no public home yet (docs.DOCS_URL)
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True}]
    assert log["runs"][0]["columnKind"] == "unicodeCodePoints"  # characters, as the other formats count


def test_driver_carries_the_whole_catalogue(log):
    descriptors = log["runs"][0]["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors] == [r.code for r in rules.ALL]
    for rule, d in zip(rules.ALL, descriptors):
        assert d["name"] == rule.name
        assert d["shortDescription"]["text"] == rule.summary
        first_line = rule.doc.splitlines()[0]
        full = d["fullDescription"]["text"]
        assert full.startswith(first_line) and len(full) <= 1000 and full.endswith("."), rule.code
        assert "\n" not in full
        assert d["help"]["text"].startswith(f"{rule.code} {rule.name} [{rule.severity.value}]")
        for section in ("## Why it matters", "## Example", "## Fix"):
            assert section in d["help"]["text"], (rule.code, section)
            assert section in d["help"]["markdown"], (rule.code, section)
        assert "helpUri" not in d and "[rule documentation]" not in d["help"]["markdown"], rule.code
        assert d["defaultConfiguration"]["level"] == LEVEL[rule.severity.value]
        tags = d["properties"]["tags"]
        assert "service-mesh" in tags and "istio" in tags
        if rule.code.startswith("ML2"):
            assert "security" in tags
            assert float(d["properties"]["security-severity"]) > 0
        else:
            assert "security" not in tags and "security-severity" not in d["properties"]


def test_links_to_the_docs_only_where_they_are_published(monkeypatch, schema):
    """One setting, docs.DOCS_URL, says where docs/rules.md is published: unset, SARIF links
    nowhere (the help text carries the whole doc page); set, every rule links to its section."""
    from meshlint.engine import Result

    empty = Result(findings=[], files=0, resources=0)
    for rule in rules.ALL:
        assert docs.help_uri(rule) is None
    monkeypatch.setattr(docs, "DOCS_URL", "https://docs.example.org/meshlint/rules.html")
    log = sarif.sarif_log(empty)
    validate(log, schema)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://docs.example.org/meshlint/rules.html"
    for rule, d in zip(rules.ALL, driver["rules"]):
        anchor = f"https://docs.example.org/meshlint/rules.html#{rule.code.lower()}-{rule.name}"
        assert d["helpUri"] == anchor
        assert f"[rule documentation]({anchor})" in d["help"]["markdown"]


def test_full_description_is_the_intro_not_only_the_summary(log):
    ml101 = log["runs"][0]["tool"]["driver"]["rules"][[r.code for r in rules.ALL].index("ML101")]
    assert "appProtocol" in ml101["fullDescription"]["text"]
    assert "## Why" not in ml101["fullDescription"]["text"]
    # Options are documented in the help, as `meshlint rule` shows them.
    ml301 = log["runs"][0]["tool"]["driver"]["rules"][[r.code for r in rules.ALL].index("ML301")]
    assert "`max-attempts` (default `3`)" in ml301["help"]["markdown"]


def test_every_finding_is_a_result_with_level_message_and_location(log, reported):
    results = log["runs"][0]["results"]
    shown = [r for r in results if "suppressions" not in r]
    assert len(shown) == len(reported) == 24
    by_where = {where(r): r for r in shown}
    assert len(by_where) == len(shown)
    descriptors = log["runs"][0]["tool"]["driver"]["rules"]
    for f in reported:
        r = by_where[(f["code"], uri_of(f["file"]), f["line"])]
        assert r["locations"][0]["physicalLocation"]["region"]["startColumn"] == f["column"]
        assert r["level"] == LEVEL[f["severity"]]
        assert descriptors[r["ruleIndex"]]["id"] == f["code"]
        prefix = f"{display(f['resource'])}: " if f["resource"] else ""
        assert r["message"]["text"] == f"{prefix}{f['message']}\nFix: {f['fix']}"


def test_locations_satisfy_github_code_scanning(log):
    for r in log["runs"][0]["results"]:
        assert r["locations"], r
        loc = r["locations"][0]["physicalLocation"]
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
        uri = loc["artifactLocation"]["uri"]
        assert "\\" not in uri and " " not in uri and not uri.startswith(("/", "./"))
        parts = urlsplit(uri)
        assert parts.scheme == "" and parts.netloc == ""  # relative references, as given
        if uri != "stdin":
            assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"


def test_uris_are_the_relative_paths_as_given(log, workspace):
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert {"stdin", "mixed.yaml", "examples/shop/cart.yaml", "odd/weird%2Cname%3Av1.yaml"} <= uris
    for uri in uris - {"stdin"}:
        assert (workspace.root / unquote(uri)).is_file(), uri


def test_input_problems_without_a_resource_still_have_file_and_line(log):
    results = {where(r): r for r in log["runs"][0]["results"]}
    yaml_error = results[("ML001", "mixed.yaml", 51)]
    assert yaml_error["level"] == "error"
    assert yaml_error["message"]["text"].startswith("invalid YAML: did not find expected ',' or ']'")
    assert "logicalLocations" not in yaml_error["locations"][0]
    nameless = results[("ML002", "mixed.yaml", 37)]
    assert nameless["message"]["text"].startswith("Service has no metadata.name\nFix: ")
    typed = results[("ML002", "mixed.yaml", 33)]
    assert typed["message"]["text"].startswith("Service shop/broken-ports: spec.ports must be a list")
    assert typed["locations"][0]["logicalLocations"] == [
        {"name": "Service shop/broken-ports", "fullyQualifiedName": "Service shop/broken-ports", "kind": "resource"}]


def test_stdin_findings_point_at_stdin(log):
    results = {where(r): r for r in log["runs"][0]["results"]}
    piped = results[("ML101", "stdin", 7)]
    assert piped["message"]["text"].startswith('Service stdin-ns/piped: port 7000 is named "custom"')
    assert "uriBaseId" not in piped["locations"][0]["physicalLocation"]["artifactLocation"]


def test_a_rendered_helm_stream_points_at_its_templates(run, root, schema):
    """`helm template ... | meshlint check - --format sarif`: each result's artifact is the
    template its document came from (`# Source:`), relative to the checkout, at the line inside
    the rendered document."""
    stream = (root / "tests" / "trees" / "rendered" / "helm-template-shop.yaml").read_text()
    doc = json.loads(run("check", "-", "--format", "sarif", input=stream).stdout)
    validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert {("ML101", "shop/templates/service.yaml", 11), ("ML303", "shop/templates/virtualservice.yaml", 12),
            ("ML301", "shop/templates/virtualservice.yaml", 13)} <= {where(r) for r in results}
    assert all(where(r)[1].startswith("shop/templates/") for r in results)
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == sarif.SRCROOT
               for r in results)


def test_escapes_survive_in_json(log, workspace):
    results = {where(r): r for r in log["runs"][0]["results"]}
    odd = results[("ML101", workspace.odd_name, 9)]
    assert f'port 8080 is named "{workspace.odd_port}"' in odd["message"]["text"]


def test_related_resources_are_logical_locations(log, reported):
    results = {where(r): r for r in log["runs"][0]["results"]}
    with_related = [f for f in reported if f["related"]]
    assert len(with_related) >= 5
    for f in with_related:
        r = results[(f["code"], uri_of(f["file"]), f["line"])]
        expected = [display(ref) for ref in f["related"]]
        related = r["relatedLocations"]
        assert [loc["logicalLocations"][0]["name"] for loc in related] == expected
        assert all(loc["logicalLocations"][0]["kind"] == "resource" for loc in related)
        assert all("physicalLocation" not in loc for loc in related)
        assert [loc["id"] for loc in related] == list(range(1, len(expected) + 1))
    for f in reported:
        if not f["related"]:
            assert "relatedLocations" not in results[(f["code"], uri_of(f["file"]), f["line"])]
    erp = results[("ML201", "examples/legacy/legacy.yaml", 185)]
    assert [loc["message"]["text"] for loc in erp["relatedLocations"]] == [
        "related: Service payments/payment", "related: PeerAuthentication payments/default"]


def test_suppressed_findings_carry_their_suppression(log):
    results = log["runs"][0]["results"]
    suppressed = {where(r): r["suppressions"] for r in results if "suppressions" in r}
    annotation = [{"kind": "inSource", "justification": "annotation meshlint.io/ignore"}]
    external = [{"kind": "external", "justification": "config ignore-resources"}]
    assert suppressed == {
        ("ML101", "mixed.yaml", 11): annotation,  # legacy-db port "db"
        ("ML101", "mixed.yaml", 13): annotation,  # legacy-db port "admin"
        ("ML101", "mixed.yaml", 24): external,    # ops/metrics, ignore-resources "Service ops/*"
    }
    texts = [r["message"]["text"] for r in results if "suppressions" in r]
    assert sum(t.startswith("Service shop/legacy-db: ") for t in texts) == 2
    assert sum(t.startswith("Service ops/metrics: ") for t in texts) == 1


def test_fingerprints_are_unique(log):
    prints = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in log["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)


SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports:
  - {name: web, port: 8080}
  - {name: admin, port: 8081}
---
key: [unclosed
"""


def sarif_of(run, tmp_path: Path, text: str) -> list[dict]:
    (tmp_path / "svc.yaml").write_text(text)
    proc = run("check", "svc.yaml", "-f", "sarif", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)["runs"][0]["results"]


def test_fingerprints_follow_findings_when_lines_move(tmp_path, run):
    before = sarif_of(run, tmp_path, SERVICE)
    after = sarif_of(run, tmp_path, "# a comment\n# and another\n\n" + SERVICE)
    assert [r["ruleId"] for r in before] == ["ML101", "ML101", "ML001"]
    assert [where(r)[2] + 3 for r in before] == [where(r)[2] for r in after]
    fp = sarif.FINGERPRINT_KEY
    assert [r["partialFingerprints"][fp] for r in before] == [r["partialFingerprints"][fp] for r in after]
    renamed = sarif_of(run, tmp_path, SERVICE.replace("cart", "basket"))
    # A different resource is a different finding; the resource-less ML001 keeps its identity.
    assert renamed[0]["partialFingerprints"][fp] != before[0]["partialFingerprints"][fp]
    assert renamed[2]["partialFingerprints"][fp] == before[2]["partialFingerprints"][fp]


def test_internal_notes_become_notifications(schema, run, root):
    proc = run("check", "examples", "-f", "sarif", cwd=root)
    doc = json.loads(proc.stdout)
    validate(doc, schema)
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    assert notes and all(n["level"] == "note" for n in notes)
    assert any("examples/README.md" in n["message"]["text"] for n in notes)


def test_clean_input_is_a_valid_log_with_no_results(tmp_path, schema, run):
    (tmp_path / "ok.yaml").write_text(SERVICE.split("---")[0].replace("web", "http-web").replace("admin", "grpc"))
    proc = run("check", "ok.yaml", "-f", "sarif", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    doc = json.loads(proc.stdout)
    validate(doc, schema)
    assert doc["runs"][0]["results"] == []
    assert len(doc["runs"][0]["tool"]["driver"]["rules"]) == len(rules.ALL)


@pytest.mark.parametrize("file, expected", [
    ("deploy/cart.yaml", {"uri": "deploy/cart.yaml", "uriBaseId": "%SRCROOT%"}),
    ("./deploy/cart.yaml", {"uri": "deploy/cart.yaml", "uriBaseId": "%SRCROOT%"}),
    ("deploy\\win\\cart.yaml", {"uri": "deploy/win/cart.yaml", "uriBaseId": "%SRCROOT%"}),
    ("my dir/a#b.yaml", {"uri": "my%20dir/a%23b.yaml", "uriBaseId": "%SRCROOT%"}),
    ("/abs/path/x.yaml", {"uri": "file:///abs/path/x.yaml"}),
    ("C:\\repo\\x.yaml", {"uri": "file:///C:/repo/x.yaml"}),
    ("-", {"uri": "stdin"}),
])
def test_artifact_location(file, expected):
    assert sarif.artifact_location(file) == expected


def test_info_findings_are_notes(schema, run, manifests):
    proc = run("check", "-", "-f", "sarif", "--fail-on", "info", input=manifests["info_only"])
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    validate(doc, schema)
    (result,) = doc["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("ML104", "note")
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "stdin"}, "region": {"startLine": 7, "startColumn": 11}}  # the host
    assert result["message"]["text"].startswith("VirtualService shop/github: host api.github.com ")


FIXABLE = """\
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: {app: cart}
  ports:
  - port: 80        # the HTTP API
    targetPort: 8080
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: cart
  namespace: shop
spec:
  hosts: ["cart"]
  http:
  - route:
    - destination: {host: cart}
    retries:
      attempts: 5
      retryOn: connect-failure
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: cart
  namespace: shop
spec:
  host: cart
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 100}
"""


def test_fixes_are_offered_as_replacements_that_give_what_meshlint_fix_writes(tmp_path, run, schema):
    """SARIF `fixes` (issue 17): each fixable finding carries its fix as replacements of whole
    lines, with its safety; applied to the file, the safe ones give the file `meshlint fix`
    writes."""
    (tmp_path / "mesh.yaml").write_text(FIXABLE)
    doc = json.loads(run("check", "mesh.yaml", "--format", "sarif", cwd=tmp_path).stdout)
    validate(doc, schema)
    results = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    assert {code: [f["properties"]["applicability"] for f in r.get("fixes", [])] for code, r in results.items()} \
        == {"ML101": ["safe"], "ML303": ["safe"], "ML301": ["unsafe"]}
    assert results["ML301"]["fixes"][0] == {
        "description": {"text": "Unsafe fix: lowers attempts from 5 to 3: fewer retries of a failing request"},
        "artifactChanges": [{"artifactLocation": {"uri": "mesh.yaml", "uriBaseId": "%SRCROOT%"},
                             "replacements": [{"deletedRegion": {"startLine": 23, "startColumn": 1,
                                                                 "endLine": 24, "endColumn": 1},
                                               "insertedContent": {"text": "      attempts: 3\n"}}]}],
        "properties": {"applicability": "unsafe"}}
    lines = FIXABLE.splitlines(keepends=True)
    replacements = [rep for code in ("ML101", "ML303") for change in results[code]["fixes"][0]["artifactChanges"]
                    for rep in change["replacements"]]
    for rep in sorted(replacements, key=lambda r: r["deletedRegion"]["startLine"], reverse=True):
        region = rep["deletedRegion"]
        assert region["startColumn"] == region["endColumn"] == 1  # whole lines
        lines[region["startLine"] - 1:region["endLine"] - 1] = [rep["insertedContent"]["text"]]
    run("fix", "mesh.yaml", cwd=tmp_path)
    assert "".join(lines) == (tmp_path / "mesh.yaml").read_text() != FIXABLE
def test_compact_json_results_are_told_apart_by_their_column(tmp_path, run, schema):
    """A one-line document (compact JSON, issue #19): every result is on line 1 and its
    startColumn, in characters as `columnKind` says, lands on the offending key; the log
    validates against the official schema."""
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "cart", "namespace": "shop", "annotations": {"note": "Käufer ☕"}},
               "spec": {"selector": {"app": "cart"}, "ports": [{"name": "web", "port": 8080},
                                                               {"name": "admin", "port": 8081}]}}
    text = json.dumps({"apiVersion": "v1", "items": [service], "kind": "List"}, separators=(",", ":"),
                      ensure_ascii=False)
    (tmp_path / "dump.json").write_text(text)
    doc = json.loads(run("check", "dump.json", "-f", "sarif", cwd=tmp_path).stdout)
    validate(doc, schema)
    assert doc["runs"][0]["columnKind"] == "unicodeCodePoints"
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in doc["runs"][0]["results"]]
    assert [r["startLine"] for r in regions] == [1, 1]
    assert [text[r["startColumn"] - 1:].split(",")[0] for r in regions] == ['"name":"web"', '"name":"admin"']
    before = text[:regions[0]["startColumn"] - 1]  # the annotation's ä and ☕ are one column each
    assert len(before) == text.index('"name":"web"') < len(before.encode())


def test_the_schema_holds_columns_to_what_sarif_allows(schema):
    """startColumn is checked, not only present: the schema rejects a column 0, and a finding
    whose column is unknown (a live object, no text to point into) has none."""
    from meshlint.engine import Result
    from meshlint.finding import Finding, Severity

    def log_of(column: int) -> dict:
        f = Finding(code="ML101", name="port-protocol-unset", variant="sniffed", severity=Severity.WARNING,
                    message="m", fix="f.", file="dump.json", line=1, column=column)
        return sarif.sarif_log(Result(findings=[f], files=1, resources=1))

    located = log_of(4867)
    validate(located, schema)
    region = located["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 4867}
    unknown = log_of(0)
    validate(unknown, schema)
    assert unknown["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    region["startColumn"] = 0
    with pytest.raises(AssertionError, match="startColumn|minimum"):
        validate(located, schema)
