"""JUnit XML output, read back with junitparser (the parser CI report tools are modelled on)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite

from meshlint import rules
from meshlint.config import Config
from meshlint.engine import Inputs, Result, check
from meshlint.finding import Finding, Severity
from meshlint.report import RenderOptions, junit


def parse(text: str, tmp_path: Path) -> JUnitXml:
    path = tmp_path / "report.xml"
    path.write_text(text, encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    assert isinstance(xml, JUnitXml)  # a <testsuites> root
    return xml


@pytest.fixture(scope="module")
def report(workspace, tmp_path_factory) -> JUnitXml:
    proc = workspace.check("--format", "junit")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="meshlint"')
    return parse(proc.stdout, tmp_path_factory.mktemp("junit"))


@pytest.fixture(scope="module")
def findings(workspace) -> list[dict]:
    return json.loads(workspace.check("--format", "json").stdout)["findings"]


def suites(xml: JUnitXml) -> dict[str, TestSuite]:
    return {suite.name: suite for suite in xml}


def cases(suite: TestSuite) -> dict[str, object]:
    out = {case.name: case for case in suite}
    assert len(out) == len(list(suite)), f"duplicate testcase names in {suite.name}"
    return out


def subject(f: dict) -> str:
    r = f["resource"]
    if r is None:
        return f"{'stdin' if f['file'] == '-' else f['file']}:{f['line']}:{f['column']}"
    return f"{r['kind']} {r['namespace']}/{r['name']}" if r["namespace"] else f"{r['kind']} {r['name']}"


def test_one_suite_per_rule_in_catalogue_order(report):
    assert report.name == "meshlint"
    assert [s.name for s in report] == [f"{r.code} {r.name}" for r in rules.ALL]
    for suite in report:
        assert all(case.classname == suite.name for case in suite)


def test_counts_are_consistent(report):
    totals = dict(tests=0, failures=0, errors=0, skipped=0)
    for suite in report:
        results = [case.result for case in suite]
        counted = dict(
            tests=len(results),
            failures=sum(any(isinstance(r, Failure) for r in res) for res in results),
            errors=sum(any(isinstance(r, Error) for r in res) for res in results),
            skipped=sum(any(isinstance(r, Skipped) for r in res) for res in results),
        )
        assert counted == dict(tests=suite.tests, failures=suite.failures, errors=suite.errors,
                               skipped=suite.skipped), suite.name
        for key in totals:
            totals[key] += counted[key]
    assert totals == dict(tests=report.tests, failures=report.failures, errors=report.errors,
                          skipped=report.skipped)
    assert report.errors == 0
    assert report.skipped == 2  # shop/legacy-db (annotation) and ops/metrics (config)


def test_one_failing_testcase_per_rule_and_resource(report, findings):
    expected: dict[tuple[str, str], list[dict]] = {}
    for f in findings:
        expected.setdefault((f"{f['code']} {f['name']}", subject(f)), []).append(f)
    failing = {(suite.name, case.name): case for suite in report for case in suite
               if any(isinstance(r, Failure) for r in case.result)}
    assert set(failing) == set(expected)
    assert report.failures == len(expected) < len(findings)  # some resources have several findings
    for key, group in expected.items():
        (failure,) = failing[key].result
        worst = max(group, key=lambda f: Severity(f["severity"]).rank)["severity"]
        assert failure.type == worst
        for f in group:
            where = f"{'stdin' if f['file'] == '-' else f['file']}:{f['line']}:{f['column']}"
            assert f"{where}: {f['code']} [{f['severity']}] {f['message']}" in failure.text, key
            assert f"  help: {f['fix']} (docs: meshlint rule {f['code']})" in failure.text, key
        if len(group) == 1:
            assert failure.message == group[0]["message"]
        else:
            assert failure.message.startswith(f"{len(group)} findings: ")


def test_several_findings_on_one_resource_share_a_testcase(report, workspace):
    fraud = cases(suites(report)["ML202 probe-blocked-by-mtls"])["Deployment payments/fraud"]
    (failure,) = fraud.result
    assert failure.type == "error"
    assert failure.message.startswith("2 findings: livenessProbe httpGet on port 8080")
    assert "examples/payments/backend.yaml:38:13: ML202 [error] livenessProbe" in failure.text
    assert "examples/payments/backend.yaml:45:13: ML202 [error] readinessProbe" in failure.text
    assert failure.text.count("  help: ") == 2
    # file and line attributes (GitLab shows the file): read with a plain XML parser.
    root = ET.fromstring(workspace.check("--format", "junit").stdout.encode())
    (elem,) = root.findall(".//testcase[@name='Deployment payments/fraud']")
    assert (elem.get("file"), elem.get("line")) == ("examples/payments/backend.yaml", "38")


def test_input_problems_are_named_by_file_line_and_column(report):
    ml001 = cases(suites(report)["ML001 invalid-yaml"])
    assert list(ml001) == ["mixed.yaml:51:1"]
    (failure,) = ml001["mixed.yaml:51:1"].result
    assert failure.type == "error" and failure.message.startswith("invalid YAML: ")
    ml002 = cases(suites(report)["ML002 invalid-resource"])
    assert set(ml002) == {"Service shop/broken-ports", "mixed.yaml:37:1"}
    assert "mixed.yaml:37:1: ML002 [error] Service has no metadata.name" in ml002["mixed.yaml:37:1"].result[0].text


def test_problems_on_one_line_are_testcases_of_their_own(tmp_path):
    """A one-line document (compact JSON) holds every problem on line 1: the column tells them apart."""
    docs = [Finding(code="ML002", name="invalid-resource", variant="missing-fields", severity=Severity.ERROR,
                    message="Service has no metadata.name", fix="f.", file="dump.json", line=1, column=column)
            for column in (40, 212)]
    xml = parse(junit.render(Result(docs, files=1, resources=2), RenderOptions()).decode(), tmp_path)
    assert set(cases(suites(xml)["ML002 invalid-resource"])) == {"dump.json:1:40", "dump.json:1:212"}


def test_stdin_and_escapes(report, workspace):
    ml101 = cases(suites(report)["ML101 port-protocol-unset"])
    piped = ml101["Service stdin-ns/piped"]
    assert piped.result[0].text.startswith('stdin:7:5: ML101 [warning] port 7000 is named "custom"')
    odd = ml101["Service edge/escapes"]
    assert f'is named "{workspace.odd_port}"' in odd.result[0].message  # newline kept through the attribute
    assert odd.result[0].text.startswith(f"{workspace.odd_name}:9:5: ML101 [warning]")


def test_suppressed_findings_are_skipped_testcases(report):
    ml101 = cases(suites(report)["ML101 port-protocol-unset"])
    legacy, metrics = ml101["Service shop/legacy-db"], ml101["Service ops/metrics"]
    assert [type(r) for r in legacy.result] == [Skipped]  # two suppressed ports, one testcase
    assert legacy.result[0].message == "suppressed: annotation meshlint.io/ignore"
    assert [type(r) for r in metrics.result] == [Skipped]
    assert metrics.result[0].message == "suppressed: config ignore-resources"
    assert not legacy.is_passed and legacy.is_skipped


def test_rules_without_findings_pass(report, findings):
    fired = {f["code"] for f in findings} | {"ML101"}
    quiet = [r for r in rules.ALL if r.code not in fired]
    assert quiet, "the mixed input should leave at least one rule quiet"
    by_name = suites(report)
    for rule in quiet:
        suite = by_name[f"{rule.code} {rule.name}"]
        (case,) = list(suite)
        assert case.name == "no findings" and case.is_passed
        assert (suite.tests, suite.failures, suite.skipped) == (1, 0, 0)
    for rule in rules.ALL:
        if rule.code in fired:
            assert "no findings" not in cases(by_name[f"{rule.code} {rule.name}"])


def test_clean_run_is_all_passing(tmp_path, run):
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: b}\n"
                                      "spec:\n  ports:\n  - {name: http, port: 80}\n")
    proc = run("check", "ok.yaml", "--format", "junit", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    xml = parse(proc.stdout, tmp_path)
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (len(rules.ALL), 0, 0, 0)
    assert all(case.is_passed for suite in xml for case in suite)


def test_only_the_rules_that_ran_when_the_engine_says_which(tmp_path):
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: b}\n"
                                       "spec:\n  ports:\n  - {name: web, port: 80}\n")
    config = Config(select=("ML1",))
    result = check(Inputs([str(tmp_path / "svc.yaml")]), config)
    result.rules = [r for r in rules.ALL if config.is_enabled(r)]
    xml = parse(junit.render(result, RenderOptions()).decode(), tmp_path)
    routing = [r for r in rules.ALL if r.code.startswith("ML1")]
    assert [s.name for s in xml] == [f"{r.code} {r.name}" for r in routing]
    assert (xml.tests, xml.failures) == (len(routing), 1)


def test_same_display_in_two_files_is_told_apart(tmp_path):
    docs = [Finding(code="ML001", name="invalid-yaml", variant="syntax-error", severity=Severity.ERROR, message="m",
                    fix="f.", file=name, line=3, column=1) for name in ("a.yaml", "b.yaml")]
    xml = parse(junit.render(Result(docs, files=2, resources=0), RenderOptions()).decode(), tmp_path)
    assert set(cases(suites(xml)["ML001 invalid-yaml"])) == {"a.yaml:3:1", "b.yaml:3:1"}


def test_characters_xml_cannot_carry_are_replaced(tmp_path):
    bad = Finding(code="ML001", name="invalid-yaml", variant="syntax-error", severity=Severity.ERROR,
                  message="control \x00\x1b char & <tag> \"q\"", fix="Fix it.", file="x.yaml", line=1, column=1)
    xml = parse(junit.render(Result([bad], files=1, resources=0), RenderOptions()).decode(), tmp_path)
    (failure,) = cases(suites(xml)["ML001 invalid-yaml"])["x.yaml:1:1"].result
    assert failure.message == "control \ufffd\ufffd char & <tag> \"q\""
