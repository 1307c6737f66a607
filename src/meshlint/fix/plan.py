"""A finding's fix as ops on documents, applied and verified.

A rule's `Edit`s name fields of resources (the finding's own, or a `target`); here each
becomes an `Op` on the document that holds the resource, by the path from the document's
top (a List item's path starts with its place in the List). An edit that creates a resource
becomes a new document after the finding's own (at the end of the file when the finding's
resource is an item of a List). `Plan.apply` edits the texts and verifies every document
(`verify.py`); a document the surgical edits do not follow gets the round trip fallback,
verified the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..finding import Edit, Finding
from ..locate import compose
from ..resource import FileOrigin, Ref, Resource, Source
from . import fallback, surgery, verify
from .style import Style
from .surgery import INSERT, REMOVE, SET, Op

DocKey = tuple[str, int, int]  # an input (path, or `-`), and the document's start and end in its text


class PlanError(Exception):
    """Why a fix cannot be applied."""


@dataclass
class FileText:
    """An input as a round reads it: its key (path, `-` for stdin), name, path, text, whether
    it is JSON, and why it may not be edited (`locked`, "" when it may: `why_locked` says it,
    asked only of the files a fix edits)."""

    key: str
    name: str
    path: str | None
    text: str
    json: bool
    why_locked: Callable[[FileText], str]

    @cached_property
    def locked(self) -> str:
        return self.why_locked(self)


@dataclass
class Edited:
    docs: dict[DocKey, str] = field(default_factory=dict)
    created: dict[tuple[str, int], list[str]] = field(default_factory=dict)


@dataclass
class Plan:
    """The ops of one fix by document, the resources it creates, and every resource it touches."""

    files: Mapping[str, FileText]
    current: Mapping[DocKey, str]  # documents already edited in this round
    ops: dict[DocKey, list[Op]] = field(default_factory=dict)
    creations: list[tuple[str, int, Ref, dict, DocKey]] = field(default_factory=list)
    refs: set[Ref] = field(default_factory=set)

    def paths(self) -> Iterator[tuple[DocKey, tuple]]:
        for doc, ops in self.ops.items():
            for op in ops:
                yield doc, op.path

    def lists(self) -> Iterator[tuple[DocKey, tuple]]:
        """The lists whose items this fix inserts or removes (later fixes would find their
        indices moved)."""
        for doc, ops in self.ops.items():
            for op in ops:
                if op.kind in (INSERT, REMOVE) and op.path and isinstance(op.path[-1], int):
                    yield doc, op.path[:-1]

    @property
    def created_refs(self) -> set[Ref]:
        return {ref for _, _, ref, _, _ in self.creations}

    def signature(self) -> frozenset[str]:
        return frozenset([repr((doc, op)) for doc, ops in self.ops.items() for op in ops]
                         + [repr((ref, obj)) for _, _, ref, obj, _ in self.creations])

    def text(self, doc: DocKey) -> str:
        return self.current.get(doc) or self.files[doc[0]].text[doc[1]:doc[2]]

    def apply(self) -> Edited:
        """The edited documents and the new ones, each verified. Raises PlanError."""
        out = Edited()
        for doc, ops in self.ops.items():
            new = self._edit(doc, ops)
            if new is not None:
                out.docs[doc] = new
        for key, at, ref, obj, anchor in self.creations:
            out.created.setdefault((key, at), []).append(self._new_document(key, at, ref, obj, anchor))
        return out

    def _edit(self, doc: DocKey, ops: list[Op]) -> str | None:
        file = self.files[doc[0]]
        text = self.text(doc)
        try:
            value = verify.parse_text(text, file.json)
        except verify.Unparsable as exc:
            raise PlanError(f"{file.name} does not parse ({exc})") from None
        want = verify.expected(value, ops)
        if verify.same(want, value):
            return None  # already so
        tried = []
        try:
            new = surgery.apply(text, ops)
            problem = _problem(text, new, want, file.json)
            if not problem:
                return new
            tried.append(problem)
        except surgery.Unsupported as exc:
            tried.append(str(exc))
        try:
            new = fallback.round_trip(text, ops, Style.of(text, compose(text)))
            problem = _problem(text, new, want, file.json)
            if not problem:
                return new
            tried.append(f"the round trip fallback: {problem}")
        except surgery.Unsupported as exc:
            tried.append(str(exc))
        raise PlanError(f"{file.name} cannot be edited safely: {'; '.join(dict.fromkeys(tried))}")

    def _new_document(self, key: str, at: int, ref: Ref, obj: dict, anchor: DocKey) -> str:
        file = self.files[key]
        text = self.text(anchor)
        style = Style.of(text, compose(text))
        nl = style.newline
        new = "---" + nl + nl.join(style.mapping_lines(obj, 0)) + nl
        if at > 0 and not file.text[:at].endswith("\n"):
            new = nl + new
        try:
            parsed = verify.parse_text(new, False)
        except verify.Unparsable as exc:  # pragma: no cover - the style writes what it reads
            raise PlanError(f"the new {ref.display()} does not parse ({exc})") from None
        if not verify.same(obj, parsed):
            raise PlanError(f"the new {ref.display()} does not read back as written")
        return new


def _problem(old: str, new: str, want: Any, as_json: bool) -> str:
    """Why an edited text is not the intended one ("" when it is)."""
    try:
        got = verify.parse_text(new, as_json)
    except verify.Unparsable as exc:
        return f"the edited document does not parse ({exc})"
    if not verify.same(want, got):
        return "the edited document would differ from the original beyond the fix"
    if _comment_lines(new) < _comment_lines(old):
        return "a comment would be lost"
    return ""


def _comment_lines(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.lstrip().startswith("#"))


def source_key(source: Source) -> str:
    """The input a source was read from: its path, or `-` for stdin (and for the templates of
    a rendered stream read from it, which share its text)."""
    return source.path if source.path is not None else "-"


def plan_fix(f: Finding, files: Mapping[str, FileText], current: Mapping[DocKey, str],
             by_ref: Mapping[Ref, Resource]) -> Plan:
    """The ops of a finding's fix. Raises PlanError when an edit names something that cannot be
    edited."""
    assert f.autofix is not None
    plan = Plan(files, current)
    if f.resource is not None:
        plan.refs.add(f.resource.ref)
    for edit in f.autofix.edits:
        resource = f.resource if edit.target is None else by_ref.get(edit.target)
        if resource is None:
            if edit.target is not None and edit.path == ():
                plan.creations.append(_creation(f, edit, files))
                plan.refs.add(edit.target)
                continue
            raise PlanError(f"{edit.target.display() if edit.target else 'the resource'} is not in the input")
        doc, prefix = _document(resource, files)
        plan.refs.add(resource.ref)
        plan.ops.setdefault(doc, []).append(_op(edit, prefix))
    return plan


def _op(edit: Edit, prefix: tuple) -> Op:
    if not edit.path:
        raise PlanError("an edit would replace a whole resource that exists")
    kind = REMOVE if edit.remove else INSERT if edit.insert else SET
    return Op(kind, prefix + tuple(edit.path), edit.value, tuple(edit.within))


def _document(resource: Resource, files: Mapping[str, FileText]) -> tuple[DocKey, tuple]:
    origin = resource.origin
    if not isinstance(origin, FileOrigin):
        raise PlanError(f"{resource.display()} was read from the cluster, not a file")
    document = origin.document
    key = source_key(document.source)
    file = files.get(key)
    if file is None:  # pragma: no cover - every resource comes from a source that was read
        raise PlanError(f"{document.source.name} was not read")
    if file.locked:
        raise PlanError(file.locked)
    return (key, document.start, document.end), tuple(origin.prefix)


def _creation(f: Finding, edit: Edit, files: Mapping[str, FileText]) -> tuple[str, int, Ref, dict, DocKey]:
    """Where a new resource goes: a new document after the finding's, or at the end of the
    file when the finding's resource is an item of a List."""
    assert edit.target is not None
    if f.resource is None or not isinstance(edit.value, dict):
        raise PlanError(f"{edit.target.display()} is not in the input")
    anchor, prefix = _document(f.resource, files)
    file = files[anchor[0]]
    if file.json:
        raise PlanError(f"{edit.target.display()} is not in the input, and {file.name} is JSON: a new object "
                        "cannot be added to it as a document")
    at = anchor[2] if not prefix else len(file.text)
    if file.text.startswith("...", at):  # after the document end marker, not before it
        line_end = file.text.find("\n", at)
        at = len(file.text) if line_end < 0 else line_end + 1
    return anchor[0], at, edit.target, edit.value, anchor
