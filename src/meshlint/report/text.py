"""Human-readable report, one finding per line plus a help line (SPEC §3).

Each line starts with `file:line:column:` as ruff's, flake8's and gcc's do, so editors and
problem matchers jump to the offending key, also in a one-line (compact JSON) document.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import TYPE_CHECKING

from . import live_place

if TYPE_CHECKING:
    from ..engine import Result
    from ..finding import Finding
    from . import RenderOptions


COLORS = {"error": "\033[1;31m", "warning": "\033[33m", "info": "\033[36m"}
BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"


def line(f: Finding, color: bool = False, width: int | None = None) -> str:
    """One finding on one line (newlines inside values are shown as \\n); on a terminal of
    `width` columns, wrapped with its continuation lines indented under it."""
    where = f"{f.resource.display()}: " if f.resource is not None else ""
    place = f"{f.file}:{f.line}:{f.column}"
    live = live_place(f)
    if live:  # a live object has no file and line: it is its own place
        place, where = live, ""
    message = f.message.replace("\r", "\\r").replace("\n", "\\n")
    sev = f.severity.value
    mark = " [*]" if safely_fixable(f) else ""  # as ruff marks what `--fix` fixes
    prefix = f"{place}: {f.code}{mark} [{sev}]"
    text = _wrap(f"{prefix} {where}{message}", width, "    ")
    if color:  # after wrapping: escape codes take no columns
        colored = f"{BOLD}{place}:{RESET} {BOLD}{f.code}{RESET}{mark} {COLORS[sev]}[{sev}]{RESET}"
        text = text.replace(prefix, colored, 1)
    return text


def _wrap(text: str, width: int | None, indent: str) -> str:
    if width is None or len(text) <= width:
        return text
    return textwrap.fill(text, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def render(result: Result, options: RenderOptions) -> bytes:
    color, width = options.color, options.width
    out = statistics(result) if options.statistics else []
    for f in [] if options.statistics else result.reported:
        out.append(line(f, color, width))
        out += [_wrap(f"  evidence ({e.source}): {e.text}", width, "        ") for e in f.evidence]
        help_line = _wrap(f"  help: {f.help}", width, "        ")
        out.append(f"{DIM}{help_line}{RESET}" if color else help_line)
    if not options.quiet:
        # what `meshlint fix` would do, as ruff says it, before the summary, which stays the last line
        fixable = fixable_line(result.reported)
        if fixable:
            out.append(fixable)
        out.append(summary(result))
    return ("\n".join(out) + "\n").encode() if out else b""


def safely_fixable(f: Finding) -> bool:
    return f.autofix is not None and f.autofix.applicability.value == "safe"


def fixable_line(findings: list[Finding]) -> str:
    """`[*] 2 fixable with `meshlint fix` (1 more with `meshlint fix --unsafe`)`, or ""."""
    safe = sum(1 for f in findings if safely_fixable(f))
    unsafe = sum(1 for f in findings if f.autofix is not None) - safe
    if safe:
        more = f" ({unsafe} more with `meshlint fix --unsafe`)" if unsafe else ""
        return f"[*] {safe} fixable with `meshlint fix`{more}"
    return f"{unsafe} fixable with `meshlint fix --unsafe`" if unsafe else ""


def statistics(result: Result) -> list[str]:
    """`--statistics`: one line per rule with findings, the most frequent first (as ruff)."""
    counted = Counter((f.code, f.name, f.severity.value) for f in result.reported)
    return [f"{n:>6}  {code}  {name:<32}  {severity}"
            for (code, name, severity), n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))]


def summary(result: Result) -> str:
    """The last line: findings by severity, suppressed ones, files and resources read, and the
    documents skipped as not Kubernetes objects."""
    counts = result.counts()
    total = sum(counts.values())
    parts = ", ".join(f"{n} {sev}" for sev, n in counts.items())
    suppressed = len(result.findings) - len(result.reported)
    tail = f", {suppressed} suppressed" if suppressed else ""
    noun = "finding" if total == 1 else "findings"
    skipped = len(result.skipped)
    not_objects = f", {skipped} document{'s' if skipped != 1 else ''} skipped" if skipped else ""
    read = f"{result.files} file{'s' if result.files != 1 else ''}"
    if result.cluster:
        read = f"cluster {result.cluster}" + (f" and {read}" if result.files else "")
    return (f"{total} {noun} ({parts}{tail}) in {read}, "
            f"{result.resources} resource{'s' if result.resources != 1 else ''}{not_objects}")
