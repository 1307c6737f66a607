"""How a document is written, and new values written the same way.

A fix adds lines to a file someone wrote by hand (or a tool wrote): they must look like the
lines around them. `Style.of` reads from the document's composed nodes how far mappings are
indented under their key, whether sequences are indented under theirs or written at the
key's column (`ports:` then `- name: http`), which quote a quoted string uses, the line
ending, and whether the document is JSON. `Style` then writes values: a scalar exactly as
Kubernetes will read it back (quoted only when it must be, or when the strings around it are
quoted), block mappings and sequences at a given column, flow collections and JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from ..load.kubeyaml import KubeLoader

# A plain scalar cannot start with these (YAML 1.1/1.2 indicators), nor hold ": " or " #".
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_INDICATORS = set(",[]{}")


def _reads_back(text: str, value: str, flow: bool) -> bool:
    """Does `text`, written as a plain scalar, read back as the string `value` (as Kubernetes
    reads YAML: `kubeyaml`)? `true`, `1.20`, `~`, `0x1F` do not."""
    try:
        document = "{k: " + text + "}" if flow else "k: " + text
        return yaml.load(document, Loader=KubeLoader) == {"k": value}
    except yaml.YAMLError:
        return False


def plain_ok(value: str, flow: bool = False) -> bool:
    """Can the string `value` be written unquoted?"""
    if not value or value != value.strip() or any(c in value for c in "\n\r\t\x00"):
        return False
    if value[0] in _INDICATORS and not (value[0] in "-?:" and len(value) > 1 and value[1] not in " \t"):
        return False
    if ": " in value or " #" in value or value.endswith(":"):
        return False
    if flow and any(c in _FLOW_INDICATORS for c in value):
        return False
    return _reads_back(value, value, flow)


def quoted(value: str, quote: str) -> str:
    """`value` in quotes: single quotes when preferred and possible, else double quotes with
    JSON's escapes (which YAML's double-quoted style reads the same)."""
    if quote == "'" and not any(c in value for c in "\n\r\t\\\x00") and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


def nodes(root: Any) -> Iterator[Any]:
    """Every node of a composed tree, depth first."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack.extend((value, key))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))


