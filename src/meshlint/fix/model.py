"""What `meshlint fix` produces: the files it changes, and the run's account (what was fixed,
what is left, what was not applied and why, what `--unsafe` would add)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine import Result
    from ..finding import Finding


@dataclass(frozen=True)
class FileChange:
    """One input whose text the fixes change: its name as findings show it, its path (None
    for stdin), and its bytes before and after."""

    name: str
    path: str | None
    before: bytes
    after: bytes


@dataclass
class FixResult:
    """The outcome of `meshlint fix`. `result` is the final check of the fixed input (the
    findings left, each with its autofix and, when a fix was not applied, why)."""

    changes: list[FileChange]
    result: Result
    fixed: int  # findings of the first check that the fixes removed
    applied: list[Finding] = field(default_factory=list)  # the findings whose fixes were applied
    not_applied: list[Finding] = field(default_factory=list)  # fixable findings left, `unfixable` says why
    hidden: int = 0  # findings left whose fix is unsafe (applied with --unsafe)
    stdin: bytes | None = None  # the fixed stream, when stdin was read

    @property
    def left(self) -> list[Finding]:
        return self.result.reported

    def summary(self, unsafe: bool, diff: bool = False) -> str:
        """`3 fixed, 2 left (1 more fixable with --unsafe)`, as ruff ends `--fix`."""
        verb = "would be fixed" if diff else "fixed"
        text = f"{self.fixed} {verb}, {len(self.left)} left"
        if self.hidden and not unsafe:
            text += f" ({self.hidden} more fixable with --unsafe)"
        return text
