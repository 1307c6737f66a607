"""Rule documentation: the `rules` table, `rule CODE` pages and the generated docs/rules.md.

A rule's doc page is its module docstring (summary line, `## Why it matters`, `## Example`,
`## Fixed example`, `## Fix`, `## References`), so code and documentation cannot drift apart.
What follows from the rule's data is generated here, the same way for every rule, and placed
before the references: its messages, what `meshlint fix` does about them, how to set its
options, and how to suppress it.

Pages are Markdown. In a terminal they are wrapped to the terminal's width (at most `WIDTH`
columns), between words, with code blocks left as they are.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .finding import Rule
from .rules import look_alike

# Where docs/rules.md is published, as an absolute URL: the one place that knows it. Empty
# while meshlint has no public home, and then no report links anywhere (SARIF has no helpUri);
# every rule's doc page travels with its findings all the same.
DOCS_URL = ""

WIDTH = 80  # the widest a page or the rules table is printed, even on a wider terminal
REFERENCES = "## References"
# A reference to a file of these repositories is written `- owner/repo `path`: why` in a rule's
# doc and linked here, so the docstring stays readable and every link has the same form.
SOURCES = {
    "istio/istio": "https://github.com/istio/istio/blob/master/",
    "istio/api": "https://github.com/istio/api/blob/master/",
    "linkerd/linkerd2": "https://github.com/linkerd/linkerd2/blob/main/",
    "kiali/kiali": "https://github.com/kiali/kiali/blob/master/",
}
_SOURCE = re.compile(r"^- (" + "|".join(map(re.escape, SOURCES)) + r") `([^`]+)`", re.M)
ISTIO_ANALYSIS_URL = "https://istio.io/latest/docs/reference/config/analysis/{code}/"
IST_CODE = re.compile(r"^IST\d{4}$")


def _closest_codes(typed: str, codes: list[str]) -> list[str]:
    near = difflib.get_close_matches(typed, codes, n=len(codes), cutoff=0.75)

    def changed(code: str) -> int:
        return sum(a != b for a, b in zip(typed, code)) + abs(len(typed) - len(code))

    fewest = min(map(changed, near), default=0)
    return sorted(c for c in near if changed(c) == fewest)[:2]


def anchor(rule: Rule) -> str:
    return f"{rule.code.lower()}-{rule.name}"


def help_uri(rule: Rule) -> str | None:
    """The rule's section of the published rule reference; None while it is published nowhere."""
    return f"{DOCS_URL}#{anchor(rule)}" if DOCS_URL else None


# --- the rules table --------------------------------------------------------------------------

def rules_table(rules: Iterable[Rule], width: int = WIDTH) -> str:
    """The rules grouped by area (`rules.AREAS`), each under its title: a row gives the code, the
    default severity and the name, and the summary below the name, wrapped under itself, so
    that long names never squeeze the summaries."""
    from .rules import AREAS, area

    rules = list(rules)
    indent = 6 + 1 + 8 + 1
    summary_width = max(width - indent, 20)
    lines = [f"{'CODE':<6} {'SEVERITY':<8} NAME", " " * indent + "SUMMARY"]
    for group in AREAS:
        members = [r for r in rules if area(r) is group]
        if not members:
            continue
        lines += ["", f"{group.title} (ML{group.digit}xx)"]
        for r in members:
            lines.append(f"{r.code:<6} {r.severity.value:<8} {r.name}")
            summary = textwrap.wrap(r.summary, summary_width, break_long_words=False, break_on_hyphens=False)
            lines += [" " * indent + part for part in summary]
    return "\n".join(lines) + "\n"


def rules_json(rules: Iterable[Rule]) -> str:
    return json.dumps([{"code": r.code, "name": r.name, "severity": r.severity.value, "summary": r.summary,
                        "inputs": sorted(r.inputs), "options": dict(r.options),
                        "istio_codes": sorted(r.istio_codes),
                        "fixes": [{"applicability": k.applicability.value, "description": k.description}
                                  for k in r.fixes],
                        "variants": [{"name": v.name, "severity": v.severity.value, "message": v.message,
                                      "fix": v.fix} for v in r.variants]}
                       for r in rules], indent=2) + "\n"


# --- one rule's page ---------------------------------------------------------------------------

def messages(rule: Rule) -> list[str]:
    """Every message the rule emits, as Markdown list items: the variant's name and severity,
    its template (`{placeholders}` are filled in each finding) and, as a paragraph of the item,
    its fix."""
    return [f"- `{v.name}` ({v.severity.value}): {v.message}\n\n  Fix: {v.fix}" for v in rule.variants]


