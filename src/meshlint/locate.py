"""Exact positions (line and column), resolved lazily.

Parsing keeps no positions (plain dicts are fast and small). When a finding needs the position
of a field, its path is followed through the text of its document:

- a line scanner walks block YAML (and indented JSON, as `kubectl -o json` writes it) by
  indentation, keys and `- ` items. It costs only the lines it passes, and remembers what it
  indexed (the item lines of a `kind: List`'s `items`, the keys of a mapping), so a dump of
  25,000 resources with findings in many of them is walked once, not once per finding;
- JSON that is not indented (compact JSON is one line: an item of a compact `kind: List` is a
  document of its own, a few kilobytes) is walked with json's own C scanner, which skips
  the values before the one asked for and says where each ends;
- when the text is something neither follows (flow collections, tabs, complex keys, a key it
  cannot find), the document is composed with libyaml (positions only, no type resolution)
  and the path is followed through the node tree.

Either way, the position is the key's for a mapping entry, the item's (its first key's when it
is a mapping) for a list entry, and the closest ancestor's when the field is absent. Lines and
columns are 1-based; a column counts characters (code points) from the start of its line, as
libyaml's marks, ruff and SARIF's `unicodeCodePoints` do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from .load.parse import past_json_space
from .resource import Document, FieldPath

_CParser: Any
try:
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _CParser = None

if _CParser is not None:
    class _PositionLoader(_CParser):
        """libyaml composer without tag resolution: positions are all we need here."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            return ""

        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

    def _compose_text(text: str) -> Any:
        loader = _PositionLoader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
else:  # pragma: no cover - PyYAML without libyaml
    def _compose_text(text: str) -> Any:
        from .load.kubeyaml import KubeLoader

        return yaml.compose(text, Loader=KubeLoader)


class _Unfollowable(Exception):
    """The scanner cannot follow this text: compose it instead."""


