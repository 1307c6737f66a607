"""Rule fixtures with expectations written next to the offending line.

A fixture `tests/rules/ML103_host_not_in_gateway.yaml` is realistic multi-document YAML. A
trailing `# expect: ML103` comment marks a line where a finding must point;
`# expect: ML103 "text"` also requires the text in the message (several markers may share a
line). Lines without a marker must produce no finding of the fixture's rule (nor of any code
the fixture marks). An optional first line `# meshlint-config: {...}` (YAML flow mapping)
configures the run, with the keys of `.meshlint.yaml`. A rule may have more fixtures for cases
that need an input of their own, named `<CODE>_<name>__<variant>.yaml`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

RULES_DIR = Path(__file__).parent / "rules"
MARKER = re.compile(r"#\s*expect:\s*(.*)$")
EXPECT = re.compile(r'(ML\d{3})(?:\s+"((?:[^"\\]|\\.)*)")?')
CONFIG = re.compile(r"^#\s*meshlint-config:\s*(.*)$")


@dataclass(frozen=True)
class Expectation:
    line: int
    code: str
    text: str | None


@dataclass(frozen=True)
class Fixture:
    path: Path
    code: str
    expectations: tuple[Expectation, ...]
    config: dict

    @property
    def codes(self) -> set[str]:
        return {self.code} | {e.code for e in self.expectations}


def parse(path: Path) -> Fixture:
    code = path.name.split("_", 1)[0]
    expectations = []
    config: dict = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number == 1 and (m := CONFIG.match(line)):
            config = yaml.safe_load(m.group(1)) or {}
            continue
        m = MARKER.search(line)
        if not m:
            continue
        for e in EXPECT.finditer(m.group(1)):
            text = e.group(2)
            if text is not None:
                text = re.sub(r"\\(.)", r"\1", text)  # \" and \\ escapes
            expectations.append(Expectation(number, e.group(1), text))
    return Fixture(path, code, tuple(expectations), config)


def all_fixtures() -> list[Fixture]:
    return [parse(p) for p in sorted(RULES_DIR.glob("ML*.yaml"))]


def compare(fixture: Fixture, findings: list) -> list[str]:
    """Differences between expected and actual findings, as readable lines ([] = agree)."""
    problems = []
    relevant = [f for f in findings if f.code in fixture.codes]
    actual = Counter((f.line, f.code) for f in relevant)
    expected = Counter((e.line, e.code) for e in fixture.expectations)
    for (line, code), n in (actual - expected).items():
        msgs = [f.message for f in relevant if (f.line, f.code) == (line, code)]
        problems.append(f"line {line}: unexpected {code} x{n}: {msgs}")
    for (line, code), n in (expected - actual).items():
        problems.append(f"line {line}: missing {code} x{n}")
    for e in fixture.expectations:
        if e.text is None:
            continue
        messages = [f.message for f in relevant if (f.line, f.code) == (e.line, e.code)]
        if messages and not any(e.text in m for m in messages):
            problems.append(f"line {e.line}: {e.code} message lacks {e.text!r}: {messages}")
    return problems
