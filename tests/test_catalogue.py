"""Meta-tests that keep the rule catalogue honest (codes, docs, fixtures, inputs, docs/rules.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixtures import all_fixtures
from meshlint import rules
from meshlint.config import Config, from_mapping
from meshlint.docs import rules_markdown
from meshlint.index import Index
from meshlint.load import load

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = {f.code: f for f in all_fixtures() if "__" not in f.path.stem}  # main fixture per rule
SECTIONS = ("## Why it matters", "## Example", "## Fix")


def test_codes_unique_well_formed_and_sorted():
    codes = [r.code for r in rules.ALL]
    assert all(re.fullmatch(r"ML\d{3}", c) for c in codes), codes
    assert len(set(codes)) == len(codes)
    assert codes == sorted(codes)
    assert set(rules.BY_CODE) == set(codes)


def test_names_describe_the_footgun():
    names = [r.name for r in rules.ALL]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
        assert not name.startswith(("check-", "no-")), name


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_doc_page_has_summary_and_sections(rule):
    doc = rule.doc
    summary = doc.splitlines()[0]
    assert summary and not summary.startswith("#"), rule.code
    positions = [doc.find(s) for s in SECTIONS]
    assert all(p > 0 for p in positions), f"{rule.code} doc lacks one of {SECTIONS}"
    assert positions == sorted(positions), f"{rule.code}: sections out of order"
    example = doc[positions[1]:positions[2]]
    assert "```" in example, f"{rule.code}: example has no code block"


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_message_and_fix_style(rule):
    assert rule.message[:1].islower() or rule.message.startswith("{"), rule.code
    assert not rule.message.endswith("."), rule.code
    assert rule.fix.endswith("."), rule.code
    assert rule.fix[:1].isupper(), rule.code
    assert rule.summary and not rule.summary.endswith(".")


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_every_rule_has_a_fixture_with_bad_and_clean_documents(rule):
    fixture = FIXTURES.get(rule.code)
    assert fixture is not None, f"no tests/rules/{rule.code}_{rule.name.replace('-', '_')}.yaml"
    assert fixture.path.stem == f"{rule.code}_{rule.name.replace('-', '_')}"
    assert any(e.code == rule.code for e in fixture.expectations), f"{rule.code}: no expect marker"
    lines = fixture.path.read_text(encoding="utf-8").splitlines()
    marked = {e.line for e in fixture.expectations if e.code == rule.code}
    start, clean = 1, 0
    for number, line in enumerate(lines + ["---"], start=1):
        if line.startswith("---"):
            body = [l for l in lines[start - 1:number - 1] if l.strip() and not l.lstrip().startswith("#")]
            if body and not any(start <= m < number for m in marked):
                clean += 1
            start = number + 1
    assert clean >= 1, f"{rule.code}: every document of the fixture has a finding; add a near-miss"


def _index_of_every_fixture() -> tuple[Index, Config]:
    loaded = load([str(f.path) for f in all_fixtures()] + [str(ROOT / "examples")])
    merged: dict = {}
    for f in FIXTURES.values():
        merged.update(f.config)
    config = from_mapping(merged, rules.BY_CODE)
    return Index(loaded.resources, loaded.problems, config.env), config


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_declared_inputs_are_the_kinds_read(rule):
    index, config = _index_of_every_fixture()
    index.accessed = set()
    findings = list(rule.check(index, config.options_for(rule)))
    assert findings, f"{rule.code} found nothing over all fixtures"
    assert index.accessed == set(rule.inputs), (
        f"{rule.code} reads {sorted(index.accessed)} but declares {sorted(rule.inputs)}")


def test_docs_rules_md_is_generated_and_current():
    path = ROOT / "docs" / "rules.md"
    assert path.read_text(encoding="utf-8") == rules_markdown(rules.ALL), (
        "docs/rules.md is stale: run `make docs`")
