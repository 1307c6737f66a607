"""JUnit XML report, for CI test-report views (GitLab, Jenkins, Azure DevOps...).

Layout: a `<testsuites name="meshlint">` root with one `<testsuite>` per rule, named
"ML101 port-protocol-unset". Inside, one `<testcase>` per resource the rule reported on
(classname = the rule, name = "Service shop/cart", or "file:line:column" for input problems
that have no resource: a one-line document may hold several; no file and line for a live
object), failing with every finding of that rule on that resource; a rule without findings is
one passing testcase "no findings"; suppressed findings are skipped testcases.

Which rules ran: `result.rules` (the rules that --select/--ignore left enabled), or the whole
catalogue for a result that names none.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .. import rules as catalogue
from . import live_place

if TYPE_CHECKING:
    from ..engine import Result
    from ..finding import Finding, Rule
    from . import RenderOptions

_RANK = {"info": 0, "warning": 1, "error": 2}
# Characters XML 1.0 cannot carry at all (a parser error message may quote them).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(result: Result, options: RenderOptions) -> bytes:
    rules: Iterable[Rule] = result.rules or catalogue.ALL
    root = ET.Element("testsuites", name="meshlint")
    by_code: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_code.setdefault(f.code, []).append(f)
    known = [r.code for r in rules]
    # A finding of a rule outside `rules` (not expected) still gets reported, never dropped.
    extra = [code for code in by_code if code not in known]
    names = {r.code: r.name for r in catalogue.ALL}
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for code in [*known, *sorted(extra)]:
        findings = by_code.get(code, [])
        suite = _suite(root, code, names.get(code) or findings[0].name, findings)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n").encode()


def _suite(root: ET.Element, code: str, name: str, findings: list[Finding]) -> ET.Element:
    classname = f"{code} {name}"
    suite = ET.SubElement(root, "testsuite", name=classname)
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:  # sorted by file and line: testcases come in file order
        groups.setdefault(_subject(f) + (f.file, bool(f.suppressed)), []).append(f)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    displays = [key[0] for key in groups]
    for (display, _ident, file, suppressed), group in groups.items():
        # The same resource display in two files (a duplicate object): name them apart.
        case_name = display if displays.count(display) == 1 else f"{display} ({file})"
        attributes = {"classname": classname, "name": _clean(case_name)}
        if not live_place(group[0]):  # a live object has no file and line
            attributes.update(file=_clean(_file(file)), line=str(group[0].line))
        case = ET.SubElement(suite, "testcase", attributes)
        counts["tests"] += 1
        if suppressed:
            ET.SubElement(case, "skipped", message=_clean(f"suppressed: {group[0].suppressed}"))
            counts["skipped"] += 1
        else:
            _failure(case, group)
            counts["failures"] += 1
    if not groups:
        ET.SubElement(suite, "testcase", classname=classname, name="no findings")
        counts["tests"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def _subject(f: Finding) -> tuple[str, tuple]:
    if f.resource is not None:
        r = f.resource
        return r.display(), (r.kind, r.namespace, r.name)
    return f"{_file(f.file)}:{f.line}:{f.column}", ()


def _failure(case: ET.Element, group: list[Finding]) -> None:
    worst = max(group, key=lambda f: _RANK[f.severity.value]).severity.value
    if len(group) == 1:
        message = group[0].message
    else:
        message = f"{len(group)} findings: " + "; ".join(f.message for f in group)
    message = _clean(message)
    lines = []
    for f in group:
        place = live_place(f) or f"{_file(f.file)}:{f.line}:{f.column}"
        lines.append(f"{place}: {f.code} [{f.severity.value}] {f.message}")
        lines.append(f"  help: {f.help}")
    failure = ET.SubElement(case, "failure", message=message, type=worst)
    failure.text = _clean("\n".join(lines) + "\n")


def _file(file: str) -> str:
    return "stdin" if file in ("-", "") else file.replace("\\", "/")
