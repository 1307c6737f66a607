"""The templates, filled: the report page of `check` and the graph page of `graph`."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from ... import __version__
from ... import rules as catalogue
from ...docs import page_markdown
from . import drawing, findings

if TYPE_CHECKING:
    from ...engine import Result
    from ...finding import Rule
    from ...graph.model import CallGraph

MAX_LISTED_SKIPPED = 50  # skipped documents listed by name; the rest are counted
ICON = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
        "%3Ccircle cx='3' cy='8' r='2.5' fill='%232b6cb0'/%3E%3Ccircle cx='13' cy='3' r='2.5' fill='%23c53030'/%3E"
        "%3Ccircle cx='13' cy='13' r='2.5' fill='%232b6cb0'/%3E%3Cpath d='M3 8L13 3M3 8L13 13' "
        "stroke='%23555' stroke-width='1.2'/%3E%3C/svg%3E")


def report_page(result: Result) -> str:
    reported = result.reported
    view = result.call_graph
    graph = node_ids = path_ids = None
    if view is not None:
        graph, node_ids, path_ids = drawing.draw(view, reported)
    cards = findings.views(reported, node_ids or {}, path_ids or {})
    codes = {f.code for f in reported}
    return _template("report.html.j2").render(
        **_page(), result=result, summary=findings.summary(reported, result.rules or catalogue.ALL),
        findings=cards, graph=graph, rule_docs=_rule_docs([r for r in catalogue.ALL if r.code in codes]),
        skipped=result.skipped[:MAX_LISTED_SKIPPED], severities=findings.SEVERITIES,
        suppressed=len(result.findings) - len(reported))


def graph_page(view: CallGraph) -> str:
    graph, _, _ = drawing.draw(view)
    return _template("graph.html.j2").render(**_page(), graph=graph, view=view)


def _page() -> dict[str, object]:
    """What every page has: its style, its script, and the policy that allows only them (by
    their hashes), the icon (a data: URL) and no request at all."""
    style, script = _static("report.css"), _static("report.js")
    policy = (f"default-src 'none'; script-src '{_sha256(script)}'; style-src '{_sha256(style)}'; img-src data:; "
              "base-uri 'none'; form-action 'none'")
    return {"version": __version__, "policy": policy, "icon": ICON, "style": Markup(style), "script": Markup(script)}


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


@cache
def _static(name: str) -> str:
    text = resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")
    # inlined between <style> or <script> tags, which these would end early
    if "</" in text or "<!--" in text:
        raise ValueError(f"static/{name} holds '</' or '<!--', which would end its inline element")
    return text


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader(__package__, "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = drawing.number
    return env


def _template(name: str) -> jinja2.Template:
    return _environment().get_template(name)


def _rule_docs(rules: list[Rule]) -> list[tuple[Rule, Markup]]:
    """Each rule and its doc page as HTML. The Markdown is ours, and still rendered with raw
    HTML off: a `<placeholder>` in the text stays text."""
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark", {"html": False})

    def page(rule: Rule) -> Markup:
        summary = rule.doc.partition("\n")[0].strip()
        return Markup(markdown.render(f"{summary}\n\n{page_markdown(rule)}"))

    return [(rule, page(rule)) for rule in rules]
