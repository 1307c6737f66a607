"""Reports: the final list of findings -> bytes, one module per format.

A report knows nothing of rules' internals: it reads findings, the rule catalogue's metadata
(for formats that carry rule descriptions) and the run's summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..engine import Result

FORMATS = ("text", "json", "sarif", "junit", "github")


def renderer(name: str) -> Callable[["Result"], str]:
    if name == "text":
        from . import text
        return text.render
    if name == "json":
        from . import json
        return json.render
    if name == "sarif":
        from . import sarif
        return sarif.render
    if name == "junit":
        from . import junit
        return junit.render
    if name == "github":
        from . import github
        return github.render
    raise ValueError(f"unknown format {name!r}")
