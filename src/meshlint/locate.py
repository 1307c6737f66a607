"""Exact line numbers, resolved lazily.

Parsing keeps no positions (plain dicts are fast and small). When a finding needs the line of a
field, its path is followed through the text of its document:

- a line scanner walks block YAML (and indented JSON, as `kubectl -o json` writes it) by
  indentation, keys and `- ` items. It costs only the lines it passes, and remembers what it
  indexed (the item lines of a `kind: List`'s `items`, the keys of a mapping), so a dump of
  25,000 resources with findings in many of them is walked once, not once per finding;
- when the text is something the scanner does not follow (flow collections over several
  lines, tabs, complex keys, a key it cannot find), the document is composed with libyaml
  (positions only, no type resolution) and the path is followed through the node tree.

Either way, the line is the key's for a mapping entry, the item's (its first key's) for a list
entry, and the closest ancestor's when the field is absent.
"""

from __future__ import annotations

from typing import Any

import yaml

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

    def __init__(self, text: str, first_line: int) -> None:
        self.lines = text.split("\n")
        self.first = first_line
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


def _closes_on_line(rest: str) -> bool:
    """Does a flow collection starting in `rest` end on the same line? (quotes respected)"""
    depth, quote, i = 0, "", 0
    while i < len(rest):
        ch = rest[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return True
        elif ch == "#" and depth == 0:
            break
        i += 1
    return False


class _OnLine(Exception):
    """The rest of the path lies inside a one-line flow collection: this line."""


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
        """Where the value after `key:` (or `- `) on (line, col) starts; None for a scalar."""
        rest = _strip_comment(rest)
        if rest in ("{", "["):  # indented JSON: the children follow on the next lines
            return self._next_child(line, col, json_closer="}" if rest == "{" else "]")
        if rest:
            if rest[0] in "{[":
                if _closes_on_line(rest):
                    raise _OnLine  # every field inside is on this line
                raise _Unfollowable  # a flow collection over several lines: compose instead
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

    def walk(self, path: FieldPath) -> int:
        node = self.root()
        line = node[0]
        for step in path:
            if isinstance(step, int):
                found_item = self.item(node, step)
                if found_item is None:
                    break
                item_line, item_col = found_item
                text = self.t.lines[item_line]
                rest = text[item_col:].strip()
                line = item_line
                if rest in ("{", "["):  # JSON object item: its keys start on the next line
                    child = self._next_child(item_line, item_col, json_closer="}" if rest == "{" else "]")
                    if child is None:
                        break
                    node, line = child, child[0]
                elif rest == "" or rest == "-":
                    child = self._next_child(item_line, item_col)
                    if child is None:
                        break
                    node, line = child, child[0]
                else:
                    if rest[0] in "{[" and _closes_on_line(rest):
                        if step is path[-1] and isinstance(step, int):
                            break
                        return self.t.first + item_line  # deeper fields are on this line
                    if rest[0] in "{[&!*":
                        raise _Unfollowable
                    node = (item_line, item_col)
            else:
                found, any_key = self.key(node, str(step))
                if found is None:
                    if not any_key:
                        raise _Unfollowable  # not a block mapping after all
                    break
                line = found[0]
                kv = _key_of(self.t.lines[line][found[1]:].rstrip("\r"))
                try:
                    child = self._value_node(line, found[1], kv[1] if kv else "")
                except _OnLine:
                    return self.t.first + line
                if child is None:
                    return self.t.first + line  # a scalar: nothing deeper to follow
                node = child
        return self.t.first + line


class Locator:
    """Finds the lines of fields, remembering what it learned of the last document it was asked
    about (its lines and structure, or its composed nodes) and nothing of the ones before: ask
    about the fields of one document together."""

    def __init__(self) -> None:
        self._document: Document | None = None
        self._lines: _Lines | None = None
        self._nodes: Any = None  # the composed document, once the scanner could not follow it

    def line(self, document: Document, path: tuple) -> int:
        """1-based line in the source of the field at `path` (the key's line for a mapping
        entry, the item's line for a list entry); the closest ancestor's when it is absent."""
        if document is not self._document:
            self._document, self._lines, self._nodes = document, _Lines(document.text, document.line), None
        if self._lines is not None:  # not known to need composing
            try:
                return _Scanner(self._lines).walk(path)
            except (_Unfollowable, IndexError):
                self._lines, self._nodes = None, self._compose(document)
        return self._from_nodes(document, self._nodes, path)

    @staticmethod
    def _compose(document: Document) -> Any:
        try:
            return _compose_text(document.text)
        except Exception:
            return None

    @staticmethod
    def _from_nodes(document: Document, node: Any, path: tuple) -> int:
        if node is None:
            return document.first_content_line()
        line = node.start_mark.line
        for step in path:
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                        line, node = key.start_mark.line, value
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line
                if isinstance(node, yaml.MappingNode) and node.value:
                    line = node.value[0][0].start_mark.line  # JSON: the first key, not a lone "{"
            else:
                break
        return document.line + line


def compose_line(document: Document, path: tuple) -> int:
    """The line by composing the document (the reference the scanner is tested against)."""
    return Locator._from_nodes(document, Locator._compose(document), path)
