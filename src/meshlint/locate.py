"""Exact line numbers, resolved lazily.

Parsing keeps no positions (plain dicts are fast and small). When a finding needs the line of
a field, its document alone is composed again with a position-tracking loader and the field's
path is followed through the node tree. Only documents with findings pay for this, once each.
"""

from __future__ import annotations

from typing import Any

import yaml

from .resource import Document

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


class Locator:
    def __init__(self) -> None:
        self._nodes: dict[int, Any] = {}

    def _root(self, document: Document) -> Any:
        key = id(document)
        if key not in self._nodes:
            try:
                self._nodes[key] = yaml.compose(document.text, Loader=_Loader)
            except Exception:  # noqa: BLE001 - a document we cannot compose has no finer lines
                self._nodes[key] = None
        return self._nodes[key]

    def line(self, document: Document, path: tuple) -> int:
        """1-based line in the source of the field at `path` (the key's line for a mapping
        entry, the item's line for a list entry); the closest ancestor's when it is absent."""
        node = self._root(document)
        if node is None:
            return _first_line(document)
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


def _first_line(document: Document) -> int:
    for offset, raw in enumerate(document.text.splitlines()):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#") and stripped != "---":
            return document.line + offset
    return document.line
