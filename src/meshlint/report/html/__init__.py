"""`--format html`: one self-contained page to share a review of the mesh (SPEC §6).

- `findings.py`: the summary (by severity, by footgun, by namespace) and each finding with the
  source lines around it;
- `drawing.py`: the call graph, laid out by `graph/layout.py`, as the page draws it (services
  in namespace lanes, or one box per namespace) and its worst paths;
- `page.py`: the Jinja templates (`templates/`) filled with them, the style sheet and script
  (`static/`) inlined.

**Nothing is fetched.** Styles, the script and the icon are inline; the page's Content
Security Policy allows no source but them (`default-src 'none'`), so a browser makes no
request even if a link slipped in.

**Nothing from the input runs.** Every value is printed by a template with autoescaping on;
the script reads only what the markup carries (ids, `data-` attributes and text) and writes
only text, and input never enters a `<script>` or `<style>`. The policy allows only the page's
own script and style sheet, by their hashes, so an inline handler (`onerror=`) would not run
even if escaping failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...engine import Result
    from ...graph.model import CallGraph
    from .. import RenderOptions


def render(result: Result, options: RenderOptions) -> bytes:
    from .page import report_page

    return report_page(result).encode("utf-8")


def render_graph(view: CallGraph) -> str:
    """`meshlint graph --format html`: the call graph view alone."""
    from .page import graph_page

    return graph_page(view)
