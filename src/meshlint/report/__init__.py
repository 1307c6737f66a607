"""Reports: the final result -> bytes, one module per format, one signature, one registry.

Every format is `render(result, options) -> bytes`. A report knows nothing of rules'
internals: it reads findings, the rule catalogue's metadata (for formats that carry rule
descriptions), the run's summary and, for the formats that draw it, the call graph.
Modules are imported only when their format is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine import Result
    from ..finding import Finding


@dataclass(frozen=True)
class RenderOptions:
    """How the user asked to see the result; formats for machines ignore what is for people."""

    color: bool = False  # ANSI colours, for a terminal
    quiet: bool = False  # the findings and nothing else (no summary line)
    statistics: bool = False  # the text report counts findings per rule instead of listing them
    width: int | None = None  # a terminal's columns: wrap long lines for it (None: one line per finding)


Renderer = Callable[["Result", RenderOptions], bytes]

# format name -> the module of this package that renders it
FORMATS: dict[str, str] = {"text": "text", "json": "json", "sarif": "sarif", "junit": "junit", "github": "github",
                           "html": "html"}
# the formats that draw the call graph: `engine.check` builds it only for them
DRAWS_CALL_GRAPH: frozenset[str] = frozenset({"html"})


def renderer(name: str) -> Renderer:
    module = FORMATS.get(name)
    if module is None:
        raise ValueError(f"unknown format {name!r}")
    render: Renderer = importlib.import_module(f"{__name__}.{module}").render
    return render


def live_place(f: Finding) -> str:
    """Where a finding on a live object is, as reports for people name it: `Job shop/migrate
    (cluster prod)`; "" for a finding in a file, which has a file and line instead."""
    if f.resource is None or not f.resource.cluster:
        return ""
    return f"{f.resource.display()} (cluster {f.resource.cluster})"
