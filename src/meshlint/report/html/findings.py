"""What the HTML report says about the findings: the summary tables, and each finding with the
source lines around it, ready for the template (which escapes every value it prints)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ... import rules as catalogue
from ...rules import retry_amplification
from .. import live_place

if TYPE_CHECKING:
    from ...finding import Finding, Rule
    from ...resource import Document, Ref

SEVERITIES = ("error", "warning", "info")
CONTEXT_LINES = 3  # shown above and below the offending line
MAX_LINE = 240  # characters of a source line shown (a minified JSON file is one line)
LEAD = 40  # characters shown before the finding's column, when a long line is cut around it
# control characters would be dropped or mangled by the HTML parser: shown as their pictures (␀, ␛)
_CONTROL_PICTURES = {c: 0x2400 + c for c in range(0x20) if c != 0x09} | {0x7F: 0x2421}


@dataclass(frozen=True)
class SourceLine:
    number: int
    text: str
    marked: bool  # the line the finding points at


@dataclass(frozen=True)
class FindingView:
    anchor: str  # the element id of the finding
    finding: Finding
    namespace: str  # "" for cluster-scoped resources and input problems
    where: str  # `file:line`, or what stands for it
    excerpt: list[SourceLine]
    graph_node: str = ""  # id of the finding's resource in the call graph drawing
    graph_path: str = ""  # id of the path of the drawing that the finding reports


@dataclass(frozen=True)
class RuleCount:
    code: str
    name: str
    summary: str
    count: int
    enabled: bool


@dataclass(frozen=True)
class FootgunRow:
    number: int
    title: str
    rules: list[RuleCount]

    @property
    def count(self) -> int:
        return sum(r.count for r in self.rules)

    @property
    def checked(self) -> bool:
        return any(r.enabled for r in self.rules)


@dataclass(frozen=True)
class NamespaceRow:
    name: str  # "" for findings without a namespace
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Summary:
    counts: Mapping[str, int]  # severity -> reported findings
    footguns: list[FootgunRow]
    other_rules: list[RuleCount]  # the rules beyond the ten that have findings
    namespaces: list[NamespaceRow]
    rule_choices: list[RuleCount]  # every rule with findings, by code


def summary(findings: list[Finding], enabled: Iterable[Rule]) -> Summary:
    """Findings by severity, by footgun (the ten, each with its rules, then the other rules that
    have findings) and by namespace (most errors first)."""
    by_code = Counter(f.code for f in findings)
    enabled_codes = {r.code for r in enabled}

    def count(rule: Rule) -> RuleCount:
        return RuleCount(rule.code, rule.name, rule.summary, by_code.get(rule.code, 0), rule.code in enabled_codes)

    footguns = [FootgunRow(n, title, [count(r) for r in catalogue.ALL if r.footgun == n])
                for n, title in catalogue.FOOTGUNS.items()]
    others = [count(r) for r in catalogue.ALL if r.footgun is None and by_code.get(r.code)]
    known = {r.code for r in catalogue.ALL}
    # a finding of a code outside the catalogue is still counted, never dropped
    others += [RuleCount(code, next(f.name for f in findings if f.code == code), "", n, True)
               for code, n in sorted(by_code.items()) if code not in known]
    per_namespace: dict[str, Counter[str]] = {}
    for f in findings:
        per_namespace.setdefault(namespace(f), Counter())[f.severity.value] += 1
    rows = [NamespaceRow(ns, {s: c.get(s, 0) for s in SEVERITIES}) for ns, c in per_namespace.items()]
    rows.sort(key=lambda r: (-r.counts["error"], -r.total, r.name == "", r.name))
    counts = {s: 0 for s in SEVERITIES} | Counter(f.severity.value for f in findings)
    choices = sorted([c for row in footguns for c in row.rules if c.count] + others, key=lambda c: c.code)
    return Summary(counts, footguns, others, rows, choices)


def namespace(f: Finding) -> str:
    """The namespace a finding belongs to: its resource's, a Namespace's own name (as
    `--namespace` counts it), or "" (other cluster-scoped objects and input problems)."""
    if f.resource is None:
        return ""
    return f.resource.name if f.resource.kind == "Namespace" else f.resource.namespace


def views(findings: list[Finding], graph_nodes: Mapping[Ref, str], graph_paths: Mapping[Ref, str]) -> list[FindingView]:
    """The findings, errors first, then by file and line, each with its excerpt and, when its
    resource is drawn in the call graph, the id of its node (`graph_nodes`, by resource ref)
    or of the path it reports (`graph_paths`, by the ref of the path's entry)."""
    excerpts = _Excerpts()
    ordered = sorted(findings, key=lambda f: (-f.severity.rank, f.sort_key()))
    out = []
    for i, f in enumerate(ordered):
        node = path = ""
        if f.resource is not None:
            node = graph_nodes.get(f.resource.ref, "")
            # an amplification finding (not a cycle) is on the entry of the path it reports
            if f.code == retry_amplification.RULE.code and f.variant != retry_amplification.RETRY_CYCLE.name:
                path = graph_paths.get(f.resource.ref, "")
        out.append(FindingView(f"finding-{i + 1}", f, namespace(f), _where(f), excerpts.around(f), node, path))
    return out


def _where(f: Finding) -> str:
    if not f.file:  # a live object (`--kube`): the object and its cluster
        return live_place(f) or "live object"
    name = "stdin" if f.file == "-" else f.file
    if not f.line:
        return name
    return f"{name}:{f.line}:{f.column}" if f.column else f"{name}:{f.line}"


class _Excerpts:
    """The lines around each finding, from the text of its document; each document is split
    into lines once, however many findings it has."""

    def __init__(self) -> None:
        self._lines: dict[int, list[str]] = {}

    def around(self, f: Finding) -> list[SourceLine]:
        document = _document(f)
        if document is None or f.line < 1:
            return []
        lines = self._lines.get(id(document))
        if lines is None:
            # lines are counted as `locate.py` counts them: "\n" ends a line, a "\r" before it is dropped
            lines = self._lines[id(document)] = [line.removesuffix("\r") for line in document.text.split("\n")]
        at = f.line - document.line  # the document's first line is `document.line`
        if not 0 <= at < len(lines):
            return []
        first, last = max(0, at - CONTEXT_LINES), min(len(lines), at + CONTEXT_LINES + 1)
        while last - 1 > at and not lines[last - 1].strip():  # no trailing blank lines
            last -= 1
        # the column in the document's own text: its first line may start inside a source line
        # (an item of a compact JSON List)
        column = f.column - (document.column if at == 0 else 1) if f.column else 0
        return [SourceLine(document.line + i, _shown(lines[i], column if i == at else 0), i == at)
                for i in range(first, last)]


def _document(f: Finding) -> Document | None:
    if f.resource is not None:
        return f.resource.document
    return f.document


def _shown(line: str, column: int = 0) -> str:
    """A line as shown: at most MAX_LINE characters of it, from its start, or from a little
    before `column` (from 0) when the line is cut before it (a one-line compact JSON dump)."""
    if len(line) > MAX_LINE:
        start = column - LEAD if column > MAX_LINE - LEAD else 0
        line = ("… " if start else "") + line[start:start + MAX_LINE] + (" …" if start + MAX_LINE < len(line) else "")
    return line.translate(_CONTROL_PICTURES)
