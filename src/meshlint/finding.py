"""Severity, Finding and Rule: the vocabulary shared by rules, the engine and the reports."""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

if TYPE_CHECKING:
    from .index import Index
    from .resource import Document, Ref, Resource


class Severity(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"unknown severity {text!r} (expected info, warning or error)") from None


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(slots=True)
class Finding:
    """One problem. `path` locates the offending field inside `resource`; the engine turns it
    into `file` and `line` once, after all rules ran (so clean resources never pay for it)."""

    code: str
    name: str
    severity: Severity
    message: str
    fix: str
    resource: "Resource | None" = None
    path: tuple = ()
    document: "Document | None" = None  # for input problems that have no resource
    related: tuple["Ref", ...] = ()
    file: str = ""
    line: int = 0
    suppressed: str = ""  # why the finding is suppressed ("" = reported)

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.code, self.message)


Options = Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    """A rule: its identity, its texts, the kinds it reads, and its pure check function.

    `message` and `fix` are format strings filled with the keyword arguments given to
    `finding()`; `options` holds the defaults of the rule's options (config keys under the
    rule's name)."""

    code: str
    name: str
    severity: Severity
    summary: str
    inputs: frozenset[str]
    message: str
    fix: str
    check: Callable[["Index", Options], Iterator[Finding]]
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def doc(self) -> str:
        """The rule's doc page: the docstring of the module that defines `check`."""
        module = sys.modules[self.check.__module__]
        return (module.__doc__ or "").strip()

    def finding(self, resource: "Resource | None", path: tuple = (), *,
                related: tuple = (), message: str | None = None, fix: str | None = None,
                severity: Severity | None = None, document: "Document | None" = None,
                line: int = 0, **values: Any) -> Finding:
        return Finding(
            code=self.code, name=self.name, severity=severity or self.severity,
            message=(message or self.message).format(**values),
            fix=(fix or self.fix).format(**values),
            resource=resource, path=tuple(path), related=tuple(related),
            document=document, line=line,
        )
