"""`kind: List` slicing: each item of a YAML or JSON List dump (`kubectl get -o yaml|json`) found
as a document of its own.

Locating a finding then reads only that item's text, not the whole dump, and the parser can
read a large List item by item (`parse.py`). Here the items are found by their lines; compact
JSON has one line, and its items are found as they are decoded (`parse._decode_json_list`).
"""

from __future__ import annotations

import re
from itertools import accumulate

from ..resource import Document, FieldPath


def item_path(item: Document) -> FieldPath:
    """Where the object is inside an item document: (0,) in a YAML `- ` entry, () for JSON."""
    return () if item.text.lstrip()[:1] == "{" else (0,)


def _json_list_items(document: Document, text: str) -> list[Document] | None:
    """The items of an indented JSON List (`kubectl get -o json`): each `{` ... `}` object of
    the `items` array, found by its indentation (a JSON string holds no raw newline)."""
    brace = text.find("{")
    nl = text.find("\n", brace)
    if nl < 0 or text[brace + 1:nl].strip():
        return None  # `{` is not alone on its line: not indented JSON
    first_key = text[nl + 1:nl + 81]  # `items` must be indented as the List's first key is
    indent = first_key[:len(first_key) - len(first_key.lstrip(" "))]
    m = re.compile(r"\n" + indent + r'"items": \[\r?\n').search(text, nl)
    if m is None:
        return None
    pos = m.end()
    line = text[pos:text.find("\n", pos)]
    pad = line[:len(line) - len(line.lstrip(" "))]
    if line.strip() != "{":
        return None  # an empty array, or items that are not objects
    close = re.compile(r"\n" + pad + r"\}(,?)(?=\r?\n|$)")
    out = []
    number = document.line + text.count("\n", 0, pos)
    while True:
        if not text.startswith(pad + "{", pos):
            return None
        c = close.search(text, pos)
        if c is None:
            return None
        end = c.start() + 1 + len(pad) + 1  # through the closing brace
        out.append(Document(document.source, document.start + pos, document.start + end, number, document.index))
        if not c.group(1):
            return out  # no comma: the last item
        nl = text.find("\n", c.end())
        if nl < 0:
            return None
        number += text.count("\n", pos, nl + 1)
        pos = nl + 1


def item_documents(document: Document) -> list[Document] | None:
    """The items of a `kind: List` (`kubectl get -o yaml` or `-o json`), each as a document of
    its own, so that finding a line in it reads only that item, not the whole dump. None when
    the layout is not block YAML `items:` followed by `- ` entries, or indented JSON. A YAML
    item document holds a one-entry sequence, a JSON one the object (`item_path`)."""
    text = document.text
    if text.lstrip()[:1] == "{":
        return _json_list_items(document, text)
    if text.startswith("items:"):
        at = 0
    else:
        at = text.find("\nitems:") + 1
        if at <= 0:
            return None
    line_end = text.find("\n", at)
    if line_end < 0 or text[at + 6:line_end].strip(" \t\r"):
        return None  # `items: []` or a flow list: no block entries
    body = line_end + 1
    while True:  # the first entry, after any blank or comment lines
        nl = text.find("\n", body)
        line = text[body:nl if nl >= 0 else len(text)]
        if line.strip() and not line.lstrip().startswith("#"):
            break
        if nl < 0:
            return None
        body = nl + 1
    indent = len(line) - len(line.lstrip(" "))
    if not line.startswith("- ", indent):
        return None
    # One pass over the lines indented no deeper than the entries: an entry (`- ` at their
    # indentation) starts an item, a line starting with `-` otherwise belongs to the item before
    # it, anything else is the key after the items (`kind: List`).
    starts, end = [body], len(text)
    for m in re.compile(rf"\n( {{0,{indent}}})(?=[^ \n\r#])").finditer(text, body):
        if len(m.group(1)) == indent and text.startswith("- ", m.end()):
            starts.append(m.start() + 1)
        elif text[m.end()] != "-":
            end = m.start() + 1
            break
    stops = starts[1:] + [end]
    lines = accumulate((text.count("\n", a, b) for a, b in zip(starts, stops)),
                       initial=document.line + text.count("\n", 0, body))
    source, base, index = document.source, document.start, document.index
    return [Document(source, base + a, base + b, line, index) for a, b, line in zip(starts, stops, lines)]

