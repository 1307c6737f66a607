"""Parsing one document: PyYAML, the fast parsers (yaml_rs behind the sniff, orjson), Lists item
by item, the alias-bomb guard and the line of an error; and `iter_documents`, a source's
documents parsed.

Each document is parsed separately so that a syntax error in one of them is reported at the
parser's line (an UNPARSABLE problem) while the others are still analysed. Documents the fast
parser may not read go to PyYAML (libyaml's parser when available), typing plain scalars as
Kubernetes does (`kubeyaml.py`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from ..resource import Document, Source
from . import lists, rendered
from .kubeyaml import KubeLoader as _Loader
from .sniff import Sniffer
from .split import split

# Below this size a source goes straight to PyYAML / json: the fast parsers (yaml_rs, a Rust
# YAML parser ~5x faster than PyYAML's C loader, and orjson) cost more to import (~15 ms
# each) than they save, and `meshlint check one-file.yaml` must start fast (pre-commit).
FAST_PATH_MIN_BYTES = 64 * 1024

_fast: Any = None  # yaml_rs, once imported; False when it is not installed
_json_fast: Any = None  # orjson, likewise


def _fast_parser() -> Any:
    global _fast
    if _fast is None:
        try:
            import yaml_rs
        except ImportError:  # pragma: no cover - the fast path is optional
            _fast = False
        else:
            _fast = yaml_rs
    return _fast


def _json_parser() -> Any:
    global _json_fast
    if _json_fast is None:
        try:
            import orjson
        except ImportError:  # pragma: no cover
            _json_fast = False
        else:
            _json_fast = orjson
    return _json_fast


# The item documents of a `*List` (`lists.item_documents`); None for any other document, or a
# List whose layout the slicing does not follow.
ItemDocuments = list[Document] | None

# Beyond this many nodes once aliases are expanded, a document is an alias bomb
# ("billion laughs"): a real Kubernetes object is many orders of magnitude smaller.
MAX_EXPANDED_NODES = 1_000_000


@dataclass(slots=True)
class ParseError:
    """A document that could not be parsed: the 1-based line and column in its source where
    the parser stopped, and why."""

    document: Document
    line: int
    column: int
    message: str


def _fast_unchecked(text: str) -> tuple[bool, Any]:
    try:
        value = _fast.loads(text, parse_datetime=False)
    except Exception:
        return False, None
    if not isinstance(value, (dict, list)):
        return False, None  # a bare scalar (or empty) document: let PyYAML type it
    return True, value


def _parse_list(document: Document, sniffer: Sniffer, items: list[Document]) -> tuple[bool, Any]:
    """A large `kind: List` (`kubectl get -o yaml`) cut into its item documents: parse it item by
    item, each item with the fast parser unless a risky spot is inside it. Many small calls are
    faster than one call that builds the whole dump at once (~25% on a 5,000-service dump), and
    a risky spot costs one item, not the whole dump. (True, value), or (False, None) for
    another layout."""
    text, base = document.source.text, document.start
    first, last = items[0].start, items[-1].end
    # the List without its entries: `items:` is left without a value
    head_text = text[base:first] + text[last:document.end]
    risky = sniffer.risky(base, first) or sniffer.risky(last, document.end)
    head: Any
    head_ok, head = (False, None) if risky else _fast_unchecked(head_text)
    if not head_ok:
        try:
            head = yaml.load(head_text, Loader=_Loader)
        except Exception:
            return False, None
    kind = head.get("kind") if isinstance(head, dict) else None
    if not (isinstance(kind, str) and kind.endswith("List")) or head.get("items") is not None:
        return False, None  # not a List after all: parse it whole, keys in their order
    values: list[Any] = []
    fast = _fast_parser()
    append, loads, hits = values.append, fast.loads if fast else None, sniffer.hits
    for item in items:  # (the hot loop of a dump: `_fast_unchecked` inlined)
        chunk = text[item.start:item.end]
        value = None
        if loads is not None and (not hits or not sniffer.risky(item.start, item.end)):
            try:
                value = loads(chunk, parse_datetime=False)
            except Exception:
                value = None
        if value is None:
            try:
                value = yaml.load(chunk, Loader=_Loader)
            except Exception:
                return False, None
        if value.__class__ is not list or len(value) != 1:
            return False, None
        append(value[0])
    head["items"] = values
    return True, head


def parse(document: Document, sniffer: Sniffer | None = None) -> tuple[Any, ParseError | None, ItemDocuments]:
    """Parse one document. Returns (value, None, items) or (None, error, None), where `items`
    are the item documents of a `*List` (`lists.item_documents`), cut once for the parse and
    the loader. With the source's `sniffer`, a document the fast parser may read exactly as
    PyYAML goes through it; a large List is parsed item by item."""
    text = document.text
    ok, value = False, None
    items, sliced = None, False
    if sniffer is not None:
        if document.end - document.start > FAST_PATH_MIN_BYTES and "\nitems:" in text:
            items, sliced = lists.item_documents(document), True
            if items:
                ok, value = _parse_list(document, sniffer, items)
        if not ok and not sniffer.risky(document.start, document.end):
            ok, value = _fast_unchecked(text)
    if ok:
        if not sliced and value.__class__ is dict and "items" in value:
            items = _items_of_list(document, value)
        return value, None, items
    try:
        value = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = document.in_source(mark.line, mark.column) if mark is not None else document.in_source(0, 0)
        problem = _named_character(exc.problem, text, exc.problem_mark)
        what = " ".join(p for p in (problem, exc.context) if p) or str(exc)
        if exc.context and problem and exc.context_mark and exc.problem_mark \
                and exc.context_mark.line != exc.problem_mark.line:
            what = f"{problem} ({exc.context} on line {document.line + exc.context_mark.line})"
        return None, ParseError(document, line, column, f"invalid YAML: {what}"), None
    except yaml.reader.ReaderError as exc:
        at = max(exc.position, 0)
        line, column = document.in_source(text.count("\n", 0, at), at - text.rfind("\n", 0, at) - 1)
        why = f"invalid YAML: character {exc.character!r} is not allowed"
        return None, ParseError(document, line, column, why), None
    except RecursionError:
        return None, ParseError(document, *document.in_source(0, 0), "invalid YAML: nesting is too deep"), None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, KeyError, IndexError, AttributeError) as exc:
        # a scalar its tag cannot read, raised by the constructor without a mark: a timestamp with
        # month 13 (ValueError), `!!bool maybe` (KeyError), `!!float ""` (IndexError), an integer
        # longer than Python converts (ValueError)
        (line, column), scalar = _failing_scalar(document)
        return None, ParseError(document, line, column, f"invalid YAML: {_unreadable(scalar, exc)}"), None
    if _ANCHOR.search(text) and _expanded_size(value) > MAX_EXPANDED_NODES:
        return None, ParseError(
            document, *document.in_source(0, 0),
            f"document expands to more than {MAX_EXPANDED_NODES:,} nodes through YAML aliases "
            "(an alias bomb); refusing to analyse it"), None
    if not sliced and value.__class__ is dict and "items" in value:
        items = _items_of_list(document, value)
    return value, None, items


def _items_of_list(document: Document, value: dict[str, Any]) -> ItemDocuments:
    """The item documents of a `*List` that was parsed whole (small, or another layout than
    the item-by-item parse reads), so that the loader locates each item in its own text."""
    kind, items = value.get("kind"), value.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list) and items:
        return lists.item_documents(document)
    return None


# Stands in for the entries of a JSON List while its head is parsed (`_parse_json_list`):
# a string no real List holds, so finding it proves which `items` array was cut out.
_ITEMS_MARK = "\u0000meshlint: the items of this List\u0000"
_ITEMS_MARK_JSON = json.dumps(_ITEMS_MARK)


def _parse_json_list(document: Document, fast: Any, items: list[Document]) -> tuple[bool, Any]:
    """A large indented JSON List (`kubectl get -o json`) cut into its item documents: parse it
    item by item with the fast parser. The value is exactly the whole parse's (JSON has one
    meaning), but the parser never holds the whole dump at once (~90 MB less at the peak on a
    5,000-service dump). (True, value), or (False, None) for another layout or anything the
    fast parser refuses."""
    text = document.source.text
    first, last = items[0].start, items[-1].end
    try:
        # the List with one marker string in place of its entries: `"items": [ "<mark>" ]`
        head = fast.loads(text[document.start:first] + _ITEMS_MARK_JSON + text[last:document.end])
        if not isinstance(head, dict) or head.get("items") != [_ITEMS_MARK]:
            return False, None  # the cut was not the List's own `items`
        head["items"] = [fast.loads(text[item.start:item.end]) for item in items]
    except Exception:
        return False, None
    return True, head


_json_decode = json.JSONDecoder().raw_decode  # (value, where it ends) from an offset


def past_json_space(text: str, pos: int) -> int:
    """`pos`, moved past the JSON whitespace there (none in compact JSON)."""
    while text.startswith((" ", "\n", "\r", "\t"), pos):
        pos += 1
    return pos


def _decode_json_list(document: Document) -> tuple[dict[str, Any], list[Document]] | None:
    """A large JSON List in another layout than kubectl's indentation: compact JSON, one line
    (`kubectl get --raw`, `jq -c`, API responses, export tools), where the items cannot be cut
    by their lines. json's C scanner decodes it value by value and says where each value ends,
    so each item becomes a document of its own as it is decoded: a finding is then located by
    reading its item, not by composing the whole dump (issue #19: 3x the time and 4x the memory
    of the indented dump). The value is exactly `json.loads`'s. (value, item documents), or
    None when the text is not one JSON object whose `items` array holds objects."""
    text, start, end = document.source.text, document.start, document.end
    space, decode = past_json_space, _json_decode
    head: dict[str, Any] = {}
    items: list[Document] = []
    line, line_start, counted = document.line, start - document.column + 1, start  # of the next item
    pos = space(text, start)
    if not text.startswith("{", pos):
        return None
    pos = space(text, pos + 1)
    try:
        while True:  # the members of the List: `"key": value`, separated by commas
            if not text.startswith('"', pos):
                return None
            key, pos = decode(text, pos)
            pos = space(text, pos)
            if not text.startswith(":", pos):
                return None
            pos = space(text, pos + 1)
            if key != "items":
                head[key], pos = decode(text, pos)
            elif items or not text.startswith("[", pos):
                return None  # `items` twice (the last would win), or not an array
            else:
                values = head[key] = []
                pos = space(text, pos + 1)
                while True:  # its items, each an object
                    if not text.startswith("{", pos):
                        return None
                    value, stop = decode(text, pos)
                    newlines = text.count("\n", counted, pos)
                    if newlines:
                        line += newlines
                        line_start = text.rfind("\n", counted, pos) + 1
                    counted = pos
                    items.append(Document(document.source, pos, stop, line, document.index, pos - line_start + 1))
                    values.append(value)
                    pos = space(text, stop)
                    if not text.startswith(",", pos):
                        break
                    pos = space(text, pos + 1)
                if not text.startswith("]", pos):
                    return None
                pos += 1
            pos = space(text, pos)
            if not text.startswith(",", pos):
                break
            pos = space(text, pos + 1)
    except (ValueError, RecursionError):  # not JSON, or nested too deep: the whole parse reports it
        return None
    if not items or not text.startswith("}", pos) or space(text, pos + 1) != end:
        return None  # no `items`, or not one object
    return head, items


def parse_json(document: Document, fast_path: bool = False) -> tuple[Any, ParseError | None, ItemDocuments]:
    """Parse a JSON document, as `parse` does (value, error, the item documents of a `*List`);
    on failure, try it as YAML (it may be YAML named .json)."""
    big = document.end - document.start >= FAST_PATH_MIN_BYTES
    fast = _json_parser() if fast_path or big else None
    items, sliced = None, False
    if big and '"items"' in document.text:
        items, sliced = lists.item_documents(document), True
        if items and fast:
            ok, value = _parse_json_list(document, fast, items)
            if ok:
                return value, None, items
        elif not items:
            decoded = _decode_json_list(document)
            if decoded is not None:
                value, items = decoded
                if _SURROGATE_ESCAPE.search(document.text):  # json's decoder keeps them, as json.loads does
                    value = _without_lone_surrogates(value)
                return value, None, items
    if fast:
        try:
            value = fast.loads(document.text)
        except Exception:  # let the standard parser report it (or accept it)
            pass
        else:
            return value, None, items if sliced or value.__class__ is not dict else _items_of_list(document, value)
    try:
        value = json.loads(document.text)
    except RecursionError:
        return None, ParseError(document, *document.in_source(0, 0), "invalid JSON: nesting is too deep"), None
    except json.JSONDecodeError as exc:
        value, error, yaml_items = parse(document)
        if error is None:
            return value, None, yaml_items
        line, column = document.in_source(exc.lineno - 1, exc.colno - 1)
        return None, ParseError(document, line, column, f"invalid JSON: {_json_problem(exc)}"), None
    except ValueError:  # (not a JSONDecodeError): an integer longer than Python converts
        long = re.search(rf"\d{{{sys.get_int_max_str_digits() + 1}}}", document.text)
        text, at = document.text, long.start() if long else 0
        line, column = document.in_source(text.count("\n", 0, at), at - text.rfind("\n", 0, at) - 1)
        return None, ParseError(document, line, column, f"invalid JSON: a number of more than "
                                                        f"{sys.get_int_max_str_digits():,} digits"), None
    if _SURROGATE_ESCAPE.search(document.text):
        value = _without_lone_surrogates(value)
    return value, None, items if sliced or value.__class__ is not dict else _items_of_list(document, value)


def _json_problem(exc: json.JSONDecodeError) -> str:
    """The decoder's message, which for a control character ends in "at" (the position went
    into its formatted text), said in full."""
    if exc.msg == "Invalid control character at" and exc.pos < len(exc.doc):
        code = ord(exc.doc[exc.pos])
        return f"control character U+{code:04X} in a string (write it as \\u{code:04x})"
    return exc.msg


# A `\uD800`-`\uDFFF` escape: half of a UTF-16 surrogate pair, which the standard parser accepts
# alone (orjson refuses it).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """`value` with each lone surrogate replaced by U+FFFD, as the API server's JSON decoder
    does (Go's encoding/json): a lone surrogate is no character, and no output encodes it."""
    pending: list[Any] = []

    def clean(v: Any) -> Any:
        if v.__class__ is str:
            return _LONE_SURROGATE.sub("\ufffd", v)
        if v.__class__ is list or v.__class__ is dict:
            pending.append(v)
        return v

    root = clean(value)
    while pending:  # (iterative: the nesting is as deep as the parser allowed)
        node = pending.pop()
        if node.__class__ is list:
            node[:] = [clean(v) for v in node]
        else:
            items = [(clean(k), clean(v)) for k, v in node.items()]
            node.clear()
            node.update(items)
    return root


_ANCHOR = re.compile(r"&[^\s,\[\]{}]")


def _expanded_size(value: Any) -> int:
    """Node count with aliases expanded, computed in linear time over the distinct nodes. An
    alias inside its own anchor expands without end (Kubernetes refuses it; walking it would
    never stop): more than MAX_EXPANDED_NODES."""
    memo: dict[int, int] = {}
    expanding = -1  # (the memo of a node whose size is being computed)

    def size(v: Any) -> int:
        if isinstance(v, dict):
            key = id(v)
            if key not in memo:
                memo[key] = expanding
                memo[key] = 1 + sum(size(x) for x in v.values())
            elif memo[key] == expanding:
                raise RecursionError  # the node contains itself
            return memo[key]
        if isinstance(v, list):
            key = id(v)
            if key not in memo:
                memo[key] = expanding
                memo[key] = 1 + sum(size(x) for x in v)
            elif memo[key] == expanding:
                raise RecursionError
            return memo[key]
        return 1

    try:
        return size(value)
    except RecursionError:
        return MAX_EXPANDED_NODES + 1


def _named_character(problem: str | None, text: str, mark: Any) -> str | None:
    """libyaml says "found character that cannot start any token" without the character, and
    the usual one is an invisible tab: name it, as yamllint does ('\\t')."""
    if problem != "found character that cannot start any token" or mark is None:
        return problem
    lines = text.split("\n")
    row = lines[mark.line] if 0 <= mark.line < len(lines) else ""
    char = row[mark.column] if 0 <= mark.column < len(row) else ""
    if char == "\t":
        return "found character '\\t' that cannot start any token (YAML indents with spaces, never tabs)"
    return f"found character {char!r} that cannot start any token" if char else problem


def _failing_scalar(document: Document) -> tuple[tuple[int, int], yaml.ScalarNode | None]:
    """Where the first scalar the safe constructor rejects is (errors without a mark), and the
    scalar."""
    try:
        root = yaml.compose(document.text, Loader=_Loader)
    except Exception:
        root = None
    constructor = _Loader("")
    stack = [root] if root is not None else []
    seen: set[int] = set()  # an aliased node once: aliases make the tree a graph, with cycles
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                constructor.construct_object(node)
            except Exception:
                return document.in_source(node.start_mark.line, node.start_mark.column), node
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return document.first_content(), None


def _unreadable(scalar: yaml.ScalarNode | None, exc: Exception) -> str:
    """Why a scalar cannot be read, in words: the constructor's own message says `'maybe'` for
    `!!bool maybe`, and suggests a Python function for a long integer."""
    if scalar is None:
        return str(exc)
    tag = scalar.tag.replace("tag:yaml.org,2002:", "!!")
    value = scalar.value if len(scalar.value) <= 40 else f"{scalar.value[:37]}..."
    if isinstance(exc, ValueError) and tag == "!!int" and len(scalar.value) > sys.get_int_max_str_digits():
        return f"{value} has more than {sys.get_int_max_str_digits():,} digits"
    if isinstance(exc, ValueError) and tag == "!!timestamp":
        return str(exc)  # the date's own words: "month must be in 1..12"
    return f"{value!r} is not a valid {tag}"


def iter_documents(source: Source, as_json: bool, fast: bool | None = None,
                   helm_origins: bool = False) -> Iterator[tuple[Document, Any, ParseError | None, ItemDocuments]]:
    """The documents of a source, parsed: (document, value, error, the item documents of a
    `*List`). `fast`: use the fast parsers (default: when this source alone is large enough;
    the loader decides on the size of the whole input). `helm_origins`: a document under a
    `# Source:` comment belongs to that template (`rendered.py`)."""
    if fast is None:
        fast = len(source.text) >= FAST_PATH_MIN_BYTES
    if as_json:
        doc = Document(source, 0, len(source.text), 1, 0)
        value, error, items = parse_json(doc, fast)
        yield doc, value, error, items
        return
    use_fast = fast and _fast_parser()
    sniffer = Sniffer(source.text) if use_fast else None
    documents = split(source)
    if helm_origins:
        documents = rendered.attributed(source, documents)
    for doc in documents:
        value, error, items = parse(doc, sniffer)
        yield doc, value, error, items