@dataclass(frozen=True)
class Style:
    indent: int = 2  # columns a block mapping is indented under its key
    sequence_indent: int = 2  # columns a block sequence's dashes are indented under its key (0: at the key)
    quote: str = '"'  # the quote character of quoted strings
    newline: str = "\n"
    json: bool = False  # the document is JSON: new values are written as JSON

    @classmethod
    def of(cls, text: str, root: Any) -> Style:
        """The style of a document from its text and composed nodes."""
        indents: Counter[int] = Counter()
        sequence_indents: Counter[int] = Counter()
        quotes: Counter[str] = Counter()
        for node in nodes(root):
            if isinstance(node, yaml.ScalarNode) and node.style in ('"', "'"):
                quotes[node.style] += 1
            if not isinstance(node, yaml.MappingNode) or node.flow_style:
                continue
            for key, value in node.value:
                column = key.start_mark.column
                if isinstance(value, yaml.MappingNode) and not value.flow_style and value.value \
                        and value.start_mark.line > key.start_mark.line:
                    indents[value.value[0][0].start_mark.column - column] += 1
                elif isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
                    dash = _dash_column(text, value.value[0])
                    if dash is not None and value.value[0].start_mark.line > key.start_mark.line:
                        sequence_indents[dash - column] += 1
        indent = _most_common(indents, 2, positive=True)
        is_json = isinstance(root, yaml.MappingNode) and bool(root.flow_style) and \
            text[root.start_mark.index:root.start_mark.index + 1] == "{"
        if is_json:
            indent = _json_indent(root) or 2
        return cls(
            indent=indent,
            sequence_indent=_most_common(sequence_indents, indent, positive=False),
            quote=max(quotes, key=lambda q: (quotes[q], q == '"')) if quotes else '"',
            newline="\r\n" if "\r\n" in text else "\n",
            json=is_json,
        )

    # -- scalars ------------------------------------------------------------------------

    def scalar(self, value: Any, flow: bool = False, quote_strings: bool = False) -> str:
        """A scalar as Kubernetes reads it back: `true`, `5`, `10s`, `"true"`, `"1.20"`."""
        if self.json:
            return json.dumps(value, ensure_ascii=False)
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return json.dumps(value)
        text = str(value)
        if not quote_strings and plain_ok(text, flow):
            return text
        return quoted(text, self.quote)

    def key(self, key: Any, flow: bool = False) -> str:
        if self.json:
            return json.dumps(str(key), ensure_ascii=False)
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise ValueError(f"unsupported key {key!r}")
        return str(key) if isinstance(key, int) else self.scalar(key, flow)

    # -- block collections --------------------------------------------------------------

    def entry_lines(self, key: Any, value: Any, column: int, quote_strings: bool = False) -> list[str]:
        """The lines of one mapping entry `key: value` whose key is at `column`."""
        pad = " " * column
        name = self.key(key)
        if self.json:
            return self._json_lines(f"{pad}{name}: ", value, column)
        if isinstance(value, dict) and value:
            return [f"{pad}{name}:"] + self.mapping_lines(value, column + self.indent, quote_strings)
        if isinstance(value, list) and value:
            return [f"{pad}{name}:"] + self.sequence_lines(value, column + self.sequence_indent, quote_strings)
        if isinstance(value, str) and "\n" in value.rstrip("\n"):
            return [f"{pad}{name}: {_literal_header(value)}"] + _literal_lines(value, column + self.indent)
        if isinstance(value, (dict, list)):
            return [f"{pad}{name}: {self.flow(value, quote_strings)}"]
        return [f"{pad}{name}: {self.scalar(value, quote_strings=quote_strings)}"]

    def mapping_lines(self, value: dict, column: int, quote_strings: bool = False) -> list[str]:
        return [line for key, item in value.items() for line in self.entry_lines(key, item, column, quote_strings)]

    def sequence_lines(self, items: list, column: int, quote_strings: bool = False) -> list[str]:
        """Block sequence items with their dashes at `column`."""
        out = []
        pad = " " * column
        for item in items:
            if isinstance(item, dict) and item:
                lines = self.mapping_lines(item, column + 2, quote_strings)
                out += [f"{pad}- {lines[0][column + 2:]}", *lines[1:]]
            elif isinstance(item, (dict, list)):
                out.append(f"{pad}- {self.flow(item, quote_strings)}")
            else:
                out.append(f"{pad}- {self.scalar(item, quote_strings=quote_strings)}")
        return out

    def value_lines(self, value: Any, column: int, quote_strings: bool = False) -> list[str]:
        """A collection as the block under a key (mapping entries or sequence items)."""
        if isinstance(value, dict):
            return self.mapping_lines(value, column, quote_strings)
        return self.sequence_lines(value, column, quote_strings)

    # -- flow collections and JSON ------------------------------------------------------

    def flow(self, value: Any, quote_strings: bool = False) -> str:
        """A value in flow style on one line: `{consecutive5xxErrors: 5, interval: 10s}`."""
        if self.json:
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, dict):
            inner = ", ".join(f"{self.key(k, flow=True)}: {self.flow(v, quote_strings)}" for k, v in value.items())
            return "{" + inner + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v, quote_strings) for v in value) + "]"
        return self.scalar(value, flow=True, quote_strings=quote_strings)

    def _json_lines(self, lead: str, value: Any, column: int) -> list[str]:
        """`lead` followed by `value` as indented JSON, its inner lines indented from `column`."""
        lines = json.dumps(value, indent=self.indent, ensure_ascii=False).split("\n")
        return [lead + lines[0]] + [" " * column + line for line in lines[1:]]

    def json_entry(self, key: Any, value: Any, column: int) -> list[str]:
        return self._json_lines(" " * column + self.key(key) + ": ", value, column)

    def json_item(self, value: Any, column: int) -> list[str]:
        return self._json_lines(" " * column, value, column)


def _most_common(counts: Counter[int], default: int, positive: bool) -> int:
    usable = [(n, -value) for value, n in counts.items() if value > 0 or (not positive and value == 0)]
    return -max(usable)[1] if usable else default


def _json_indent(root: Any) -> int:
    """The indentation of indented JSON: the first key's column (0 when on one line)."""
    if not root.value:
        return 0
    first = root.value[0][0]
    return first.start_mark.column if first.start_mark.line > root.start_mark.line else 0


def _dash_column(text: str, item: Any) -> int | None:
    """The column of the `- ` that introduces a block sequence item, when it is on the item's
    line."""
    start = item.start_mark.index
    line_start = text.rfind("\n", 0, start) + 1
    head = text[line_start:start]
    dash = head.rfind("-")
    if dash < 0 or head[dash + 1:].strip():
        return None
    return dash


def _literal_header(value: str) -> str:
    """`|`, `|-` or `|+`: the chomping that keeps `value`'s final line breaks."""
    if value[:1] in (" ", "\n"):
        raise ValueError("a literal block starting with a space or an empty line needs an indentation indicator")
    if not value.endswith("\n"):
        return "|-"
    return "|+" if value.endswith("\n\n") else "|"


def _literal_lines(value: str, column: int) -> list[str]:
    body = value[:-1] if value.endswith("\n") else value
    pad = " " * column
    return [pad + line if line else "" for line in body.split("\n")]


def literal_block(value: str, column: int, newline: str = "\n") -> str:
    """A string as a literal block scalar (`|` and its lines at `column`), without a final line
    break: it replaces a value up to the end of its last line."""
    return newline.join([_literal_header(value)] + _literal_lines(value, column))
