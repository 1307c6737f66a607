"""The fix loop: check, apply the fixes the findings declare, verify, check again.

A round takes the fixable findings of a check (selected by the user, safe ones, and unsafe
ones with `--unsafe`) and applies their fixes one after the other to the documents they
touch (`plan.py` turns a finding's edits into ops on documents, `surgery.py` edits the text,
`fallback.py` is the round trip for what it cannot follow). Each fix is verified on its own
before it is kept: every document it edits parses to the original object with exactly its
ops applied (`verify.py`). A fix whose edits go through a list that another fix of the round
changed waits for the next round, where it is computed again on the new text.

Then the whole input is checked again. The round stands only if every fixed finding is gone
and no finding appeared; a fix that left its finding, or that a new finding can be traced
to (the new finding is on a resource the fix edited, or refers to one), is not applied, and
its finding says why. A new finding that cannot be traced sends the fixes through one at a
time. Rounds go on until no fix is left to apply, so fixes converge (one DestinationRule
created for a host, not one per route) and a second run changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..finding import Applicability, Finding
from ..load import templates
from ..resource import Ref, Resource
from .model import FileChange, FixResult
from .plan import DocKey, FileText, Plan, PlanError, plan_fix, source_key

if TYPE_CHECKING:
    from ..engine import Result
    from ..load import Loaded

Analyse = Callable[[Mapping[str, bytes]], "tuple[Loaded, Result]"]
MAX_ROUNDS = 25


@dataclass
class _Round:
    """The documents edited so far in a round, on top of the round's file texts."""

    files: dict[str, FileText]
    by_ref: dict[Ref, Resource]
    docs: dict[DocKey, str] = field(default_factory=dict)  # edited document texts
    created: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (file, offset) -> new documents
    touched_lists: set[tuple[DocKey, tuple]] = field(default_factory=set)
    applied: list[tuple[Finding, Plan]] = field(default_factory=list)
    op_sets: list[frozenset[str]] = field(default_factory=list)
    created_refs: set[Ref] = field(default_factory=set)

    def texts(self, encode: Callable[[str, str], bytes]) -> dict[str, bytes]:
        """The new bytes of every file the round changed."""
        out = {}
        changed = {key for key, _, _ in self.docs} | {key for key, _ in self.created}
        for key in changed:
            text = self.files[key].text
            pieces = [(start, end, new) for (k, start, end), new in self.docs.items() if k == key]
            pieces += [(at, at, "".join(docs)) for (k, at), docs in self.created.items() if k == key]
            for start, end, new in sorted(pieces, key=lambda p: (p[0], p[1] > p[0]), reverse=True):
                text = text[:start] + new + text[end:]
            out[key] = encode(key, text)
        return out


def identity(f: Finding) -> tuple:
    """What a finding is about, whatever its message says: its rule, variant and resource (or
    file, for an input problem). A fix must lower the count of its own; no other may grow."""
    subject = f.resource.ref if f.resource is not None else f.file
    return (f.code, f.variant, subject)


def _fix_key(f: Finding) -> tuple:
    assert f.autofix is not None
    return (*identity(f), f.message, repr(f.autofix.edits))


class Originals(dict[str, bytes]):
    """The bytes of the inputs as they were, by path (`-`: stdin, given), read on first use."""

    def __missing__(self, key: str) -> bytes:
        if key == "-":
            raise KeyError(key)
        with open(key, "rb") as fh:
            data = fh.read()
        self[key] = data
        return data


def run(analyse: Analyse, selected: Callable[[Finding], bool], unsafe: bool,
        originals: Originals) -> FixResult:
    """Fix the input that `analyse` reads (given the texts changed so far, it loads and checks
    everything with every rule). `selected`: the findings the user asked to fix;
    `originals`: the bytes of the inputs as read."""
    overrides: dict[str, bytes] = {}
    loaded, result = analyse(overrides)
    first = Counter(identity(f) for f in result.reported if selected(f))
    failed: dict[tuple, str] = {}
    serial = False
    applied_all: list[Finding] = []
    for _ in range(MAX_ROUNDS):
        candidates = [f for f in result.reported if selected(f) and f.autofix is not None
                      and (unsafe or f.autofix.applicability is Applicability.SAFE) and _fix_key(f) not in failed]
        if not candidates:
            break
        by_ref: dict[Ref, Resource] = {}
        for resource in loaded.resources:
            by_ref.setdefault(resource.ref, resource)
        state = _Round(_files(loaded, _reader(overrides, originals)), by_ref)
        for f in candidates:
            if serial and state.applied:
                break
            why = _attempt(f, state)
            if why:
                failed[_fix_key(f)] = why
        if not state.applied:
            break
        new_overrides = {**overrides, **state.texts(lambda key, text: _encode(text, originals[key]))}
        new_loaded, new_result = analyse(new_overrides)
        blamed, untraced = _blame(state, result, new_result)
        if blamed:
            failed.update(blamed)
            continue  # the round again, without them
        if untraced:
            serial = True  # the new finding is someone's: one fix at a time finds whose
            if len(state.applied) == 1:
                failed[_fix_key(state.applied[0][0])] = untraced
            continue
        overrides, loaded, result = new_overrides, new_loaded, new_result
        applied_all += [f for f, _ in state.applied]
    left = [f for f in result.reported if selected(f)]
    after = Counter(identity(f) for f in left)
    fixed = sum((first - after).values())
    final = replace(result, findings=[_explained(f, failed) for f in result.findings])
    not_applied = [f for f in final.reported if selected(f) and f.unfixable and f.autofix is not None]
    hidden = sum(1 for f in left if f.autofix is not None and f.autofix.applicability is Applicability.UNSAFE
                 and _fix_key(f) not in failed)
    changes = [FileChange(text.name, text.path, originals[key], overrides[key])
               for key, text in _files(loaded, originals.__getitem__).items()
               if key in overrides and overrides[key] != originals[key]]
    return FixResult(changes, replace(final, findings=[f for f in final.findings if selected(f)]),
                     fixed, applied_all, not_applied, hidden)


