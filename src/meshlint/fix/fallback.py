"""The fallback for one document the surgical edits do not follow: a ruamel.yaml round trip.

ruamel.yaml keeps comments, key order and quotes, but not everything: measured on the
corpus, its round trip rewrites 25-50% of the files beyond the edit (indentation
normalised, flow spacing changed, `creationTimestamp: null` emptied). So it is used only for
the one document that needs it (anchors and aliases, a collection replaced whole), with the
indentation read from the document, the document's leading lines (`---`, comments) and
trailing blank lines kept as they were, and never for JSON. The caller verifies the result
like any other edit: parsed again, it must differ from the original only where the fix meant
to change it. ruamel.yaml is imported only here, only when needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from . import surgery
from .style import Style

_HEAD_LINE_STARTS = ("#", "---", "%")


def round_trip(text: str, ops: Sequence[surgery.Op], style: Style) -> str:
    """`text` with `ops` applied through ruamel.yaml. Raises surgery.Unsupported."""
    if style.json:
        raise surgery.Unsupported("a JSON document is never rewritten")
    try:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError
    except ImportError:  # pragma: no cover - a dependency; absent only in a broken install
        raise surgery.Unsupported("ruamel.yaml is not installed") from None
    head, body, tail = _split(text.replace("\r\n", "\n"))
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never fold a long line
    yaml.indent(mapping=style.indent, sequence=style.sequence_indent + 2, offset=style.sequence_indent)
    try:
        data = yaml.load(body)
        for op in ops:
            _apply(data, op)
        out = io.StringIO()
        yaml.dump(data, out)
    except (YAMLError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise surgery.Unsupported(f"ruamel.yaml could not edit the document: {exc}") from None
    result = head + out.getvalue().rstrip("\n") + tail
    return result.replace("\n", style.newline) if style.newline != "\n" else result


def _split(text: str) -> tuple[str, str, str]:
    """(leading marker, directive, comment and blank lines; the body; trailing line breaks and
    blank lines)."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith(_HEAD_LINE_STARTS)):
        i += 1
    head = "\n".join(lines[:i]) + ("\n" if i else "")
    rest = "\n".join(lines[i:])
    body = rest.rstrip("\n ")
    return head, body, rest[len(body):]


def _apply(data: Any, op: surgery.Op) -> None:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import LiteralScalarString

    *parents, last = op.path
    node = data
    for i, step in enumerate(parents):
        if isinstance(node, dict) and node.get(step) is None and op.kind != surgery.REMOVE:
            following = op.path[i + 1]
            node[step] = [] if isinstance(following, int) else CommentedMap()
        elif op.kind == surgery.REMOVE and (isinstance(node, dict) and step not in node):
            return
        node = node[step]
    if op.kind == surgery.REMOVE:
        if isinstance(node, dict):
            node.pop(last, None)
        elif isinstance(last, int) and last < len(node):
            del node[last]
        return
    if op.kind == surgery.INSERT:
        node.insert(last, op.value)
        return
    if not op.within:
        node[last] = op.value
        return
    inner = node.get(last) if isinstance(node, dict) else node[last]
    if isinstance(inner, str) and inner.strip():
        new_inner = surgery.apply(str(inner), [surgery.Op(surgery.SET, op.within, op.value)])
    else:
        new_inner = surgery.embedded_text(surgery.nest(op.within, op.value))
    node[last] = LiteralScalarString(new_inner) if "\n" in new_inner.rstrip("\n") else new_inner
