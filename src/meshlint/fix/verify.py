"""Every edit is verified before it is written: the document is parsed again (as the loader
parses it) and must equal the original object with the fix's ops applied, and nothing else
changed. A string that holds YAML or JSON and was edited inside must parse to what was meant.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..load.parse import parse, parse_json
from ..resource import Document, Source
from .surgery import INSERT, REMOVE, Op


class Unparsable(Exception):
    """The edited text does not parse."""


@dataclass(frozen=True)
class Embedded:
    """What a string holding YAML or JSON must parse to (its text is free)."""

    value: Any


def parse_text(text: str, as_json: bool) -> Any:
    """One document's text, parsed as the loader parses it. Raises Unparsable."""
    document = Document(Source("fix", text), 0, len(text), 1, 0)
    value, error, _ = parse_json(document) if as_json else parse(document)
    if error is not None:
        raise Unparsable(error.message)
    return value


def embedded_value(text: Any) -> Any:
    """The value of a string holding YAML or JSON (as Istio reads a mesh config or a proxy
    config annotation)."""
    if not isinstance(text, str) or not text.strip():
        return {}
    return json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)


def expected(value: Any, ops: Sequence[Op]) -> Any:
    """`value` with `ops` applied, as objects (a copy: `value` is left alone)."""
    out = copy.deepcopy(value)
    for op in ops:
        out = _apply(out, op)
    return out


def _apply(value: Any, op: Op) -> Any:
    if not op.path:
        raise ValueError("an op needs a path")
    *parents, last = op.path
    node = value
    for i, step in enumerate(parents):
        if op.kind == REMOVE and not _has(node, step):
            return value
        if isinstance(node, dict) and node.get(step) is None:
            node[step] = [] if isinstance(op.path[i + 1], int) and op.kind == INSERT else {}
        node = node[step]
    if op.kind == REMOVE:
        if _has(node, last):
            del node[last]
    elif op.kind == INSERT:
        node.insert(last, copy.deepcopy(op.value))
    elif op.within:
        current = node.get(last) if isinstance(node, dict) else node[last]
        inner = current.value if isinstance(current, Embedded) else embedded_value(current)
        node[last] = Embedded(_apply(inner if isinstance(inner, dict) else {}, Op("set", op.within, op.value)))
    else:
        node[last] = copy.deepcopy(op.value)
    return value


def _has(node: Any, step: Any) -> bool:
    if isinstance(node, dict):
        return step in node
    return isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)


def same(want: Any, got: Any) -> bool:
    """Does the parsed `got` equal `want` (where an `Embedded` value is compared by what its
    string parses to)?"""
    if isinstance(want, Embedded):
        try:
            return isinstance(got, str) and same(want.value, embedded_value(got))
        except (ValueError, yaml.YAMLError):
            return False
    if isinstance(want, dict):
        return isinstance(got, dict) and list(want) == list(got) and all(same(want[k], got[k]) for k in want)
    if isinstance(want, list):
        return isinstance(got, list) and len(want) == len(got) and all(same(a, b) for a, b in zip(want, got))
    return type(want) is type(got) and want == got
