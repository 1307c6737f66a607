"""Meta-tests that keep the rule catalogue honest (codes, docs, fixtures, inputs, docs/rules.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meshlint import rules
from meshlint.config import Config, from_mapping
from meshlint.docs import rules_markdown
from meshlint.index import Index
from meshlint.load import load

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("## Why it matters", "## Example", "## Fixed example", "## Fix", "## References")


@pytest.fixture(scope="module")
def main_fixtures(rule_fixtures) -> dict:
    """Code -> the rule's main fixture (tests/rules/<CODE>_<name>.yaml, not a __variant)."""
    return {f.code: f for f in rule_fixtures if "__" not in f.path.stem}


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


def headings(doc: str) -> list[str]:
    """The doc's `## ` headings, outside code blocks, in order."""
    out, fenced = [], False
    for line in doc.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif line.startswith("## ") and not fenced:
            out.append(line)
    return out


def section(doc: str, heading: str) -> str:
    start = doc.index(f"\n{heading}\n") + len(heading) + 2
    following = [doc.find(f"\n{h}\n", start) for h in headings(doc)]
    return doc[start:min([p for p in following if p > 0], default=len(doc))]


def yaml_block(doc: str, heading: str) -> str:
    """The first YAML code block of a section of the doc."""
    match = re.search(r"```yaml\n(.*?)```", section(doc, heading), re.S)
    assert match, f"{heading} has no YAML code block"
    return match.group(1)


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_doc_page_has_summary_and_sections(rule):
    doc = rule.doc
    summary = doc.splitlines()[0]
    assert summary and not summary.startswith("#"), rule.code
    assert headings(doc) == list(SECTIONS), f"{rule.code}: the doc's sections must be {SECTIONS}, in order"
    for heading in ("## Example", "## Fixed example"):
        yaml_block(doc, heading)


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_the_example_is_reported_and_the_fixed_example_is_not(rule, tmp_path):
    """The doc's examples are real: meshlint reports the rule on the example, and not on the
    fixed one (with the default configuration, as a user would run them)."""
    from meshlint.engine import Inputs, check

    config = from_mapping({}, rules.BY_CODE)
    for heading, reported in (("## Example", True), ("## Fixed example", False)):
        path = tmp_path / f"{heading[3:].replace(' ', '-')}.yaml"
        path.write_text(yaml_block(rule.doc, heading), encoding="utf-8")
        codes = {f.code for f in check(Inputs([str(path)]), config).reported}
        assert (rule.code in codes) == reported, f"{rule.code} {heading}: {sorted(codes)}"


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_references_link_the_sources_the_doc_cites(rule):
    """Every rule names the source it mirrors (istio/istio, or Linkerd's or Gateway API's), and
    its References link each istio/istio file the doc cites, on the default branch."""
    from meshlint.docs import page_markdown

    doc = rule.doc
    references = page_markdown(rule).split("\n## References\n", 1)[1]
    items = re.findall(r"^- .*", references, re.M)
    links = re.findall(r"^- \[[^\]]+\]\((\S+)\)", references, re.M)
    assert len(links) == len(items), f"{rule.code}: every reference is a link"
    assert links and all(link.startswith("https://") for link in links), rule.code
    cited = set(re.findall(r"istio/istio\s+`([^`]+)`", doc))
    assert cited, f"{rule.code} cites no istio/istio source"
    linked = {link.removeprefix("https://github.com/istio/istio/blob/master/") for link in links}
    assert cited <= linked, f"{rule.code}: cited but not linked: {sorted(cited - linked)}"


VARIANTS = [(rule, variant) for rule in rules.ALL for variant in rule.variants]


@pytest.mark.parametrize("rule, variant", VARIANTS, ids=[f"{r.code}-{v.name}" for r, v in VARIANTS])
def test_message_and_fix_style(rule, variant):
    """Every message a rule can emit: "what is wrong" in lower case without a final period (a
    message may open with a kind or type as the API spells it: `IstioOperator`, `ExternalName`),
    and "what to do" as an imperative sentence (ruff's message / fix title split)."""
    assert re.match(r"[a-z{]|[A-Z][a-z]+[A-Z]\w*\b", variant.message), variant.name
    assert not variant.message.endswith("."), variant.name
    assert variant.fix.endswith("."), variant.name
    assert variant.fix[:1].isupper(), variant.name
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", variant.name), variant.name
    assert rule.summary and not rule.summary.endswith(".")


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_variants_are_declared_once_and_the_first_gives_the_default_severity(rule):
    names = [v.name for v in rule.variants]
    assert names and len(set(names)) == len(names), rule.code
    assert rule.severity is rule.variants[0].severity


def test_a_finding_names_its_variant_and_an_undeclared_one_is_refused():
    from meshlint.finding import Severity, Variant
    from meshlint.rules import port_protocol_unset as ml101

    f = ml101.RULE.finding(ml101.EXTERNAL_NAME_PORT, None, port=80, name="nothing")
    assert (f.variant, f.severity, f.message) == (
        "external-name-port", Severity.WARNING,
        "ExternalName Service port 80 is named nothing: the proxy may block its TCP traffic")
    stray = Variant("stray", Severity.ERROR, "not declared", "Declare it.")
    with pytest.raises(ValueError, match="not declared on the rule"):
        ml101.RULE.finding(stray, None)


