"""What loading gives back, whatever the source: the resources, the problems found on the way
(each with its kind), the documents skipped because they are not Kubernetes objects to
analyse, and notes for the user.

A problem is named by what is wrong (`ProblemKind`), not by a rule's code: which rule reports
a kind of problem, and under which code, is the rules' business (`rules/`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ..resource import Document, FieldPath, FileOrigin, Origin, Resource, Source


class ClusterError(Exception):
    """The live cluster (`--kube`) cannot be read at all: no kubeconfig, an unknown context, an
    API server that does not answer or refuses the credentials. One line; exit code 2."""


class ProblemKind(enum.Enum):
    """What is wrong with an input the loader could not turn into a resource."""

    UNPARSABLE = "unparsable"  # not text, not valid YAML/JSON, or an alias bomb
    INVALID_OBJECT = "invalid-object"  # not a Kubernetes object, or a field of the wrong type


@dataclass(slots=True)
class Problem:
    """Bad input found while loading: a document that does not parse, or an object that is
    not valid."""

    kind: ProblemKind
    origin: Origin
    message: str
    # the field, from the top of the origin's document (the origin's prefix first); for a
    # live object, from the top of the object
    path: FieldPath = ()
    line: int = 0  # explicit line and column when known (parser errors), else resolved from path
    column: int = 0
    resource: Resource | None = None
    missing: tuple[str, ...] = ()  # the required fields an object lacks (apiVersion, kind, metadata.name)

    @property
    def document(self) -> Document | None:
        """The file's document the problem is in; None for a live object."""
        return self.origin.document if isinstance(self.origin, FileOrigin) else None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A document that is not a Kubernetes object to analyse (chart values, CI configuration,
    a kustomization, a template), and why: counted in the summary, listed with --verbose."""

    origin: Origin
    reason: str

    def where(self) -> str:
        """`file:line` of the document (its first content line), or the kube context."""
        if isinstance(self.origin, FileOrigin):
            document = self.origin.document
            return f"{document.source.name}:{document.first_content()[0]}"
        return f"context {self.origin.context}"


@dataclass
class Loaded:
    sources: list[Source] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    count: int = 0  # Kubernetes objects seen, valid or not
    # files read only for what they define (`--context-dir`): their resources inform the
    # analysis, and nothing in them is reported (nor counted above)
    context: list[Source] = field(default_factory=list)
    cluster: str = ""  # the kube context the live objects were read through (`--kube`), "" for none