def _explained(f: Finding, failed: Mapping[tuple, str]) -> Finding:
    if f.autofix is None or f.suppressed:
        return f
    why = failed.get(_fix_key(f))
    return replace(f, unfixable=why) if why else f


def _reader(overrides: Mapping[str, bytes], originals: Originals) -> Callable[[str], bytes]:
    """The bytes an input is read from now: the fixed text, or the original."""
    def read(key: str) -> bytes:
        return overrides[key] if key in overrides else originals[key]
    return read


def _files(loaded: Loaded, read: Callable[[str], bytes]) -> dict[str, FileText]:
    """The inputs by path (`-` for stdin and the templates of a rendered stream read from it);
    `read`: the bytes each was read from."""
    context = {source_key(s) for s in loaded.context}
    out: dict[str, FileText] = {}
    for source in [*loaded.sources, *loaded.context]:
        key = source_key(source)
        if key not in out:
            first = source.text.lstrip()[:1]
            is_json = (source.path or "").lower().endswith(".json") or first in ("{", "[")
            out[key] = FileText(key, source.name, source.path, source.text, is_json,
                                lambda file: _why_locked(file, read, context))
    return out


def _why_locked(file: FileText, read: Callable[[str], bytes], context: set[str]) -> str:
    """Why an input may not be edited, or ""."""
    if file.key in context:
        return f"{file.name} is read with --context-dir, and only the PATHs are fixed"
    if templates.has_placeholders(file.text):
        return f"{file.name} holds template placeholders ({{{{ }}}} or {{%): it is never edited"
    try:
        data: bytes | None = read(file.key)
    except (KeyError, OSError):
        data = None
    if data is not None and has_lone_cr(data):
        return f"{file.name} has line breaks that are a CR alone (not CRLF): it is never edited"
    if data is None or _encode(file.text, data) != data:
        return f"{file.name} is not valid UTF-8 (or UTF-16) text: it is never edited"
    return ""


def has_lone_cr(data: bytes) -> bool:
    """Does a file break lines with a CR alone somewhere? Its text is read with those as line
    feeds, so it would not be written back as it was."""
    return b"\r" in data.replace(b"\r\n", b"")


def _encode(text: str, original: bytes | None) -> bytes:
    """Text back to bytes in the encoding it was read in (UTF-8, with its BOM if it had one,
    or UTF-16 with the byte order it had)."""
    if original is not None:
        if original.startswith(b"\xff\xfe"):
            return b"\xff\xfe" + text.encode("utf-16-le")
        if original.startswith(b"\xfe\xff"):
            return b"\xfe\xff" + text.encode("utf-16-be")
        if original.startswith(b"\xef\xbb\xbf"):
            return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode("utf-8")


def _attempt(f: Finding, state: _Round) -> str:
    """Apply one finding's fix to the round's documents. Returns why it cannot be applied, ""
    when it was applied (or another fix of the round already made its edits), or waits."""
    try:
        plan = plan_fix(f, state.files, state.docs, state.by_ref)
    except PlanError as exc:
        return str(exc)
    if any((doc, path[:i]) in state.touched_lists for doc, path in plan.paths() for i in range(len(path) + 1)) \
            or plan.created_refs & state.created_refs:
        return ""  # waits for the next round, computed again on the new text
    signature = plan.signature()
    if signature in state.op_sets:
        state.applied.append((f, plan))  # the same edits as a fix already applied
        return ""
    try:
        edited = plan.apply()
    except PlanError as exc:
        return str(exc)
    state.docs.update(edited.docs)
    for where, docs in edited.created.items():
        state.created.setdefault(where, []).extend(docs)
    state.touched_lists.update(plan.lists())
    state.created_refs |= plan.created_refs
    state.applied.append((f, plan))
    state.op_sets.append(signature)
    return ""


def _blame(state: _Round, before: Result, after: Result) -> tuple[dict[tuple, str], str]:
    """The fixes of the round that left their finding or brought a new one, and why; and, when
    a new finding is traced to no fix, what it is."""
    was = Counter(identity(f) for f in before.reported)
    now = Counter(identity(f) for f in after.reported)
    dropped = Counter(identity(f) for f, _ in state.applied)
    blamed: dict[tuple, str] = {}
    untraced = ""
    for key in set(now) | set(dropped):
        excess = now[key] - (was[key] - dropped[key])
        if excess <= 0:
            continue
        if dropped[key]:
            for f, _ in state.applied:
                if identity(f) == key:
                    blamed[_fix_key(f)] = "the finding is still there after the edit"
            continue
        new = next(f for f in after.reported if identity(f) == key)
        shown = f"{new.code} on {new.resource.display() if new.resource is not None else new.file}"
        refs = {new.resource.ref} if new.resource is not None else set()
        refs |= set(new.related)
        guilty = [f for f, plan in state.applied if refs & plan.refs]
        for f in guilty:
            blamed[_fix_key(f)] = f"it would bring a new finding ({shown}: {new.message})"
        if not guilty:
            untraced = f"it would bring a new finding ({shown}: {new.message})"
    return blamed, untraced
