"""Splitting a source into documents: document markers (`---`, `...`) and directives.

Each document is a slice of its source's text (`resource.Document`), parsed on its own later
(`parse.py`), so that a syntax error in one of them leaves the others to be analysed.
"""

from __future__ import annotations

import re

from ..resource import Document, Source

# A document marker (`---`) or end marker (`...`) at column 0, followed by space or line end.
# Searched as "\n---" (a literal first character is found in C; a leading `^` would make the
# regex engine try every position), with the very first line checked on its own.
_MARKER = re.compile(r"\n(---|\.\.\.)(?=[ \t\r\n]|$)")
_FIRST_MARKER = re.compile(r"(---|\.\.\.)(?=[ \t\r\n]|$)")


def split(source: Source) -> list[Document]:
    """Cut `source` at document markers. Chunks that hold only directives are joined to the
    document they introduce; the text of each chunk keeps its own `---` line."""
    text = source.text
    docs: list[Document] = []
    start, line, pending = 0, 1, None  # pending: start of a directives-only prefix
    pos_line = 1  # line number at `last`
    last = 0
    first = _FIRST_MARKER.match(text)
    markers = ([(0, first.group(1))] if first else []) + [(m.start() + 1, m.group(1)) for m in _MARKER.finditer(text)]
    for at, marker in markers:
        pos_line += text.count("\n", last, at)
        last = at
        if _only_directives(text, start, at):
            # `%YAML 1.2` and friends: keep them with the document after them
            if pending is None:
                pending = (start, line)
        elif start < at:
            s, ln = pending if pending is not None else (start, line)
            docs.append(Document(source, s, at, ln, len(docs)))
            pending = None
        if marker == "---":
            start, line = at, pos_line
        else:  # `...` ends the document; whatever follows until the next marker is new
            nl = text.find("\n", at + 3)
            start = len(text) if nl < 0 else nl + 1
            line = pos_line + (0 if nl < 0 else 1)
    if start < len(text) or pending is not None:
        s, ln = pending if pending is not None else (start, line)
        docs.append(Document(source, s, len(text), ln, len(docs)))
    return docs


def _only_directives(text: str, start: int, end: int) -> bool:
    if not text.startswith("%", start) and text.find("\n%", start, end) < 0:
        return False  # no line starts with `%` (the common case, found without a copy)
    found = False
    for raw in text[start:end].splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if raw.startswith("%"):
            found = True
            continue
        return False
    return found
