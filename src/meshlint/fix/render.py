"""What `meshlint fix` prints besides the files: the findings left (as `check`'s text report
shows them, each with why its fix was not applied, or why it has none) and the summary line."""

from __future__ import annotations

from ..report.text import DIM, RESET, line
from .model import FixResult


def account_lines(outcome: FixResult, color: bool = False, quiet: bool = False, unsafe: bool = False,
                  diff: bool = False) -> list[str]:
    out = []
    for f in outcome.left:
        out.append(line(f, color))
        notes = [f"  help: {f.help}"]
        if f.unfixable:
            notes.append(f"  {'fix not applied' if f.autofix is not None else 'no automatic fix'}: {f.unfixable}")
        elif f.autofix is not None and f.autofix.applicability.value == "unsafe" and not unsafe:
            notes.append(f"  unsafe fix (meshlint fix --unsafe): {f.autofix.description or 'changes behaviour'}")
        out += [f"{DIM}{n}{RESET}" if color else n for n in notes]
    if not quiet:
        out.append(outcome.summary(unsafe, diff))
    return out
