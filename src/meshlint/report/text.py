"""Human-readable report, one finding per line plus a help line (SPEC §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine import Result
    from ..finding import Finding


def line(f: "Finding") -> str:
    where = f"{f.resource.display()}: " if f.resource is not None else ""
    return f"{f.file}:{f.line}: {f.code} [{f.severity.value}] {where}{f.message}"


def render(result: "Result") -> str:
    out = []
    for f in result.reported:
        out.append(line(f))
        out.append(f"  help: {f.fix} (docs: meshlint rule {f.code})")
    counts = result.counts()
    total = sum(counts.values())
    parts = ", ".join(f"{n} {sev}" for sev, n in counts.items())
    suppressed = len(result.findings) - len(result.reported)
    tail = f", {suppressed} suppressed" if suppressed else ""
    noun = "finding" if total == 1 else "findings"
    out.append(f"{total} {noun} ({parts}{tail}) in {result.files} file{'s' if result.files != 1 else ''}, "
               f"{result.resources} resource{'s' if result.resources != 1 else ''}")
    return "\n".join(out) + "\n"
