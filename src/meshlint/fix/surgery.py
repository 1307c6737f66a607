"""Surgical edits of one document's text: the lines that change, and nothing else.

An `Op` says what changes in the parsed document (set a field, insert a list item, remove a
field or item; `within` a string that holds YAML or JSON). Each op is applied to the text by
composing the document (`locate.compose`: libyaml's nodes with their start and end
positions), following the op's path (`locate.follow`), and replacing one span of text:

- a scalar is replaced in place, in its own style (plain, quoted, literal block);
- a new mapping key is a line (or lines) after the mapping's last entry, at the column of its
  keys; a new list item likewise, at the column of its dashes; inside a flow collection
  (`{app: cart}`, JSON) the entry is written in flow style after the last one;
- a removed key or item loses exactly its lines (or its text and one comma in a flow
  collection); the last key of a block mapping leaves `{}`.

Comments, key order, quoting, indentation, flow style, document markers and blank lines
around the change are untouched. Indentation of new lines is taken from the lines around them
(`Style`). A layout this module does not follow (anchors and aliases, a collection replaced
whole, a list item created by index) raises `Unsupported`; the caller may then fall back to a
round trip of the document (`fallback.py`), and verifies every result by parsing it again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml

from ..locate import Step, compose, follow
from ..resource import FieldPath
from .style import Style, literal_block, nodes

SET, INSERT, REMOVE = "set", "insert", "remove"

_ANCHOR_OR_ALIAS = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s,\[\]{}]")
_NULLS = ("", "~", "null", "Null", "NULL")


class Unsupported(Exception):
    """The text is laid out in a way these edits do not follow."""


@dataclass(frozen=True)
class Op:
    """One change to a document, by path from the document's top."""

    kind: str  # SET, INSERT or REMOVE
    path: FieldPath
    value: Any = None
    within: FieldPath = ()  # a path inside the YAML/JSON text held by the string at `path`


def apply(text: str, ops: Sequence[Op]) -> str:
    """`text` with `ops` applied one after the other. Raises Unsupported."""
    for op in ops:
        text = _apply(text, op)
    return text


def _apply(text: str, op: Op) -> str:
    if _ANCHOR_OR_ALIAS.search(text):
        raise Unsupported("the document uses YAML anchors or aliases")
    root = compose(text)
    if root is None:
        raise Unsupported("the document does not compose")
    if any(isinstance(k, yaml.ScalarNode) and k.value == "<<" for n in nodes(root)
           if isinstance(n, yaml.MappingNode) for k, _ in n.value):
        raise Unsupported("the document uses YAML merge keys")
    editor = _Editor(text, root, Style.of(text, root))
    start, end, replacement = editor.edit(op)
    return text[:start] + replacement + text[end:]


def _is_null(node: Any) -> bool:
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value in _NULLS


def nest(path: FieldPath, value: Any) -> Any:
    for step in reversed(path):
        if isinstance(step, int):
            raise Unsupported("a list item cannot be created by its index")
        value = {step: value}
    return value