def _automatic_fix(rule: Rule) -> list[str]:
    """What `meshlint fix` does about the rule's findings, each kind of fix with its safety."""
    if not rule.fixes:
        return ["None: `meshlint fix` leaves these findings to you (see Fix above)."]
    out = ["`meshlint fix` applies the safe fixes; `meshlint fix --unsafe` the unsafe ones too "
           "(they change behaviour: review them, `--diff` shows them first). Each finding that can be "
           "fixed says which fix it has.", ""]
    return out + [f"- {kind.applicability.value}: {kind.description}" for kind in rule.fixes]


def option_snippets(rule: Rule, option: str, value: object) -> tuple[str, str]:
    """The `.meshlint.yaml` and the `pyproject.toml` text that set one option of the rule."""
    literal = json.dumps(value)  # a number, a bool or a quoted string reads the same in YAML and TOML
    return f"{rule.name}:\n  {option}: {literal}\n", f"[tool.meshlint.{rule.name}]\n{option} = {literal}\n"


def _options(rule: Rule) -> list[str]:
    out = []
    for option, default in rule.options.items():
        yaml_text, toml_text = option_snippets(rule, option, default)
        out += [f"`{option}` (default `{json.dumps(default)}`). In `.meshlint.yaml`:", "",
                f"```yaml\n{yaml_text}```", "", "or in `pyproject.toml`:", "", f"```toml\n{toml_text}```", ""]
    return out[:-1]


def _suppression(rule: Rule) -> list[str]:
    from .rules import FOR_PROBLEM

    out = ["Annotate the resource that the finding names:", "",
           f'```yaml\nmetadata:\n  annotations:\n    meshlint.io/ignore: "{rule.code}"\n```', "",
           "or, in `.meshlint.yaml`, turn the rule off, or off for some resources (the kind and "
           "`namespace/name` as the finding prints them; `*` matches any part of a name):", "",
           f'```yaml\nignore: [{rule.code}]\nignore-resources:\n'
           f'- {{code: {rule.code}, resource: "Kind namespace/name-glob"}}\n```']
    if rule in FOR_PROBLEM.values():
        out += ["", "A document that meshlint cannot read has no annotations or name it can see: turn the "
                "rule off in the configuration instead."]
    if rule.istio_codes:
        codes = sorted(rule.istio_codes)
        pages = ", ".join(f"[{c}]({ISTIO_ANALYSIS_URL.format(code=c.lower())})" for c in codes)
        out += ["", f"istioctl's annotation suppresses it too, with the `istioctl analyze` code it mirrors "
                f"({pages}):", "",
                f'```yaml\nmetadata:\n  annotations:\n    galley.istio.io/analyze-suppress: "{",".join(codes)}"\n```']
    return out


def page_markdown(rule: Rule) -> str:
    """The rule's doc page below its summary line, as Markdown: the docstring's sections, then
    its messages, options and suppression, then the docstring's references."""
    _, _, body = rule.doc.partition("\n")
    own, _, references = body.strip().partition(REFERENCES)
    out = [own.strip(), "", "## Messages", "", *messages(rule), "", "## Automatic fix", "", *_automatic_fix(rule)]
    if rule.options:
        out += ["", "## Options", "", *_options(rule)]
    out += ["", "## Suppression", "", *_suppression(rule)]
    if references:
        linked = _SOURCE.sub(lambda m: f"- [{m[1]} `{m[2]}`]({SOURCES[m[1]]}{m[2]})", references.rstrip())
        out += ["", REFERENCES + linked]
    return "\n".join(out) + "\n"


def rule_page(rule: Rule, width: int | None = None) -> str:
    """The whole page as `meshlint rule CODE` prints it: wrapped to `width` when given (a
    terminal), as written otherwise (SARIF's help text, which viewers wrap themselves)."""
    head = f"{rule.code} {rule.name} [{rule.severity.value}]"
    summary = rule.doc.partition("\n")[0].strip()
    text = f"{summary}\n\n{page_markdown(rule)}"
    if width is not None:
        text = wrap(_plain_links(text), width)
    return f"{head}\n{'=' * len(head)}\n\n{text}"


def rules_markdown(rules: Iterable[Rule]) -> str:
    rules = list(rules)
    out = ["# meshlint rules", "",
           "Generated by `meshlint rules --format markdown` from the rules' own documentation; "
           "do not edit by hand.", "",
           "| code | name | severity | summary |", "|---|---|---|---|"]
    out += [f"| [{r.code}](#{anchor(r)}) | {r.name} | {r.severity.value} | {r.summary} |" for r in rules]
    for r in rules:
        summary = r.doc.partition("\n")[0].strip()
        body = _demote_headings(page_markdown(r))
        out += ["", f'<a id="{anchor(r)}"></a>', "", f"## {r.code} {r.name}", "",
                f"**{summary}** Default severity: `{r.severity.value}`. "
                f"Explain in a terminal: `meshlint rule {r.code}`.", "", body.rstrip()]
    return "\n".join(out) + "\n"


