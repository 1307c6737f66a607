"""YAML read as the Kubernetes API server reads it: PyYAML's parser, go-yaml's scalar types.

kubectl, Helm and the API server read YAML with sigs.k8s.io/yaml, which hands each document to
go-yaml v2 and re-encodes the result as JSON. go-yaml v2 follows YAML 1.1 only in part, and
where PyYAML's YAML 1.1 resolver types a plain (unquoted) scalar differently, meshlint follows
go-yaml (`resolve.go`, `resolve()`), so that a document means here what it means to kubectl:

| plain scalar | PyYAML | go-yaml v2 (and meshlint) |
|---|---|---|
| `=`, `=~` | error (YAML 1.1's `value` tag has no constructor) | the string |
| `y`, `Y`, `n`, `N` | a string | a boolean |
| `12:30`, `190:20:30` | a base-60 integer | the string (base 60 is "purposefully unsupported") |
| `2024-01-02`, `2001-12-14t21:59:43Z` | a date or datetime | the string (as go-yaml decodes one into a map) |
| `1e3`, `6.02E23`, `1.5e3` | a string (YAML 1.1 needs a dot and a signed exponent) | a float |
| `0o17`, `0X1F`, `0B101` | a string | an integer (Go's `strconv.ParseInt(s, 0, 64)`) |
| `08`, `09.5` | a string | a float (not octal, but decimal float syntax) |
| an integer beyond 64 bits | an integer | a float |
| `<<` as a value | error (the merge tag has no constructor there) | the string |

Everything else (null, the other booleans, decimal, octal, hex and binary integers, floats, `.inf`,
`.nan`, merge keys, explicit tags) reads the same in both, built by PyYAML's constructors. The
JSON round trip after go-yaml is not modelled: it turns non-string keys into strings and
integral floats into integers, which no field a rule reads depends on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

_Base: Any
try:  # libyaml C parser: an order of magnitude faster than the pure-Python one
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader

_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# Plain scalars that go-yaml may read as a number: `resolve()` tries them as Go integers and
# floats, and keeps them as strings when neither parses.
_NUMBER_TAG = "tag:meshlint,2024:go-number"



class _Match:
    """What PyYAML's resolver calls where it keeps a compiled regex (it only calls `match`): a
    set lookup costs less to build (at startup) and to run than a regex of alternatives."""

    def __init__(self, test: Callable[[str], bool]) -> None:
        self.match = test


_BOOLS = ("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
          "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF")
_BOOL = _Match(frozenset(_BOOLS).__contains__)
_NULL = _Match(frozenset(("~", "null", "Null", "NULL", "")).__contains__)
_SPECIAL_FLOAT = _Match(frozenset((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
                                   ".nan", ".NaN", ".NAN")).__contains__)
_MERGE = _Match("<<".__eq__)
_NUMBER_START = _Match(lambda text: True)  # registered for the characters a number starts with

# Go's integer literal syntax, as `strconv.ParseInt(s, 0, 64)` reads it (underscores removed)
_GO_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
# go-yaml's `yamlStyleFloat`: what it lets `strconv.ParseFloat` read (underscores removed)
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
# a scalar starting with "." is given to `strconv.ParseFloat` as it is
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1


def _go_int(text: str) -> int | None:
    """An integer literal as `strconv.ParseInt(s, 0, 64)`, then `ParseUint`, reads it: None
    when neither does (not Go syntax, or beyond 64 bits). (go-yaml then retries a `0b`
    literal in base 2, which can only fail again: ParseInt already read base 2.)"""
    if not _GO_INT.fullmatch(text):
        return None
    sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
    try:
        if len(digits) > 1 and digits[0] == "0" and digits[1] in "0123456789":
            value = sign * int(digits, 8)  # Go reads a leading zero as octal
        else:
            value = sign * int(digits, 0)
    except ValueError:  # more decimal digits than int() reads (4,300): far beyond 64 bits
        return None
    if _INT64[0] <= value <= _INT64[1] or 0 <= value <= _UINT64_MAX and text[0] != "+":
        return value
    return None


def go_scalar(text: str) -> Any:
    """A plain scalar starting with a digit, a sign or a dot, typed as go-yaml's `resolve()`
    types it: an int, a float, or the string itself."""
    if text[0] == ".":
        if _GO_DOT_FLOAT.fullmatch(text):
            return float(text)
        return text
    plain = text.replace("_", "")
    as_int = _go_int(plain)
    if as_int is not None:
        return as_int
    if _GO_FLOAT.fullmatch(plain):
        value = float(plain)
        if value not in (float("inf"), float("-inf")):  # ParseFloat fails with ErrRange
            return value
    return text


class KubeLoader(_Base):
    """PyYAML's safe loader (libyaml's parser when built with it) typing plain scalars as
    go-yaml v2 does."""

    bool_values = {**_Base.bool_values, "y": True, "n": False}
    # first character of a plain scalar -> (tag, matcher), tried in order (PyYAML's layout)
    yaml_implicit_resolvers: dict[str, list[tuple[str, _Match]]] = {}

    def construct_go_number(self, node: yaml.ScalarNode) -> Any:
        return go_scalar(self.construct_scalar(node))


for _tag, _match, _firsts in ((_BOOL_TAG, _BOOL, "yYnNtTfFoO"), (_NULL_TAG, _NULL, ["~", "n", "N", ""]),
                              (_MERGE_TAG, _MERGE, "<"), (_FLOAT_TAG, _SPECIAL_FLOAT, "-+."),
                              (_NUMBER_TAG, _NUMBER_START, "-+.0123456789")):
    for _first in _firsts:
        KubeLoader.yaml_implicit_resolvers.setdefault(_first, []).append((_tag, _match))
KubeLoader.add_constructor(_NUMBER_TAG, KubeLoader.construct_go_number)
# `<<` is a merge key only as a key (PyYAML merges those before constructing anything)
KubeLoader.add_constructor(_MERGE_TAG, yaml.constructor.SafeConstructor.construct_yaml_str)


def load(text: str) -> Any:
    """One YAML document, as the API server reads it. Raises yaml.YAMLError (or ValueError for
    a scalar an explicit tag cannot construct)."""
    return yaml.load(text, Loader=KubeLoader)
