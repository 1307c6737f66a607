"""A finding's fix as text edits of the input as it was read, for the SARIF report's `fixes`
(a code-scanning UI offers them; nothing is written).

Each fix is planned and applied on its own to the original texts, as `meshlint fix` applies
it (surgically, with the round trip fallback, every edited document parsed again and
compared with what the fix meant), and each changed document becomes one replacement of the
lines that differ. Unlike `meshlint fix`, the input is not checked again afterwards, and fixes
are not combined: a UI applies them one at a time. A fix that edits more than MAX_RELATED
resources is left to `meshlint fix`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..finding import MAX_RELATED, Finding, TextEdit
from ..load import templates
from ..resource import Ref, Resource
from .plan import FileText, PlanError, plan_fix, source_key
from .run import has_lone_cr

if TYPE_CHECKING:
    from ..load import Loaded


def offer(loaded: Loaded, findings: list[Finding]) -> list[Finding]:
    """`findings`, each fixable one with its fix as text edits (`Finding.offered`)."""
    if not any(f.autofix is not None and not f.suppressed for f in findings):
        return findings
    files = _files(loaded)
    by_ref: dict[Ref, Resource] = {}
    for resource in loaded.resources:
        by_ref.setdefault(resource.ref, resource)
    planned: dict[int, tuple[TextEdit, ...]] = {}  # by fix: findings of one selector share theirs
    out = []
    for f in findings:
        if f.autofix is None or f.suppressed or len(f.autofix.edits) > MAX_RELATED:
            out.append(f)  # a fix of many resources is for `meshlint fix`, not a code-scanning UI
            continue
        key = id(f.autofix)
        if key not in planned:
            planned[key] = _text_edits(f, files, by_ref)
        out.append(replace(f, offered=planned[key]))
    return out


def _files(loaded: Loaded) -> dict[str, FileText]:
    context = {source_key(s) for s in loaded.context}
    out: dict[str, FileText] = {}
    for source in loaded.sources:
        key = source_key(source)
        if key in out or key in context:
            continue
        first = source.text.lstrip()[:1]
        is_json = (source.path or "").lower().endswith(".json") or first in ("{", "[")
        out[key] = FileText(key, source.name, source.path, source.text, is_json, _why_locked)
    return out


def _why_locked(file: FileText) -> str:
    if templates.has_placeholders(file.text):
        return f"{file.name} holds template placeholders: it is never edited"
    if "\ufffd" in file.text:
        return f"{file.name} is not valid text: it is never edited"
    try:
        if file.path is not None and has_lone_cr(Path(file.path).read_bytes()):
            return f"{file.name} has line breaks that are a CR alone: it is never edited"
    except OSError:
        return f"{file.name} cannot be read again"
    return ""


def _text_edits(f: Finding, files: Mapping[str, FileText], by_ref: Mapping[Ref, Resource]) -> tuple[TextEdit, ...]:
    try:
        plan = plan_fix(f, files, {}, by_ref)
        edited = plan.apply()
    except PlanError:
        return ()
    out = []
    for (key, start, end), new in edited.docs.items():
        text = files[key].text
        out.append(_replacement(files[key].name, text, start, end, new))
    for (key, at), documents in edited.created.items():
        text = files[key].text
        out.append(_replacement(files[key].name, text, at, at, "".join(documents)))
    return tuple(out)


def _replacement(name: str, text: str, start: int, end: int, new: str) -> TextEdit:
    """The lines of `text[start:end]` that `new` changes, as one edit of whole lines."""
    old = text[start:end]
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    prefix = old.rfind("\n", 0, prefix) + 1  # back to the start of the first changed line
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    # forward to the start of a line: the kept tail is whole lines
    cut = len(old) - suffix
    if cut > 0 and old[cut - 1] != "\n":
        cut = old.find("\n", cut) + 1 or len(old)
    kept = len(old) - cut
    first, last = start + prefix, start + len(old) - kept
    line, column = _position(text, first)
    end_line, end_column = _position(text, last)
    return TextEdit(name, line, column, end_line, end_column, new[prefix:len(new) - kept])


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1