def _demote_headings(markdown: str) -> str:
    """`## Fix` becomes `### Fix` under the rule's own `##` heading (code blocks untouched)."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        out.append("#" + line if line.startswith("## ") and not fenced else line)
    return "\n".join(out)


# --- terminal wrapping -------------------------------------------------------------------------

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_ITEM = re.compile(r"^(\s*)(- |\d+\. )")


def _plain_links(text: str) -> str:
    """`[title](url)` as a terminal shows it: the title, then the URL in angle brackets, which
    terminals and mail readers take as its end."""
    return _LINK.sub(r"\1 <\2>", text)


def wrap(markdown: str, width: int) -> str:
    """Re-flow Markdown paragraphs and list items to `width` columns, breaking only between
    words (a word longer than the line keeps a line of its own); headings and code blocks are
    kept as written."""
    out: list[str] = []
    paragraph: list[str] = []
    first_indent = rest_indent = ""
    fenced = False

    def flush() -> None:
        if paragraph:
            out.extend(textwrap.wrap(" ".join(paragraph), width, initial_indent=first_indent,
                                     subsequent_indent=rest_indent, break_long_words=False,
                                     break_on_hyphens=False))
            paragraph.clear()

    for line in markdown.splitlines():
        stripped = line.strip()
        if fenced or stripped.startswith("```"):
            flush()
            out.append(line)
            fenced = fenced != stripped.startswith("```")
        elif not stripped:
            flush()
            out.append("")
        elif stripped.startswith("#"):
            flush()
            out.append(line)
        elif item := _ITEM.match(line):
            flush()
            first_indent = item.group(0)
            rest_indent = " " * len(first_indent)
            paragraph.append(line[item.end():].strip())
        elif paragraph:
            paragraph.append(stripped)
        else:
            first_indent = rest_indent = line[:len(line) - len(line.lstrip())]
            paragraph.append(stripped)
    flush()
    return "\n".join(out) + "\n"


# --- finding a rule by what the user typed ------------------------------------------------------

@dataclass(frozen=True)
class Lookup:
    """What `meshlint rule KEY` found: the rules to show (with a note saying why, for an
    `istioctl analyze` code), or, when none, an error that suggests what the user may mean."""

    rules: tuple[Rule, ...] = ()
    note: str = ""
    error: str = ""


def lookup(key: str, rules: Sequence[Rule]) -> Lookup:
    """A rule by code (`ML101`) or name (`port-protocol-unset`), the rules that mirror an
    `istioctl analyze` code (`IST0118`), or suggestions: close codes and names (difflib), and
    names that contain what was typed."""
    key = key.strip()
    for rule in rules:
        if key.upper() == rule.code or key.lower() == rule.name:
            return Lookup((rule,))
    if IST_CODE.match(key.upper()):
        code = key.upper()
        mirrors = tuple(r for r in rules if code in r.istio_codes)
        if mirrors:
            names = " and ".join(f"{r.code} {r.name}" for r in mirrors)
            return Lookup(mirrors, note=f"istioctl analyze {code} is mirrored by {names}")
        known = sorted({c for r in rules for c in r.istio_codes})
        return Lookup(error=f"no rule mirrors istioctl analyze {code} (the codes meshlint mirrors: "
                            f"{', '.join(known)})")
    by_key = {r.code: r for r in rules} | {r.name: r for r in rules}
    # a letter typed for the digit it looks like (ML1O1, ML2I2) names one code, whatever its
    # neighbours; otherwise codes differ in a digit or two: only a near-identical one is a likely
    # typo, and of those the ones with the fewest characters changed (difflib alone ranks ML118
    # like ML101 for "ML1O1")
    close = [c for c in (look_alike(key),) if c in by_key and c != key.upper()]
    close = close or _closest_codes(key.upper(), [r.code for r in rules])
    close += difflib.get_close_matches(key.lower(), [r.name for r in rules], n=3, cutoff=0.6)
    close += [r.name for r in rules if len(key) >= 3 and key.lower() in r.name]
    suggested = list(dict.fromkeys(f"{by_key[c].code} ({by_key[c].name})" for c in close))
    hint = f"; did you mean {' or '.join(suggested[:3])}?" if suggested else ""
    return Lookup(error=f"unknown rule {key!r}{hint} (see `meshlint rules`)")