class _Lines:
    """A document's lines with their indentation, and memoised structure."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.sequences: dict[tuple[int, int], list] = {}  # node -> [items, next line, done?]
        self.mappings: dict[tuple[int, int], list] = {}  # node -> [keys, next line, first?]

    def content(self, i: int) -> tuple[int, str] | None:
        """(indent, stripped text) of line i, or None for blank and comment lines."""
        line = self.lines[i]
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#") or stripped.rstrip() in ("---", "..."):
            return None
        if stripped.startswith("\t"):
            raise _Unfollowable
        return len(line) - len(stripped), stripped.rstrip("\r")


def _key_of(text: str) -> tuple[str, str] | None:
    """`key: rest` -> (key, rest); quoted keys too. None when the line is not a mapping entry."""
    if text[:1] in ('"', "'"):
        quote = text[0]
        end = text.find(quote, 1)
        while end > 0 and quote == '"' and text[end - 1] == "\\":
            end = text.find(quote, end + 1)
        if end < 0 or text[end + 1:end + 2] != ":":
            return None
        key, rest = text[1:end], text[end + 2:]
        if "\\" in key:
            raise _Unfollowable
    else:
        if text[:1] in ("?", "{", "[", "&", "*", "!", "|", ">"):
            return None
        pos = text.find(":")
        while pos >= 0 and not (pos + 1 == len(text) or text[pos + 1] in " \t"):
            pos = text.find(":", pos + 1)
        if pos <= 0:
            return None
        key, rest = text[:pos].rstrip(), text[pos + 1:]
        if " #" in key:
            return None
    return key, rest.strip()


def _strip_comment(rest: str) -> str:
    if rest.startswith("#"):
        return ""
    return rest


class _Scanner:
    """Walks a path through the text. A node is (line, column) where its content starts."""

    def __init__(self, lines: _Lines) -> None:
        self.t = lines

    def root(self) -> tuple[int, int]:
        for i in range(len(self.t.lines)):
            c = self.t.content(i)
            if c is not None:
                if c[1].startswith("--- ") or c[1].startswith("%"):
                    raise _Unfollowable
                if c[1] in ("{", "["):  # indented JSON
                    child = self._next_child(i, c[0], json_closer="}" if c[1] == "{" else "]")
                    if child is None:
                        raise _Unfollowable
                    return child
                return i, c[0]
        raise _Unfollowable

    def _value_node(self, line: int, col: int, rest: str) -> tuple[int, int] | None:
        """Where the value after `key:` on (line, col) starts; None for a scalar."""
        rest = _strip_comment(rest)
        if rest in ("{", "["):  # indented JSON: the children follow on the next lines
            return self._next_child(line, col, json_closer="}" if rest == "{" else "]")
        if rest:
            if rest[0] in "{[":
                raise _Unfollowable  # a flow collection: its fields' columns are the composer's
            if rest[0] in "&!*":
                raise _Unfollowable  # anchor, alias or tag: compose instead
            return None  # a scalar (or a block scalar) on this line
        return self._next_child(line, col)

    def _next_child(self, line: int, col: int, json_closer: str = "") -> tuple[int, int] | None:
        for i in range(line + 1, len(self.t.lines)):
            c = self.t.content(i)
            if c is None:
                continue
            indent, text = c
            if json_closer and text.startswith(json_closer):
                return None  # empty JSON collection
            if indent > col:
                return i, indent
            if not json_closer and indent == col and (text.startswith("- ") or text == "-"):
                return i, indent  # a compact sequence: its items at the key's own indentation
            return None
        return None

    def key(self, node: tuple[int, int], name: str) -> tuple[tuple[int, int] | None, bool]:
        """(position of key `name` in the mapping at `node`, whether the mapping has any key).
        Scans only as far as needed and remembers where it stopped."""
        state = self.t.mappings.get(node)
        if state is None:
            state = self.t.mappings[node] = [{}, node[0], True]  # keys, next line, first line?
        keys, i, first = state
        found = keys.get(name)
        col = node[1]
        lines = self.t.lines
        while found is None and i < len(lines):
            c = self.t.content(i)
            i += 1
            if c is None:
                continue
            indent, text = c
            if first:
                text = lines[i - 1][col:].rstrip("\r")  # the node may start after "- "
                indent = col
                first = False
            if indent < col:
                i = len(lines)
                break
            if indent > col or text.startswith("- ") or text == "-" or text[:1] in ("}", "]"):
                continue  # nested content, a compact sequence of the previous key, a JSON closer
            kv = _key_of(text)
            if kv is None:
                if text.startswith("?"):
                    raise _Unfollowable
                i = len(lines)
                break
            if kv[0] not in keys:
                keys[kv[0]] = (i - 1, col)
                if kv[0] == name:
                    found = keys[name]
        state[1], state[2] = i, first
        return found, bool(keys)

    def item(self, node: tuple[int, int], index: int) -> tuple[int, int] | None:
        """Item `index` of the sequence at `node` -> (line, column where its content starts), or
        None. Scans only as far as that item (a List item's document is one entry: its first
        line) and remembers where it stopped, as `key` does."""
        state = self.t.sequences.get(node)
        if state is None:
            state = self.t.sequences[node] = [[], node[0], False]  # items, next line, done?
        items, i, done = state
        col = node[1]
        lines = self.t.lines
        while not done and len(items) <= index:
            if i >= len(lines):
                done = True
                break
            c = self.t.content(i)
            i += 1
            if c is None:
                continue
            indent, text = c
            if indent < col:
                done = True
            elif indent > col:
                continue
            elif text.startswith("- ") or text == "-":
                after = text[1:]
                inner = len(after) - len(after.lstrip(" "))
                # a bare "-": the item's content is on the next lines, deeper than the dash
                items.append((i - 1, col + 1 + inner if after.strip() else col + 1))
            elif text[:1] in ("}", "]"):
                continue  # the end of a JSON object or array item
            elif text.startswith("{") or text.startswith("[") or text[:1] in "\"'0123456789-tfn":
                items.append((i - 1, col))  # an item of an indented JSON array
            else:
                done = True
        state[1], state[2] = i, done
        return items[index] if 0 <= index < len(items) else None

    def _item_entry(self, item: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int] | None]:
        """(the position of a sequence item, the node of its content): a mapping item is at its
        first key, as the composer places it."""
        line, col = item
        rest = _strip_comment(self.t.lines[line][col:].strip())
        if rest == "{" or rest == "" or rest == "-":  # the content follows on the next lines
            child = self._next_child(line, col, json_closer="}" if rest == "{" else "")
            return (child or item), child
        if rest == "[":  # an indented JSON array inside an array
            return item, self._next_child(line, col, json_closer="]")
        if rest[0] in "{[&!*":
            raise _Unfollowable  # flow content, an anchor, alias or tag: compose instead
        return item, item

    def walk(self, path: FieldPath) -> tuple[int, int]:
        """(line, column) from 0 in the document's text of the field at `path`, or of the
        closest ancestor present."""
        at = self.root()
        node: tuple[int, int] | None = at
        value: str | None = None  # what follows the key found last: the next step looks inside it
        for step in path:
            if value is not None:
                node, value = self._value_node(at[0], at[1], value), None
            if node is None:
                break  # a scalar, or an empty collection: nothing deeper
            if isinstance(step, int):
                found_item = self.item(node, step)
                if found_item is None:
                    break
                at, node = self._item_entry(found_item)
            else:
                found, any_key = self.key(node, str(step))
                if found is None:
                    if not any_key:
                        raise _Unfollowable  # not a block mapping after all
                    break
                at = found
                kv = _key_of(self.t.lines[found[0]][found[1]:].rstrip("\r"))
                value = kv[1] if kv else ""
        return at


_json_decode = json.JSONDecoder().raw_decode  # (value, where it ends) from an offset


def _json_on_one_line(text: str) -> bool:
    """Does the text open an object or array with more on that line (compact JSON, or YAML
    flow style), where there is no indentation for the line scanner to follow?"""
    start = len(text) - len(text.lstrip())
    return text[start:start + 1] in ("{", "[") and text[start + 1:start + 2] not in ("\n", "\r", "")


class _JsonText:
    """A JSON document walked with json's scanner: an offset is where a value (or a key) starts.
    What it passed is remembered (the members of each object and array as far as they were
    read), so that many findings in one document read it once."""

    def __init__(self, text: str) -> None:
        self.text = text
        # object or array offset -> [{key or index: (entry, value)}, next offset, done?]
        self.members: dict[int, list] = {}

    def _skip(self, pos: int) -> int:
        return past_json_space(self.text, pos)

    def _start(self, at: int) -> int:
        """Where a value is: an object at its first key, as the composer places a mapping."""
        if self.text.startswith("{", at):
            first = self._skip(at + 1)
            if self.text.startswith('"', first):
                return first
        return at

    def _member(self, at: int, step: str | int) -> tuple[int, int] | None:
        """(where entry `step` of the object or array at `at` is, where its value starts), or
        None. Reads only as far as that entry."""
        text = self.text
        is_object = text.startswith("{", at)
        if not (is_object and isinstance(step, str) or text.startswith("[", at) and isinstance(step, int)):
            return None
        closer = "}" if is_object else "]"
        state = self.members.get(at)
        if state is None:
            first = self._skip(at + 1)
            state = self.members[at] = [{}, first, text.startswith(closer, first)]
        found, pos, done = state
        while step not in found and not done:
            entry = pos
            if is_object:
                if not text.startswith('"', pos):
                    raise ValueError("a key that is not a JSON string")  # YAML flow style
                key, pos = _json_decode(text, pos)
                pos = self._skip(pos)
                if not text.startswith(":", pos):
                    raise ValueError("no ':' after a key")
                pos = self._skip(pos + 1)
            else:
                key = len(found)
            value = pos
            _, pos = _json_decode(text, pos)
            found.setdefault(key, (entry, value))  # a duplicate key: its first place, as the composer's
            pos = self._skip(pos)
            done = not text.startswith(",", pos)
            if done and not text.startswith(closer, pos):
                raise ValueError(f"no {closer!r} after a member")
            pos = self._skip(pos + 1)
        state[1], state[2] = pos, done
        return found.get(step)

    def walk(self, path: FieldPath) -> tuple[int, int]:
        """(line, column) from 0 in the text of the field at `path`, or of the closest ancestor
        present. Raises ValueError when the text is not JSON."""
        at = self._skip(0)
        where = self._start(at)
        for step in path:
            member = self._member(at, step)
            if member is None:
                break
            entry, at = member
            where = entry if isinstance(step, str) else self._start(at)
        line = self.text.count("\n", 0, where)
        return line, where - self.text.rfind("\n", 0, where) - 1


class Locator:
    """Finds the positions of fields, remembering what it learned of the last document it was
    asked about (its lines and structure, its JSON members, or its composed nodes) and nothing
    of the ones before: ask about the fields of one document together."""

    def __init__(self) -> None:
        self._document: Document | None = None
        # what is known of it: its lines and structure, or its JSON members as far as they were
        # read, or (when neither could follow it) the composed document
        self._lines: _Lines | None = None
        self._json: _JsonText | None = None
        self._nodes: Any = None

    def position(self, document: Document, path: FieldPath) -> tuple[int, int]:
        """1-based (line, column) in the source of the field at `path`: the key's for a mapping
        entry, the item's for a list entry; the closest ancestor's when it is absent."""
        if document is not self._document:
            self._document, self._lines, self._json, self._nodes = document, None, None, None
            text = document.text
            if _json_on_one_line(text):
                self._json = _JsonText(text)
            else:
                self._lines = _Lines(text)
        if self._lines is not None:
            try:
                return document.in_source(*_Scanner(self._lines).walk(path))
            except (_Unfollowable, IndexError):
                self._lines = None
                text = document.text
                if text.lstrip()[:1] in ("{", "["):  # JSON (or YAML flow style: composed below)
                    self._json = _JsonText(text)
                else:
                    self._nodes = self._compose(document)
        if self._json is not None:
            try:
                return document.in_source(*self._json.walk(path))
            except (ValueError, RecursionError):  # YAML flow style, not valid, or nested too deep: compose it
                self._json, self._nodes = None, self._compose(document)
        return _from_nodes(document, self._nodes, path)

    @staticmethod
    def _compose(document: Document) -> Any:
        try:
            return _compose_text(document.text)
        except Exception:
            return None


def _start(node: Any) -> tuple[int, int]:
    """Where a node is: a mapping at its first key (JSON's `{` may stand alone on its line)."""
    if isinstance(node, yaml.MappingNode) and node.value:
        node = node.value[0][0]
    return node.start_mark.line, node.start_mark.column


def _from_nodes(document: Document, node: Any, path: FieldPath) -> tuple[int, int]:
    if node is None:
        return document.first_content()
    at = _start(node)
    for step in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                    at, node = (key.start_mark.line, key.start_mark.column), value
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            at = _start(node)
        else:
            break
    return document.in_source(*at)


def compose_position(document: Document, path: FieldPath) -> tuple[int, int]:
    """The position by composing the document (the reference the scanner is tested against)."""
    return _from_nodes(document, Locator._compose(document), path)


# --- positions of nodes, for `meshlint fix` ----------------------------------------------------


def compose(text: str) -> Any:
    """The node tree of one document's text with positions (libyaml marks: line, column and
    character index into `text`, start and end of every node), tags left unresolved; None
    when the text does not compose."""
    try:
        return _compose_text(text)
    except Exception:
        return None


@dataclass(frozen=True)
class Step:
    """One step of a field path followed through composed nodes: the mapping or sequence it is
    in, the key node (mappings only), the value or item node, and the entry's position."""

    parent: Any
    key: Any
    node: Any
    position: int


def follow(root: Any, path: FieldPath) -> list[Step]:
    """The steps of `path` from `root`, as far as the path exists in the text (a key is matched
    by its text, so the key `8080` of a mapping is found as 8080 or "8080")."""
    steps: list[Step] = []
    node = root
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for i, (key, value) in enumerate(node.value):
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    steps.append(Step(node, key, value, i))
                    node = value
                    break
            else:
                return steps
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            steps.append(Step(node, None, node.value[part], part))
            node = node.value[part]
        else:
            return steps
    return steps
