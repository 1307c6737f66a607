"""Severity, Rule, Variant and Finding: the vocabulary shared by rules, the engine and reports.

A rule declares every message it can emit as a `Variant` (a name, a message template, a fix
text and a severity), the way ruff and istio's `messages.yaml` keep one catalogue: the docs,
`meshlint rule CODE`, SARIF's rule metadata and the style meta-test all read the variants, so
no message exists that they do not show.

A `Finding` is immutable. Each stage after the rules (severity overrides, suppression, line
resolution) returns new findings instead of changing the ones it was given.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .resource import FieldPath

if TYPE_CHECKING:
    from .index import Index
    from .resource import Document, Ref, Resource, Source


class Severity(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"unknown severity {text!r} (expected info, warning or error)") from None


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class Applicability(enum.Enum):
    """How far a fix may be trusted (ruff's `Applicability`): a safe fix removes the footgun and
    changes nothing else about what traffic does; an unsafe one changes behaviour that a human
    must approve."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, slots=True)
class TextEdit:
    """A fix as text: the region of a file (1-based lines and columns, the end exclusive) that
    `text` replaces. What the SARIF report offers a code-scanning UI to apply."""

    file: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    text: str


@dataclass(frozen=True, slots=True)
class FixKind:
    """One kind of automatic fix a rule's findings may carry, as its doc page and `meshlint
    rule` describe it: what it does (imperative, ends with ".") and how far it may be trusted.
    Each finding's own `Fix` says what it does there."""

    applicability: Applicability
    description: str


@dataclass(frozen=True, slots=True)
class Edit:
    """One change to a parsed object: set `value` at `path`, or remove the field there when
    `remove` is true. `target` names another resource than the finding's (a DestinationRule
    that the fix of a VirtualService finding changes); None means the finding's own.

    Setting a field whose parents are missing creates them as mappings (a `trafficPolicy` for
    its `outlierDetection`). With `insert`, `path` ends with a list index and `value` becomes a
    new item there (the list's length appends; a missing list is created). With `within`, the
    field at `path` is a string holding YAML or JSON (a ConfigMap's `mesh`, a
    `proxy.istio.io/config` annotation) and the change is made at `within` inside that text;
    a missing string is created. `path=()` with a `target` that is not in the input creates
    that resource, as a new document beside the finding's."""

    path: FieldPath
    value: Any = None
    remove: bool = False
    target: Ref | None = None
    insert: bool = False
    within: FieldPath = ()


@dataclass(frozen=True, slots=True)
class Fix:
    """Structured edits that remove a finding, with how far they may be trusted and what they
    do, in words (`description`: an unsafe fix says what a human must check). The `fix` engine
    applies them to the files; it knows no rule."""

    edits: tuple[Edit, ...]
    applicability: Applicability
    description: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """A fact another source (telemetry, the live cluster) adds to a finding: what it says,
    the query that found it and the value measured."""

    source: str  # "prometheus", "kube"
    text: str
    query: str = ""
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Variant:
    """One message a rule emits: `message` and `fix` are format strings filled with the values
    given to `Rule.finding`."""

    name: str  # kebab-case, unique within the rule
    severity: Severity
    message: str
    fix: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem. `path` locates the offending field inside `resource` (or inside `document`
    for input problems that have no resource); the engine resolves it into `file`, `line` and
    `column` (1-based, in characters) once, after all rules ran, so clean resources never pay
    for it."""

    code: str
    name: str
    variant: str
    severity: Severity
    message: str
    fix: str
    resource: Resource | None = None
    path: FieldPath = ()
    document: Document | None = None
    related: tuple[Ref, ...] = ()  # at most MAX_RELATED
    related_omitted: int = 0  # how many more the rule named
    autofix: Fix | None = None
    # why there is no automatic fix (`autofix` None), or why `meshlint fix` did not apply it
    unfixable: str = ""
    # the fix as text edits of the input as read (only when a report asks: SARIF's `fixes`)
    offered: tuple[TextEdit, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    file: str = ""
    line: int = 0
    column: int = 0
    suppressed: str = ""  # why the finding is suppressed ("" = reported)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.code, self.message)

    @property
    def source(self) -> Source | None:
        """The file the finding is in (None for a live object)."""
        if self.resource is not None:
            return self.resource.source
        return self.document.source if self.document is not None else None

    @property
    def help(self) -> str:
        """The help line every text-like report prints under the finding."""
        return f"{self.fix} (docs: meshlint rule {self.code})"


Options = Mapping[str, Any]

# The related resources a finding keeps, and the names a message lists, at most: 2,000
# DestinationRules for one host, each named by the finding of every route to it, made the report
# grow with the square of the input.
MAX_RELATED = 10


def some_of(names: Sequence[str], total: int | None = None) -> str:
    """`a, b, c`; beyond MAX_RELATED names, the first ones `and 7 more`. `total`: how many
    there are, when `names` holds only the first ones."""
    shown = names[:MAX_RELATED]
    more = (len(names) if total is None else total) - len(shown)
    return f"{', '.join(shown)} and {more:,} more" if more > 0 else ", ".join(shown)


@dataclass(frozen=True)
class Rule:
    """A rule: its identity, the kinds it reads, its pure check function, every message it can
    emit (`variants`; the first is its main one and gives the rule's default severity), the
    defaults of its options (config keys under the rule's name), and what other catalogues
    call the same problem (`istio_codes`: `istioctl analyze` message codes that
    `galley.istio.io/analyze-suppress` may name), the footgun it detects (SPEC §5) and the kinds
    of automatic fix its findings may carry (`fixes`)."""

    code: str
    name: str
    summary: str
    inputs: frozenset[str]
    variants: tuple[Variant, ...]
    check: Callable[[Index, Options], Iterator[Finding]]
    options: Mapping[str, Any] = field(default_factory=dict)
    istio_codes: frozenset[str] = frozenset()
    footgun: int | None = None
    # the fixes its findings may carry (SPEC §5 Fixes); () when `meshlint fix` leaves them to you
    fixes: tuple[FixKind, ...] = ()

    @property
    def severity(self) -> Severity:
        return self.variants[0].severity

    @property
    def doc(self) -> str:
        """The rule's doc page: the docstring of the module that defines `check`."""
        module = sys.modules[self.check.__module__]
        return (module.__doc__ or "").strip()

    def finding(self, variant: Variant, resource: Resource | None, path: FieldPath = (), *,
                related: Sequence[Ref] = (), related_total: int | None = None, document: Document | None = None,
                line: int = 0, column: int = 0, autofix: Fix | None = None, unfixable: str = "",
                **values: Any) -> Finding:
        """A finding of `variant`, its message and fix filled with `values`. `related_total`: how
        many resources are related, when `related` holds only the first ones."""
        if variant not in self.variants:
            raise ValueError(f"{self.code}: variant {variant.name!r} is not declared on the rule")
        kept = tuple(related[:MAX_RELATED])
        total = len(related) if related_total is None else related_total
        return Finding(
            code=self.code, name=self.name, variant=variant.name, severity=variant.severity,
            message=variant.message.format(**values), fix=variant.fix.format(**values),
            resource=resource, path=tuple(path), related=kept, related_omitted=max(0, total - len(kept)),
            document=document, line=line, column=column, autofix=autofix, unfixable=unfixable,
        )
