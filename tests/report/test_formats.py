"""What every output format shares: the exit code, and several --format/--output pairs per run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from meshlint.report import FORMATS, renderer

ALL_FORMATS = ("text", "json", "sarif", "junit", "github", "html")


def test_formats_are_registered():
    assert tuple(FORMATS) == ALL_FORMATS
    for name in FORMATS:
        assert callable(renderer(name))
    with pytest.raises(ValueError):
        renderer("pdf")


def codes(workspace, *args, paths=None, stdin=None) -> dict[str, int]:
    paths = workspace.paths if paths is None else paths
    return {fmt: workspace.check("--format", fmt, *args, paths=paths, stdin=stdin).returncode
            for fmt in ALL_FORMATS}


@pytest.mark.parametrize("args, expected", [
    ((), 1),
    (("--fail-on", "error"), 1),
    (("--fail-on", "never"), 0),
])
def test_exit_code_on_the_mixed_input_is_the_same_in_every_format(workspace, args, expected):
    assert codes(workspace, *args, stdin=workspace.stdin) == dict.fromkeys(ALL_FORMATS, expected)


@pytest.mark.parametrize("manifest, args, expected", [
    ("clean", (), 0),
    ("warning", (), 1),
    ("warning", ("--fail-on", "error"), 0),
    ("error", ("--fail-on", "error"), 1),
    ("info_only", (), 0),
    ("info_only", ("--fail-on", "info"), 1),
])
def test_exit_code_on_stdin_is_the_same_in_every_format(workspace, manifests, manifest, args, expected):
    stdin = manifests[manifest]
    assert codes(workspace, *args, paths=("-",), stdin=stdin) == dict.fromkeys(ALL_FORMATS, expected)


def test_usage_errors_exit_2_in_every_format(workspace):
    assert codes(workspace, paths=("does-not-exist.yaml",)) == dict.fromkeys(ALL_FORMATS, 2)


def test_several_outputs_in_one_run(workspace, tmp_path):
    out = {fmt: tmp_path / f"report.{fmt}" for fmt in ("sarif", "junit", "github", "json", "html")}
    args = [a for fmt, path in out.items() for a in ("--format", fmt, "--output", str(path))]
    proc = workspace.check("--format", "text", *args, stdin=workspace.stdin)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == workspace.check("--format", "text", stdin=workspace.stdin).stdout
    assert proc.stdout.rstrip().endswith("in 17 files, 76 resources")
    for fmt, path in out.items():
        assert path.read_text() == workspace.check("--format", fmt, stdin=workspace.stdin).stdout, fmt
    assert len(json.loads(out["sarif"].read_text())["runs"][0]["results"]) == 27  # 24 + 3 suppressed
    assert ET.parse(out["junit"]).getroot().get("failures") == "22"
    assert len(out["github"].read_text().splitlines()) == 24
    assert json.loads(out["json"].read_text())["summary"]["suppressed"] == 3
