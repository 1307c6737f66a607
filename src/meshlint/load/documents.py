"""Split a source into documents and parse each one on its own.

Each document is parsed separately so that a syntax error in one of them is reported at the
parser's line (ML001) while the others are still analysed. PyYAML's libyaml-backed loader is
used when available.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Iterator

import yaml

from ..resource import Document, Source

try:  # libyaml C loader: an order of magnitude faster than the pure-Python one
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

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

# The fast parser follows YAML 1.2; Kubernetes (sigs.k8s.io/yaml) and PyYAML follow YAML 1.1.
# They agree on everything a manifest normally holds. Where they could differ, the document
# goes to PyYAML: a plain scalar that YAML 1.1 reads as a boolean (yes/no/on/off) or as a
# number YAML 1.2 reads differently (leading zero, 0o/0b, underscores, sexagesimal 1:30,
# exponents, dates), merge keys, anchors, aliases, tags, complex or flow keys, template braces,
# directives. The patterns are deliberately broad (a false alarm only costs PyYAML's speed).
#
# The sniff reads the whole input once more, so it is written for speed: every pattern starts
# with a literal (the regex engine then skips to its next occurrence in C), repetitions are
# possessive (`*+`, Python >= 3.11: no backtracking state per line), a one-character gate
# precedes the alternations, and rare single characters are found with str.find (memchr).
_END = r"(?=[ \t]*+(?:$|[,\]}#]|:(?:[ \t]|$)))"  # where a plain scalar ends
_BOOL = r"[yYnNoO][eEoOnNfF][sSfF]?+"  # yes/Yes/YES no/No/NO on/On/ON off/Off/OFF, and a few more
_NUMBER = (  # whole plain scalars that YAML 1.1 (PyYAML) and YAML 1.2 (yaml_rs) type differently
    r"[-+]?+(?:0[0-9_]++(?:\.[0-9_]*+)?+"  # leading zero: octal in YAML 1.1
    r"|0[oObBxX][0-9a-fA-F_]*+"  # 0o/0b prefixes (and hex with underscores)
    r"|[0-9.][0-9a-fA-FxX.]*+_[0-9a-fA-FxX._]*+|_[0-9a-fA-F._]*+"  # underscores
    r"|[0-9][0-9_]*+(?::[0-5]?[0-9])++(?:\.[0-9_]*+)?+"  # sexagesimal 1:30
    r"|(?:[0-9][0-9_]*+)?+(?:\.[0-9_]*+)?+[eE][-+]?+[0-9]++"  # exponents
    r"|\.[0-9_]++(?:[eE][-+]?+[0-9]++)?+"  # a signed leading dot
    r")"
)
_DATE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?=$|[Tt \t,\]}#:])"
_GATE = "(?=[yYnNoO0-9+._-])"  # the first character of anything risky
_SCALAR_BODY = "(?:(?:" + _BOOL + "|" + _NUMBER + ")" + _END + "|" + _DATE + ")"
_SCALAR = _GATE + _SCALAR_BODY
_KEY = (  # a block key YAML 1.1 reads as a boolean or a number: `on:`, `0755:`
    r"(?:" + _BOOL + r"|(?:[0-9+._]|-[^ \n])[^\s:]*+)[ \t]*+:(?:[ \t]|$)"
)
_SNIFF_PATTERNS = (
    # a plain scalar in value position: after "key: ", "- ", or inside a flow collection
    r":[ \t]++" + _SCALAR, r"-[ \t]++" + _SCALAR,
    r"\[[ \t]*+" + _SCALAR, r"\{[ \t]*+" + _SCALAR, r",[ \t]*+" + _SCALAR,
    # a flow collection that goes on on the next line (its items then start a line)
    r"\[[ \t]*+$", r"\{[ \t]*+$", r",[ \t]*+$",
    # at the start of a line (or of a list item, or after `---`): a key YAML 1.1 reads as a
    # boolean or a number, or a value alone on its line (`key:` then `  yes` below it)
    r"\n[ \t]*+(?:- ++)*+" + _GATE + "(?:" + _KEY + "|" + _SCALAR_BODY + ")",
    r"\n---[ \t]++(?:- ++)*+" + _GATE + "(?:" + _KEY + "|" + _SCALAR_BODY + ")",
)
# A tag or an anchor only starts a node after one of these characters (or whitespace).
_NODE_START = "[{,"
# merge keys, templates, complex and flow keys, directives, each found by its rarer character:
# (literal, offset of that character in it)
_LITERALS = (("<<", 0), ("{{", 0), ("? ", 0), ("]:", 0), ("}:", 0), ("\n%", 1))
_sniffs: list = []  # compiled on first use


def _compiled_sniffs() -> list:
    if not _sniffs:
        _sniffs.extend(re.compile(p, re.M) for p in _SNIFF_PATTERNS)
    return _sniffs


class Sniffer:
    """Offsets in a source where the fast parser and PyYAML might disagree."""

    def __init__(self, text: str) -> None:
        # Each hit is an offset inside the risky construct, so inside its document. Patterns
        # that start with "\n" hit at the line after it; the first line of the text, which has
        # no "\n" before it, is searched again with one (no copy of the whole text).
        hits: set[int] = set()
        nl = text.find("\n")
        head = "\n" + (text if nl < 0 else text[:nl + 1])
        for rx in _compiled_sniffs():
            if rx.pattern.startswith("\\n"):
                hits.update(m.start() + 1 for m in rx.finditer(text))  # the line after the "\n"
                m = rx.match(head)
                if m:
                    hits.add(0)
            else:
                hits.update(m.start() for m in rx.finditer(text))
        find = text.find
        for literal, offset in _LITERALS:
            char = literal[offset]
            pos = find(char)
            while pos >= 0:
                if text.startswith(literal, pos - offset) if pos >= offset else \
                        literal[0] == "\n" and text.startswith(literal[1:], 0):
                    hits.add(pos)
                pos = find(char, pos + 1)
        for mark in "!&":  # a tag or an anchor where a node starts
            pos = find(mark)
            while pos >= 0:
                before = text[pos - 1] if pos else "\n"
                if before.isspace() or before in _NODE_START:
                    hits.add(pos)
                pos = find(mark, pos + 1)
        self.hits = sorted(hits)

    def risky(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.hits, start)
        return i < len(self.hits) and self.hits[i] < end


# A document marker (`---`) or end marker (`...`) at column 0, followed by space or line end.
# Searched as "\n---" (a literal first character is found in C; a leading `^` would make the
# regex engine try every position), with the very first line checked on its own.
_MARKER = re.compile(r"\n(---|\.\.\.)(?=[ \t\r\n]|$)")
_FIRST_MARKER = re.compile(r"(---|\.\.\.)(?=[ \t\r\n]|$)")

# Beyond this many nodes once aliases are expanded, a document is an alias bomb
# ("billion laughs"): a real Kubernetes object is many orders of magnitude smaller.
MAX_EXPANDED_NODES = 1_000_000


@dataclass(slots=True)
class ParseError:
    """A document that could not be parsed: 1-based line in its source, and why."""

    document: Document
    line: int
    message: str


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


def _fast_unchecked(text: str) -> tuple[bool, Any]:
    try:
        value = _fast.loads(text, parse_datetime=False)
    except Exception:  # noqa: BLE001 - errors (and duplicate keys) get PyYAML's exact report
        return False, None
    if not isinstance(value, (dict, list)):
        return False, None  # a bare scalar (or empty) document: let PyYAML type it
    return True, value


_last_items: list = [None, None]  # (source, start, end), its items: the List parsed last


def list_item_documents(document: Document) -> list[Document] | None:
    """The items of a `kind: List` (`kubectl get -o yaml` or `-o json`), each as a document of
    its own, so that finding a line in it reads only that item, not the whole dump. None when
    the layout is not block YAML `items:` followed by `- ` entries, or indented JSON. A YAML
    item document holds a one-entry sequence, a JSON one the object (`item_path`).
    The parser and the loader both ask for the List they are at: the last answer is kept."""
    key = _last_items[0]
    if key is not None and key[0] is document.source and key[1:] == (document.start, document.end):
        return _last_items[1]
    items = _list_item_documents(document)
    _last_items[:] = [(document.source, document.start, document.end), items]
    return items


def item_path(item: Document) -> tuple:
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


def _list_item_documents(document: Document) -> list[Document] | None:
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
    for m in re.compile(r"\n( {0,%d})(?=[^ \n\r#])" % indent).finditer(text, body):
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


def _parse_list(document: Document, sniffer: Sniffer) -> tuple[bool, Any]:
    """A large `kind: List` (`kubectl get -o yaml`): parse it item by item, each item with the
    fast parser unless a risky spot is inside it. Many small calls are faster than one call
    that builds the whole dump at once (~25% on a 5,000-service dump), and a risky spot costs
    one item, not the whole dump. (True, value), or (False, None) for another layout."""
    items = list_item_documents(document)
    if not items:
        return False, None
    text, base = document.source.text, document.start
    first, last = items[0].start, items[-1].end
    # the List without its entries: `items:` is left without a value
    head_text = text[base:first] + text[last:document.end]
    risky = sniffer.risky(base, first) or sniffer.risky(last, document.end)
    head_ok, head = (False, None) if risky else _fast_unchecked(head_text)
    if not head_ok:
        try:
            head = yaml.load(head_text, Loader=_Loader)
        except Exception:  # noqa: BLE001 - let the whole-document path report it
            return False, None
    kind = head.get("kind") if isinstance(head, dict) else None
    if not (isinstance(kind, str) and kind.endswith("List")) or head.get("items") is not None:
        return False, None  # not a List after all: parse it whole, keys in their order
    values = []
    fast = _fast_parser()
    append, loads, hits = values.append, fast.loads if fast else None, sniffer.hits
    for item in items:  # (the hot loop of a dump: `_fast_unchecked` inlined)
        chunk = text[item.start:item.end]
        value = None
        if loads is not None and (not hits or not sniffer.risky(item.start, item.end)):
            try:
                value = loads(chunk, parse_datetime=False)
            except Exception:  # noqa: BLE001 - PyYAML's report (and duplicate keys) below
                value = None
        if value is None:
            try:
                value = yaml.load(chunk, Loader=_Loader)
            except Exception:  # noqa: BLE001 - let the whole-document path report it
                return False, None
        if value.__class__ is not list or len(value) != 1:
            return False, None
        append(value[0])
    head["items"] = values
    return True, head


def parse(document: Document, sniffer: Sniffer | None = None) -> tuple[Any, ParseError | None]:
    """Parse one document. Returns (value, None) or (None, error). With the source's `sniffer`,
    a document the fast parser may read exactly as PyYAML goes through it; a large List is
    parsed item by item."""
    text = document.text
    ok, value = False, None
    if sniffer is not None:
        if document.end - document.start > FAST_PATH_MIN_BYTES and "\nitems:" in text:
            ok, value = _parse_list(document, sniffer)
        if not ok and not sniffer.risky(document.start, document.end):
            ok, value = _fast_unchecked(text)
    if ok:
        return value, None
    try:
        value = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = document.line + (mark.line if mark is not None else 0)
        what = " ".join(p for p in (exc.problem, exc.context) if p) or str(exc)
        if exc.context and exc.problem and exc.context_mark and exc.problem_mark \
                and exc.context_mark.line != exc.problem_mark.line:
            what = f"{exc.problem} ({exc.context} on line {document.line + exc.context_mark.line})"
        return None, ParseError(document, line, f"invalid YAML: {what}")
    except yaml.reader.ReaderError as exc:
        line = document.line + text.count("\n", 0, max(exc.position, 0))
        return None, ParseError(document, line, f"invalid YAML: character {exc.character!r} is not allowed")
    except RecursionError:
        return None, ParseError(document, document.line, "invalid YAML: nesting is too deep")
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        # e.g. a timestamp with month 13: the constructor raises ValueError without a mark
        return None, ParseError(document, _failing_scalar_line(document), f"invalid YAML: {exc}")
    if _ANCHOR.search(text) and _expanded_size(value) > MAX_EXPANDED_NODES:
        return None, ParseError(
            document, document.line,
            f"document expands to more than {MAX_EXPANDED_NODES:,} nodes through YAML aliases "
            "(an alias bomb); refusing to analyse it")
    return value, None


# Stands in for the entries of a JSON List while its head is parsed (`_parse_json_list`):
# a string no real List holds, so finding it proves which `items` array was cut out.
_ITEMS_MARK = "\u0000meshlint: the items of this List\u0000"
_ITEMS_MARK_JSON = json.dumps(_ITEMS_MARK)


def _parse_json_list(document: Document, fast: Any) -> tuple[bool, Any]:
    """A large indented JSON List (`kubectl get -o json`): parse it item by item with the fast
    parser. The value is exactly the whole parse's (JSON has one meaning), but the parser never
    holds the whole dump at once (~90 MB less at the peak on a 5,000-service dump).
    (True, value), or (False, None) for another layout or anything the fast parser refuses."""
    items = list_item_documents(document)
    if not items:
        return False, None
    text = document.source.text
    first, last = items[0].start, items[-1].end
    try:
        # the List with one marker string in place of its entries: `"items": [ "<mark>" ]`
        head = fast.loads(text[document.start:first] + _ITEMS_MARK_JSON + text[last:document.end])
        if not isinstance(head, dict) or head.get("items") != [_ITEMS_MARK]:
            return False, None  # the cut was not the List's own `items`
        head["items"] = [fast.loads(text[item.start:item.end]) for item in items]
    except Exception:  # noqa: BLE001 - the whole-document path decides (and reports)
        return False, None
    return True, head


def parse_json(document: Document, fast_path: bool = False) -> tuple[Any, ParseError | None]:
    """Parse a JSON document; on failure, try it as YAML (it may be YAML named .json)."""
    big = document.end - document.start >= FAST_PATH_MIN_BYTES
    fast = _json_parser() if fast_path or big else None
    if fast:
        if big and '"items": [' in document.text:
            ok, value = _parse_json_list(document, fast)
            if ok:
                return value, None
        try:
            return fast.loads(document.text), None
        except Exception:  # noqa: BLE001 - let the standard parser report it (or accept it)
            pass
    try:
        return json.loads(document.text), None
    except RecursionError:
        return None, ParseError(document, document.line, "invalid JSON: nesting is too deep")
    except json.JSONDecodeError as exc:
        value, error = parse(document)
        if error is None:
            return value, None
        return None, ParseError(document, document.line + exc.lineno - 1, f"invalid JSON: {exc.msg}")


_ANCHOR = re.compile(r"&[^\s,\[\]{}]")


def _expanded_size(value: Any) -> int:
    """Node count with aliases expanded, computed in linear time over the distinct nodes."""
    memo: dict[int, int] = {}

    def size(v: Any) -> int:
        if isinstance(v, dict):
            key = id(v)
            if key not in memo:
                memo[key] = 0  # a recursive alias counts once (and cannot recurse forever)
                memo[key] = 1 + sum(size(x) for x in v.values())
            return memo[key]
        if isinstance(v, list):
            key = id(v)
            if key not in memo:
                memo[key] = 0
                memo[key] = 1 + sum(size(x) for x in v)
            return memo[key]
        return 1

    try:
        return size(value)
    except RecursionError:
        return MAX_EXPANDED_NODES + 1


def _failing_scalar_line(document: Document) -> int:
    """Line of the first scalar the safe constructor rejects (errors without a mark)."""
    try:
        root = yaml.compose(document.text, Loader=_Loader)
    except Exception:  # noqa: BLE001
        root = None
    constructor = yaml.SafeLoader("")
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                constructor.construct_object(node)
            except Exception:  # noqa: BLE001 - this is the node we are looking for
                return document.line + node.start_mark.line
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return _first_content_line(document)


def _first_content_line(document: Document) -> int:
    for offset, raw in enumerate(document.text.splitlines()):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#") and stripped != "---":
            return document.line + offset
    return document.line


def iter_documents(source: Source, as_json: bool,
                   fast: bool | None = None) -> Iterator[tuple[Document, Any, ParseError | None]]:
    """The documents of a source, parsed. `fast`: use the fast parsers (default: when this
    source alone is large enough; the loader decides on the size of the whole input)."""
    if fast is None:
        fast = len(source.text) >= FAST_PATH_MIN_BYTES
    if as_json:
        doc = Document(source, 0, len(source.text), 1, 0)
        value, error = parse_json(doc, fast)
        yield doc, value, error
        return
    use_fast = fast and _fast_parser()
    sniffer = Sniffer(source.text) if use_fast else None
    for doc in split(source):
        value, error = parse(doc, sniffer)
        yield doc, value, error