class _Editor:
    """Computes the one span of `text` an op replaces, and its replacement."""

    def __init__(self, text: str, root: Any, style: Style) -> None:
        self.text, self.root, self.style = text, root, style

    # -- ops ----------------------------------------------------------------------------

    def edit(self, op: Op) -> tuple[int, int, str]:
        if op.kind == REMOVE:
            return self._remove(op.path)
        if op.kind == INSERT:
            return self._insert(op)
        return self._set(op.path, op.value, op.within)

    def _set(self, path: FieldPath, value: Any, within: FieldPath = ()) -> tuple[int, int, str]:
        steps = follow(self.root, path)
        if len(steps) == len(path) and path:
            node = steps[-1].node
            if within:
                return self._set_within(node, steps, value, within)
            if isinstance(node, yaml.ScalarNode) and not isinstance(value, (dict, list)):
                return self._replace_scalar(node, value, steps[-1])
            if _is_null(node):
                return self._replace_null(steps[-1], value)
            raise Unsupported("a collection would be replaced whole")
        if within:  # the string does not exist yet: it holds the nested value, as YAML
            value = embedded_text(nest(within, value))
        parent = steps[-1].node if steps else self.root
        rest = path[len(steps):]
        if not rest:
            raise Unsupported("the document itself would be replaced")
        if isinstance(rest[0], int) and not isinstance(parent, yaml.MappingNode):
            raise Unsupported("a list item cannot be created by its index")
        nested = nest(rest[1:], value)
        if isinstance(parent, yaml.MappingNode):
            return self._add_entry(parent, rest[0], nested, steps)
        if _is_null(parent) and steps:
            return self._replace_null(steps[-1], {rest[0]: nested})
        raise Unsupported("the parent of the new field is not a mapping")

    def _insert(self, op: Op) -> tuple[int, int, str]:
        index = op.path[-1]
        if not isinstance(index, int):
            raise Unsupported("an insert names no list index")
        steps = follow(self.root, op.path[:-1])
        if len(steps) < len(op.path) - 1 or (steps and _is_null(steps[-1].node)):
            if index != 0:
                raise Unsupported("an item would be inserted past the end of a missing list")
            return self._set(op.path[:-1], [op.value])
        node = steps[-1].node if steps else self.root
        if not isinstance(node, yaml.SequenceNode) or index > len(node.value):
            raise Unsupported("the insert's path does not name a list position")
        if node.flow_style:
            return self._flow_insert_item(node, index, op.value)
        return self._block_insert_item(node, index, op.value)

    def _remove(self, path: FieldPath) -> tuple[int, int, str]:
        steps = follow(self.root, path)
        if len(steps) < len(path) or not path:
            return 0, 0, ""  # nothing to remove
        step = steps[-1]
        parent = step.parent
        if parent.flow_style:
            return self._flow_remove(step)
        if len(parent.value) == 1:
            if len(steps) < 2:
                raise Unsupported("the document would be left empty")
            empty = "{}" if isinstance(parent, yaml.MappingNode) else "[]"
            return self._replace_value(steps[-2], parent, empty)
        first = step.key if step.key is not None else step.node
        line_start = self._line_start(first.start_mark.index)
        head = self.text[line_start:first.start_mark.index]
        if isinstance(parent, yaml.SequenceNode):
            if head.strip() != "-":  # `- - x`, or an item on its parent's line
                raise Unsupported("a list item shares its line")
            return line_start, self._after_line(self._content_end(step.node)), ""
        if not head.strip():
            return line_start, self._after_line(self._content_end(step.node)), ""
        # the first key of a list item (`- name: x`): the next key moves up after the dash
        if step.position + 1 < len(parent.value):
            return first.start_mark.index, parent.value[step.position + 1][0].start_mark.index, ""
        raise Unsupported("the field shares its line with its parent")

    # -- scalars ------------------------------------------------------------------------

    def _replace_scalar(self, node: Any, value: Any, step: Step) -> tuple[int, int, str]:
        start, end = node.start_mark.index, node.end_mark.index
        flow = self._in_flow(step)
        if node.style in ("|", ">"):
            if not isinstance(value, str) or self.style.json:
                raise Unsupported("a block scalar would hold a value that is not a string")
            end = self._content_end(node)
            try:
                return start, end, literal_block(value, self._block_indent(node), self.style.newline)
            except ValueError as exc:
                raise Unsupported(str(exc)) from None
        if isinstance(value, str) and ("\n" in value.rstrip("\n")) and not flow and not self.style.json:
            owner = step.key if step.key is not None else node
            column = owner.start_mark.column + self.style.indent
            try:
                return start, end, literal_block(value, column, self.style.newline)
            except ValueError as exc:
                raise Unsupported(str(exc)) from None
        if node.style in ('"', "'") and isinstance(value, str) and not self.style.json:
            return start, end, Style(quote=node.style).scalar(value, flow, quote_strings=True)
        return start, end, self.style.scalar(value, flow)

    def _set_within(self, node: Any, steps: list[Step], value: Any, within: FieldPath) -> tuple[int, int, str]:
        """A change inside the YAML/JSON text of a string field: the text is edited surgically
        too, and written back in the string's own style."""
        if not isinstance(node, yaml.ScalarNode):
            raise Unsupported("the field that should hold YAML text is not a string")
        inner = node.value
        if _is_null(node) or not inner.strip():
            new_inner = embedded_text(nest(within, value))
        else:
            new_inner = apply(inner, [Op(SET, within, value)])
        if node.style in ("|", ">") or ("\n" in new_inner.rstrip("\n") and node.style not in ('"', "'")):
            return self._replace_scalar(node, new_inner, steps[-1])
        if "\n" in new_inner.rstrip("\n"):
            raise Unsupported("a quoted string would span several lines")
        return self._replace_scalar(node, new_inner, steps[-1])

    def _replace_null(self, step: Step, value: Any) -> tuple[int, int, str]:
        """`annotations:` (or `annotations: null`) gets a value."""
        if not isinstance(value, (dict, list)) or not value:
            return self._replace_scalar(step.node, value, step)
        return self._replace_value(step, step.node, value)

    def _replace_value(self, step: Step, node: Any, value: Any) -> tuple[int, int, str]:
        """The value of a mapping entry, from after its `:` to the end of its last line, replaced
        by `value` (a collection written as a block under the key, or flow text as given)."""
        if step.key is None or self._in_flow(step):
            raise Unsupported("the value is not that of a block mapping entry")
        colon = self.text.find(":", step.key.end_mark.index)
        if colon < 0:
            raise Unsupported("no colon after the key")
        end = max(self._content_end(node), colon + 1)
        if isinstance(value, str):
            return colon + 1, end, " " + value
        column = step.key.start_mark.column
        nl = self.style.newline
        if self.style.json:
            return colon + 1, end, " " + nl.join(self.style.json_item(value, column))[column:]
        inner = column + (self.style.indent if isinstance(value, dict) else self.style.sequence_indent)
        style, quote = self._style_near(step.parent)
        return colon + 1, end, nl + nl.join(style.value_lines(value, inner, quote))

    # -- new entries and items ----------------------------------------------------------

    def _add_entry(self, mapping: Any, key: Any, value: Any, steps: list[Step]) -> tuple[int, int, str]:
        if mapping.flow_style or not mapping.value:
            return self._flow_add_entry(mapping, key, value)
        column = mapping.value[0][0].start_mark.column
        style, quote = self._style_near(mapping)
        return self._insert_lines(self._content_end(mapping), style.entry_lines(key, value, column, quote))

    def _block_insert_item(self, sequence: Any, index: int, value: Any) -> tuple[int, int, str]:
        items = sequence.value
        if not items:
            raise Unsupported("an empty block list")
        dash = self._dash(items[0])
        if self.style.json:
            raise Unsupported("JSON has no block lists")
        style, quote = self._style_near(sequence)
        lines = style.sequence_lines([value], dash, quote)
        if index == len(items):
            return self._insert_lines(self._content_end(sequence), lines)
        at = self._line_start(items[index].start_mark.index)
        if self.text[at:items[index].start_mark.index].strip() != "-":
            raise Unsupported("a list item shares its line")
        nl = self.style.newline
        return at, at, nl.join(lines) + nl

    def _insert_lines(self, after: int, lines: list[str]) -> tuple[int, int, str]:
        """`lines` as new lines after the line holding position `after`."""
        nl = self.style.newline
        line_end = self.text.find("\n", after)
        if line_end < 0:  # the document's last line has no line break
            at = len(self.text)
            return at, at, nl + nl.join(lines)
        return line_end + 1, line_end + 1, nl.join(lines) + nl

    # -- flow collections ---------------------------------------------------------------

    def _flow_add_entry(self, mapping: Any, key: Any, value: Any) -> tuple[int, int, str]:
        if not mapping.flow_style:
            raise Unsupported("an empty block mapping")
        close = mapping.end_mark.index - 1
        if self.text[close] != "}":
            raise Unsupported("a flow mapping without its closing brace")
        style, quote = self._style_near(mapping)
        entry = f"{style.key(key, flow=True)}: {style.flow(value, quote)}"
        if not mapping.value:
            return close, close, entry
        last_key, last_value = mapping.value[-1]
        end = self._flow_end(last_value)
        if last_key.start_mark.line > mapping.start_mark.line:  # one entry per line (indented JSON)
            column = last_key.start_mark.column
            nl = self.style.newline
            if self.style.json:
                return end, end, "," + nl + nl.join(self.style.json_entry(key, value, column))
            return end, end, "," + nl + " " * column + entry
        return end, end, ", " + entry

    def _flow_insert_item(self, sequence: Any, index: int, value: Any) -> tuple[int, int, str]:
        items = sequence.value
        style, quote = self._style_near(sequence)
        text = style.flow(value, quote)
        if not items:
            close = sequence.end_mark.index - 1
            return close, close, text
        multiline = items[0].start_mark.line > sequence.start_mark.line
        if multiline:
            column = items[0].start_mark.column
            nl = self.style.newline
            entry = nl.join(self.style.json_item(value, column)) if self.style.json else " " * column + text
            if index == len(items):
                end = self._flow_end(items[-1])
                return end, end, "," + nl + entry
            at = self._line_start(items[index].start_mark.index)
            return at, at, entry + "," + nl
        if index == len(items):
            end = self._flow_end(items[-1])
            return end, end, ", " + text
        at = items[index].start_mark.index
        return at, at, text + ", "

    def _flow_remove(self, step: Step) -> tuple[int, int, str]:
        parent = step.parent
        entries = parent.value
        first = step.key if step.key is not None else step.node
        end = self._flow_end(step.node)
        if len(entries) == 1:
            return first.start_mark.index, end, ""
        if step.position > 0:
            previous = entries[step.position - 1]
            previous_end = self._flow_end(previous[1] if isinstance(previous, tuple) else previous)
            return previous_end, end, ""
        following = entries[1]
        following_start = (following[0] if isinstance(following, tuple) else following).start_mark.index
        return first.start_mark.index, following_start, ""

    # -- positions ----------------------------------------------------------------------

    def _flow_end(self, node: Any) -> int:
        return node.end_mark.index

    def _content_end(self, node: Any) -> int:
        """The position after the last character of a node's own text: a block collection's
        end mark lies at the next token, past comments and blank lines that follow it."""
        if isinstance(node, yaml.ScalarNode):
            if node.style in ("|", ">"):
                return node.start_mark.index + len(self.text[node.start_mark.index:node.end_mark.index].rstrip())
            return node.end_mark.index
        if node.flow_style or not node.value:
            return node.end_mark.index
        last = node.value[-1]
        return self._content_end(last[1] if isinstance(last, tuple) else last)

    def _line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def _after_line(self, index: int) -> int:
        """The position after the line break of the line holding `index`."""
        end = self.text.find("\n", index)
        return len(self.text) if end < 0 else end + 1

    def _dash(self, item: Any) -> int:
        start = item.start_mark.index
        head = self.text[self._line_start(start):start]
        dash = head.rfind("-")
        if dash < 0 or head[dash + 1:].strip() or head[:dash].strip():
            raise Unsupported("a list item whose dash is not at the start of its line")
        return dash

    def _block_indent(self, node: Any) -> int:
        """The column of a block scalar's content."""
        body = self.text[node.start_mark.index:node.end_mark.index].split("\n")[1:]
        for line in body:
            if line.strip():
                return len(line) - len(line.lstrip(" "))
        return node.start_mark.column + self.style.indent

    def _in_flow(self, step: Step) -> bool:
        return bool(step.parent.flow_style)

    def _style_near(self, collection: Any) -> tuple[Style, bool]:
        """The style for new values in `collection`, and whether to quote new strings: yes
        when the strings already there are all quoted (annotations often are), with their
        quote character."""
        values = [v for _, v in collection.value] if isinstance(collection, yaml.MappingNode) else collection.value
        scalars = [v for v in values if isinstance(v, yaml.ScalarNode) and v.style not in ("|", ">")]
        quotes = {v.style for v in scalars}
        if scalars and len(quotes) == 1 and quotes <= {'"', "'"}:
            return replace(self.style, quote=quotes.pop()), True
        return self.style, False


def embedded_text(value: Any) -> str:
    """A new YAML text for a string field that holds YAML (a `proxy.istio.io/config`)."""
    lines = Style().mapping_lines(value, 0) if isinstance(value, dict) else Style().sequence_lines(value, 0)
    return "\n".join(lines) + "\n"