def test_every_variant_is_documented_and_in_sarif_rule_metadata():
    from meshlint.docs import rule_page
    from meshlint.report.sarif import rule_descriptor

    for rule, variant in VARIANTS:
        assert f"- `{variant.name}` ({variant.severity.value}): {variant.message}" in rule_page(rule)
        assert rule_descriptor(rule)["messageStrings"][variant.name] == {"text": variant.message}


def test_codes_known_outside_the_rules_come_from_the_rules():
    """The IST suppression map, the SARIF area tags and the footgun of each rule."""
    from meshlint.suppress import istio_code_map

    assert istio_code_map(rules.ALL) == {"IST0118": {"ML101"}, "IST0150": {"ML101"}, "IST0132": {"ML103"},
                                        "IST0101": {"ML102", "ML105", "ML106", "ML113"}, "IST0112": {"ML106"},
                                        "IST0173": {"ML107"}, "IST0174": {"ML107"}, "IST0109": {"ML108"},
                                        "IST0130": {"ML109"}, "IST0131": {"ML109"}, "IST0149": {"ML110"},
                                        "IST0165": {"ML102"}, "IST0145": {"ML111"}, "IST0138": {"ML112"},
                                        "IST0162": {"ML114"}, "IST0151": {"ML404"}, "IST0155": {"ML404"},
                                        "IST0152": {"ML408"}, "IST0153": {"ML408"}, "IST0154": {"ML408"},
                                        "IST0107": {"ML405"}, "IST0108": {"ML405"}, "IST0125": {"ML405"},
                                        "IST0146": {"ML406"}, "IST0147": {"ML406"},
                                        "IST0139": {"ML407"},
                                        "IST0116": {"ML117"}, "IST0137": {"ML117"},
                                        "IST0134": {"ML118"}, "IST0177": {"ML118"}, "IST0144": {"ML204"},
                                        "IST0127": {"ML205"}, "IST0166": {"ML205"},
                                        "IST0128": {"ML206"}, "IST0129": {"ML206"},
                                        "IST0105": {"ML410"}, "IST0158": {"ML410"}}
    assert {rules.area(r).digit for r in rules.ALL} == {"0", "1", "2", "3", "4"}
    assert sorted({r.footgun for r in rules.ALL if r.footgun}) == list(range(1, 11)) == sorted(rules.FOOTGUNS)


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_every_rule_has_a_fixture_with_bad_and_clean_documents(rule, main_fixtures):
    fixture = main_fixtures.get(rule.code)
    assert fixture is not None, f"no tests/rules/{rule.code}_{rule.name.replace('-', '_')}.yaml"
    assert fixture.path.stem == f"{rule.code}_{rule.name.replace('-', '_')}"
    assert any(e.code == rule.code for e in fixture.expectations), f"{rule.code}: no expect marker"
    lines = fixture.path.read_text(encoding="utf-8").splitlines()
    marked = {e.line for e in fixture.expectations if e.code == rule.code}
    start, clean = 1, 0
    for number, line in enumerate(lines + ["---"], start=1):
        if line.startswith("---"):
            body = [text for text in lines[start - 1:number - 1] if text.strip() and not text.lstrip().startswith("#")]
            if body and not any(start <= m < number for m in marked):
                clean += 1
            start = number + 1
    assert clean >= 1, f"{rule.code}: every document of the fixture has a finding; add a near-miss"


def _index_of_every_fixture(rule_fixtures, main_fixtures) -> tuple[Index, Config]:
    loaded = load([str(f.path) for f in rule_fixtures] + [str(ROOT / "examples")])
    merged: dict = {}
    for f in main_fixtures.values():
        merged.update(f.config)
    config = from_mapping(merged, rules.BY_CODE)
    return Index(loaded.resources, loaded.problems, config.facts), config


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.code)
def test_declared_inputs_are_the_kinds_read(rule, rule_fixtures, main_fixtures):
    index, config = _index_of_every_fixture(rule_fixtures, main_fixtures)
    index.accessed = set()
    findings = list(rule.check(index, config.options_for(rule)))
    assert findings, f"{rule.code} found nothing over all fixtures"
    assert index.accessed == set(rule.inputs), (
        f"{rule.code} reads {sorted(index.accessed)} but declares {sorted(rule.inputs)}")


def test_docs_rules_md_is_generated_and_current():
    path = ROOT / "docs" / "rules.md"
    assert path.read_text(encoding="utf-8") == rules_markdown(rules.ALL), (
        "docs/rules.md is stale: run `make docs`")


def test_the_fixes_a_rule_declares_are_the_fixes_its_findings_carry(rule_fixtures):
    """`Rule.fixes` is what a rule's doc page says `meshlint fix` does: every applicability a
    finding carries in the rule fixtures is declared, and every declared one occurs."""
    from meshlint.engine import Inputs, check

    carried: dict[str, set] = {rule.code: set() for rule in rules.ALL}
    for fixture in rule_fixtures:
        config = from_mapping(fixture.config, rules.BY_CODE, where=fixture.path.name)
        for f in check(Inputs([str(fixture.path)]), config).findings:
            if f.autofix is not None:
                carried[f.code].add(f.autofix.applicability)
    for rule in rules.ALL:
        declared = {kind.applicability for kind in rule.fixes}
        assert carried[rule.code] == declared, (
            f"{rule.code}: findings carry {carried[rule.code]}, the rule declares {declared}")
        for kind in rule.fixes:
            assert kind.description[:1].isupper() and kind.description.endswith("."), (rule.code, kind)
