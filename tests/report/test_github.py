"""GitHub Actions workflow commands, parsed back the way the runner parses them."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshlint.finding import Finding, Severity
from meshlint.report import github

# actions/runner ActionCommand.TryParseV2: `::name k=v,k=v::data`, properties end at the
# first `::`; escaped values never contain `:` or `,`.
COMMAND = re.compile(r"^::(?P<cmd>error|warning|notice)(?: (?P<props>[^:]*))?::(?P<data>.*)$")
LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def unescape_data(text: str) -> str:
    # The runner's order: %0D, %0A, then %25 last.
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",")
            .replace("%25", "%"))


def parse(line: str) -> dict:
    m = COMMAND.match(line)
    assert m, f"not a workflow command: {line!r}"
    props = {}
    for item in (m["props"] or "").split(","):
        key, _, value = item.partition("=")
        props[key] = unescape_property(value)
    return {"cmd": m["cmd"], "props": props, "data": unescape_data(m["data"]), "raw": line}


@pytest.fixture(scope="module")
def output(workspace) -> str:
    proc = workspace.check("--format", "github")
    assert proc.returncode == 1, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def commands(output) -> list[dict]:
    return [parse(line) for line in output.splitlines()]


@pytest.fixture(scope="module")
def findings(workspace) -> list[dict]:
    return json.loads(workspace.check("--format", "json").stdout)["findings"]


def test_one_line_per_reported_finding_and_nothing_else(output, commands, findings):
    assert output.endswith("\n") and "\n\n" not in output
    assert len(commands) == len(findings) == 24
    assert not any("legacy-db" in c["data"] or "ops/metrics" in c["data"] for c in commands)  # suppressed


def test_commands_match_the_findings(commands, findings):
    for c, f in zip(commands, findings):
        assert c["cmd"] == LEVEL[f["severity"]]
        assert c["props"]["title"] == f"{f['code']} {f['name']}"
        r = f["resource"]
        prefix = "" if r is None else f"{r['kind']} {r['namespace'] + '/' if r['namespace'] else ''}{r['name']}: "
        if f["file"] == "-":
            assert set(c["props"]) == {"title"}
            prefix = f"stdin:{f['line']}:{f['column']}: " + prefix
        else:
            assert c["props"]["file"] == f["file"]
            assert c["props"]["line"] == str(f["line"]) and c["props"]["col"] == str(f["column"])
        assert c["data"] == f"{prefix}{f['message']}\nhelp: {f['fix']} (docs: meshlint rule {f['code']})"


def test_levels(commands):
    assert {c["cmd"] for c in commands} == {"error", "warning"}
    ml001 = [c for c in commands if c["props"]["title"] == "ML001 invalid-yaml"]
    assert [(c["cmd"], c["props"]["file"], c["props"]["line"], c["props"]["col"]) for c in ml001] == \
        [("error", "mixed.yaml", "51", "1")]
    nameless = [c for c in commands if c["data"].startswith("Service has no metadata.name")]
    assert [(c["props"]["file"], c["props"]["line"], c["props"]["col"]) for c in nameless] == \
        [("mixed.yaml", "37", "1")]


def test_stdin_findings_have_no_file(commands):
    (piped,) = [c for c in commands if "stdin-ns/piped" in c["data"]]
    assert piped["raw"].startswith("::warning title=ML101 port-protocol-unset::stdin:7:5: Service stdin-ns/piped: ")


def test_escaping_round_trips_through_file_and_message(commands, workspace):
    (odd,) = [c for c in commands if c["props"].get("file") == workspace.odd_name]
    raw = odd["raw"]
    assert raw.startswith("::warning file=odd/weird%2Cname%3Av1.yaml,line=9,col=5,title=ML101 port-protocol-unset::")
    assert 'is named "100%25,a:b%0Aline2"' in raw  # data keeps `,` and `:`, escapes % and newline
    assert f'Service edge/escapes: port 8080 is named "{workspace.odd_port}"' in odd["data"]
    assert "\r" not in raw


def test_info_is_a_notice():
    f = Finding(code="ML104", name="external-host-without-gateway", variant="undeclared-egress-host",
                severity=Severity.INFO, message="host a.example.com: 50% of it, maybe", fix="Declare it.",
                file="vs.yaml", line=4, column=7)
    c = parse(github.annotation(f))
    assert c["cmd"] == "notice"
    assert c["props"] == {"file": "vs.yaml", "line": "4", "col": "7", "title": "ML104 external-host-without-gateway"}
    assert c["data"] == "host a.example.com: 50% of it, maybe\nhelp: Declare it. (docs: meshlint rule ML104)"


def test_windows_paths_use_forward_slashes_line_is_at_least_one_and_an_unknown_column_is_left_out():
    f = Finding(code="ML001", name="invalid-yaml", variant="syntax-error", severity=Severity.ERROR,
                message="bad\r\nthing", fix="Fix.", file="deploy\\a,b.yaml", line=0)
    c = parse(github.annotation(f))
    assert c["props"]["file"] == "deploy/a,b.yaml" and c["props"]["line"] == "1" and "col" not in c["props"]
    assert c["data"].startswith("bad\r\nthing\n")
    assert "%0D%0A" in c["raw"]


@given(st.text())
def test_data_escaping_round_trips(text):
    escaped = github.escape_data(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert unescape_data(escaped) == text


@given(st.text())
def test_property_escaping_round_trips(text):
    escaped = github.escape_property(text)
    assert not set(escaped) & {"\n", "\r", ":", ","}
    assert unescape_property(escaped) == text
