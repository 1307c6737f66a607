"""`meshlint fix --diff`: the changes as a unified diff that `git apply` (or `patch -p1`)
accepts: git-style `a/` and `b/` paths relative to the working directory, three lines of
context, `\\ No newline at end of file` where a file ends without one, line endings as they
are in the file."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable

from .model import FileChange

NO_NEWLINE = "\\ No newline at end of file\n"


def unified(changes: Iterable[FileChange]) -> str:
    return "".join(_file_diff(change) for change in changes)


def display_path(change: FileChange) -> str:
    """The path in the diff's headers: relative to the working directory, with `/`."""
    if change.path is None:
        return change.name
    return os.path.relpath(change.path).replace(os.sep, "/")


def _lines(data: bytes) -> list[str]:
    """Bytes as the lines a patch sees, split at line feeds only (a CR stays in its line; a
    UTF-8 BOM stays as the first line's first bytes)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8", errors="surrogateescape")
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _file_diff(change: FileChange) -> str:
    path = display_path(change)
    before, after = _lines(change.before), _lines(change.after)
    out = [f"diff --git a/{path} b/{path}\n"]
    for line in difflib.unified_diff(before, after, f"a/{path}", f"b/{path}"):
        if line.startswith(("---", "+++")) and not line.endswith("\n"):
            line += "\n"
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n" + NO_NEWLINE)
    return "".join(out)
