"""The fast parser (yaml_rs behind a sniff) reads every document exactly as the Kubernetes
loader does (PyYAML's parser typing plain scalars as go-yaml v2: `load/kubeyaml.py`).

Kubernetes reads manifests with sigs.k8s.io/yaml (go-yaml v2, mostly YAML 1.1); the fast parser
is YAML 1.2. meshlint sends to PyYAML every document that holds a construct where the two could
differ. These tests prove that what comes out is the same: on every document of the corpus,
the rule fixtures and the examples; on the YAML 1.1 traps; on generated documents; and as
findings, with and without the fast path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshlint.config import Config
from meshlint.engine import Inputs, check
from meshlint.load import lists, parse
from meshlint.load.kubeyaml import KubeLoader
from meshlint.load.sniff import Sniffer
from meshlint.load.split import split
from meshlint.resource import Document, Source

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def fast_path_everywhere(monkeypatch):
    """Small inputs normally skip the fast parser (import cost); here every input takes it."""
    monkeypatch.setattr(parse, "FAST_PATH_MIN_BYTES", 0)


def nan_safe(value):
    """NaN != NaN: replace it so that equal documents compare equal."""
    if isinstance(value, float) and value != value:
        return "<nan>"
    if isinstance(value, dict):
        return {k: nan_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nan_safe(v) for v in value]
    return value


def reference(text: str):
    return nan_safe(yaml.load(text, Loader=KubeLoader))


def meshlint_parse(text: str):
    source = Source("t.yaml", text)
    out = []
    for _doc, value, error, _items in parse.iter_documents(source, as_json=False):
        out.append(("error", error.line) if error else nan_safe(value))
    return out


def assert_parses_as_kubernetes(text: str) -> None:
    """meshlint reads `text` as the reference does: the same documents, or an error where it fails
    (an empty stream and one empty document are the same)."""
    parsed = meshlint_parse(text)
    try:
        expected = [reference(text)]
    except (yaml.YAMLError, ValueError):
        assert parsed and parsed[0][0] == "error", (text, parsed)
        return
    if expected == [None]:
        assert parsed in ([], [None]), text
    else:
        assert parsed == expected, text


def files() -> list[Path]:
    found = sorted((ROOT / "tests" / "rules").glob("*.yaml")) + sorted((ROOT / "examples").rglob("*.yaml"))
    if CORPUS.is_dir():
        found += sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml"))
    return found


def test_fast_parser_is_installed():
    assert parse._fast_parser(), "yaml-rs is a dependency: the fast path must be active"


@pytest.mark.parametrize("path", files(), ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_every_document_parses_as_the_reference_does(path):
    source = Source(str(path), path.read_text(encoding="utf-8"))
    for doc, value, error, _ in parse.iter_documents(source, as_json=False):
        try:
            expected = reference(doc.text)
        except (yaml.YAMLError, ValueError):
            assert error is not None, f"{path}:{doc.line}: the reference rejects this document, meshlint accepted it"
            continue
        assert error is None and nan_safe(value) == expected, f"{path}:{doc.line}"


TRAPS = [
    "a: yes\nb: No\nc: ON\nd: off", "on: push", "- yes\n- n\n- Off", "flow: [yes, no, on]", "{a: yes}",
    "mode: 0644", "n: 0755", "z: 00", "o: 0o17", "b: 0b101", "x: 0x1F", "u: 1_000", "h: 0x_1F",
    "t: 12:30", "t2: 190:20:30", "p: 8080:80", "e: 1e3", "f: 1.5e+3", "g: 6.02E23", "d: 2024-01-02",
    "ts: 2001-12-14t21:59:43.10-05:00", "k: '0755'", "q: \"yes\"", "base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2",
    "a: &x [1, 2]\nb: *x", "s: !!str 123", "i: !!int '7'", "c: !custom x", "? complex\n: key",
    "[a, b]: c", "{{ .Values.name }}: x", "a: 1\na: 2", "%YAML 1.1\n---\na: 1", "v: .inf\nw: -.Inf\nx: .nan",
    "n1: ~\nn2: null\nn3: Null\nn4:", "t: True\nf: FALSE", "i: +12\nj: -0\nk: 123456789012345678901234567890",
    "f: 5.\ng: .5\nh: 1.0", "s: 'it''s'", "m: |\n  a\n   b\n", "port: \"8080\"", "key with spaces: v",
    "emoji: \"\\u263A\"", "y: y\nn: n\nY: Y", "list:\n- 1\n- -1\n- +1", "tilde: '~'",
    # layouts the first sniff missed: a value alone on the next line, several spaces, spaced flows
    "key:\n  yes\n", "a:\n-\n  on\n", "mode:\n  0644\n", "k:   off\n", "k:\tOn\n", "l: [  yes]\n",
    "m: {  a:  0755}\n", "- - on: x\n", "-   0o17\n", "--- on: x\n", "---   [0755]\n", "---\n- 0755\n",
    # where Kubernetes (go-yaml v2) and PyYAML's YAML 1.1 part: see test_plain_scalars_are_typed_as_go_yaml_does
    "enum: [=, =~]", "op: =", "- =~\n- '!='", "a: <<", "a: y\nb: N", "- n", "big: 18446744073709551616",
    "u64: 18446744073709551615", "neg: -9223372036854775809", "o: 0O17", "x: 0X1F", "d: 09.5", "e: 1e999",
]


@pytest.mark.parametrize("text", TRAPS)
def test_yaml_1_1_traps(text):
    assert_parses_as_kubernetes(text)


# (plain scalar, what go-yaml v2 decodes it to in an untyped map: `resolve()` in its resolve.go,
# and decode.go's "timestamps stay strings in an interface{}")
GO_YAML = [
    ("=", "="), ("=~", "=~"), ("<<", "<<"), ("y", True), ("Y", True), ("n", False), ("N", False),
    ("yes", True), ("Off", False), ("12:30", "12:30"), ("190:20:30", "190:20:30"), ("2024-01-02", "2024-01-02"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"), ("1e3", 1000.0), ("6.02E23", 6.02e23),
    ("1.5e3", 1500.0), ("0o17", 15), ("0X1F", 31), ("0B101", 5), ("08", 8.0), ("09.5", 9.5), ("0755", 493),
    ("1_000", 1000), ("0x_1F", 31), ("-0b11", -3), ("9223372036854775807", 2**63 - 1),
    ("18446744073709551615", 2**64 - 1), ("18446744073709551616", 1.8446744073709552e19),
    ("+18446744073709551615", 1.8446744073709552e19), ("-9223372036854775809", -9.223372036854775809e18),
    ("1e999", "1e999"), (".5", 0.5), ("+.inf", float("inf")), ("-.nan", "-.nan"), ("100Mi", "100Mi"),
    ("1.2.3", "1.2.3"), ("~", None), ("v1", "v1"),
]


@pytest.mark.parametrize(("plain", "expected"), GO_YAML, ids=[p for p, _ in GO_YAML])
@pytest.mark.parametrize("layout", ["k: {v}\n", "- {v}\n", "k: [{v}]\n", "k:\n  {v}\n"])
def test_plain_scalars_are_typed_as_go_yaml_does(plain, expected, layout):
    """kubectl and the API server read YAML with sigs.k8s.io/yaml (go-yaml v2): so does
    meshlint, on the fast path and PyYAML's, where PyYAML's own YAML 1.1 types differ."""
    text = layout.format(v=plain)
    (value,) = meshlint_parse(text)
    got = value["k"] if isinstance(value, dict) else value
    got = got[0] if isinstance(got, list) else got
    assert got == expected and type(got) is type(expected), (text, got)


TRICKY = st.sampled_from(["yes", "No", "on", "OFF", "y", "N", "=", "=~", "<<", "0755", "0o17", "0b11", "1e3",
                          "1.5e+3", "12:30",
                          "1_000", "2024-01-02", "~", "null", "true", "False", ".inf", "0x1F", "+12", "-0",
                          "8080:80", "*.example.com", "&x", "!tag", "a: b", "- x", "#c", "'q'", "\"d\"",
                          "v1", "istio-injection", "http://cart.shop:8080", ""])
SCALARS = st.one_of(TRICKY, st.text(alphabet="abcxXoBy0123456789:.-_ eE+onOFNT#&*!~|>%@`,[]{}", max_size=8),
                    st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
DOCS = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TRICKY | st.text("abkey", min_size=1, max_size=5),
                                                                     inner, max_size=4)), max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=DOCS, flow=st.booleans())
def test_generated_documents(doc, flow):
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
    assert meshlint_parse(text) == [reference(text)]


@pytest.mark.parametrize("text", [
    "a: 1\n...\non: x\n",  # a document after an end marker starts without `---`: its first line is risky
    "a: 1\n...\n%YAML 1.1\n---\nb: yes\n",
    "x: 1\n---\n&a b: 1\n",
    "on: x\n---\nb: 1\n",  # the first line of the text has no newline before it
])
def test_risky_first_lines_of_documents(text):
    expected = [nan_safe(yaml.load(doc.text, Loader=KubeLoader))
                for doc in split(Source("t.yaml", text))]
    assert meshlint_parse(text) == expected


def _relayout(text: str, how: str) -> str:
    """The same document laid out as people write it, not as PyYAML dumps it."""
    if how == "wide":  # several spaces after `key:` and `-`
        return re.sub(r"(?m)(:|^ *-) (?=\S)", r"\1   ", text)
    if how == "next-line":  # `key:` and its value on the next line, indented deeper
        def move(m: re.Match) -> str:
            indent = len(m[1]) + (2 if m[2].startswith("- ") else 0) + 2
            return f"{m[1]}{m[2]}:\n{' ' * indent}{m[3]}"
        return re.sub(r"(?m)^( *)([^ \n'\"][^:\n'\"]*): ([^|>\n].*)$", move, text)
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=DOCS, how=st.sampled_from(["wide", "next-line"]))
def test_generated_documents_in_other_layouts(doc, how):
    assert_parses_as_kubernetes(_relayout(yaml.safe_dump(doc, default_flow_style=False, allow_unicode=True), how))


PLAIN = st.sampled_from(["yes", "No", "on", "OFF", "Off", "y", "n", "Y", "=", "=~", "0755", "00", "0o17", "0b11",
                         "0x1F", "0x_1F",
                         "1e3", "6.02E23", "1.5e+3", "12:30", "190:20:30", "1_000", "_1", "2024-01-02", "~", "null",
                         "true", "False", ".inf", "-.Inf", ".nan", "+12", "-0", "8080", "1.5", "-.5", "5.", "v1",
                         "name", "nope", "online", "8080:80", "1.2.3", "18446744073709551616", "09.5"])
KEY_TEXT = st.sampled_from(["a", "name", "on", "yes", "No", "0755", "1e3", "12:30", "2024-01-02", "8080", "-1"])
BLOCK_LAYOUTS = ["{k}: {v}", "{k}:   {v}", "{k}:\t{v}", "{k}:\n  {v}", "{k}: {v}   # c"]
SEQ_LAYOUTS = ["- {v}", "-   {v}", "-\n  {v}", "- - {v}", "- {k}: {v}"]
FLOW_LAYOUTS = ["[{v}]", "[ {v} ]", "[  {v},{v}]", "[\n  {v}\n]", "{{{k}: {v}}}", "{{ {k}:  {v} }}", "{{{k}:\n  {v}}}"]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=KEY_TEXT, value=PLAIN, layout=st.sampled_from(BLOCK_LAYOUTS + SEQ_LAYOUTS + FLOW_LAYOUTS),
       nested=st.booleans(), marker=st.booleans())
def test_hand_written_plain_scalars(key, value, layout, nested, marker):
    """Plain (unquoted) scalars as people write them, one risky spot per document, in every
    layout: the sniff must see each spot wherever it sits on the line, or on the next one."""
    body = layout.format(k=key, v=value)
    if layout in FLOW_LAYOUTS:
        body = "x: " + body
    if nested:
        body = "top:\n" + "\n".join("  " + line for line in body.splitlines())
    assert_parses_as_kubernetes(("---\n" if marker else "") + "kind: Test\n" + body + "\n")


def test_same_findings_with_and_without_the_fast_path(monkeypatch):
    paths = [str(ROOT / "examples"), str(ROOT / "tests" / "rules")]
    if CORPUS.is_dir():
        paths.append(str(CORPUS))
    def key(r):
        return [(f.code, f.file, f.line, f.message, f.severity) for f in r.findings]

    fast = key(check(Inputs(paths), Config()))
    monkeypatch.setattr(parse, "FAST_PATH_MIN_BYTES", 10**12)
    slow = key(check(Inputs(paths), Config()))
    assert fast == slow and len(fast) > 100


def test_list_dump_is_parsed_item_by_item_when_one_item_is_risky(tmp_path):
    """A `kubectl get -o yaml` List where one item holds a YAML 1.1 trap (an octal mode): the
    other items still go through the fast parser, the risky one through PyYAML; the result is
    PyYAML's."""
    docs = [d for p in sorted((ROOT / "examples").rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    text = yaml.safe_dump({"apiVersion": "v1", "items": docs, "kind": "List", "metadata": {"resourceVersion": ""}},
                          sort_keys=False, width=10**6)
    risky = text.replace("\n    name: payment\n", "\n    name: payment\n    defaultMode: 0644\n", 1)
    assert risky != text
    padding = "# " + "x" * parse.FAST_PATH_MIN_BYTES + "\n"  # large enough for the fast path
    source = Source("dump.yaml", padding + risky)
    sniffer = Sniffer(source.text)
    (doc,) = split(source)
    assert sniffer.risky(doc.start, doc.end)
    ok, value = parse._parse_list(doc, sniffer, lists.item_documents(doc))
    assert ok and value == reference(doc.text)
    modes = [item["metadata"].get("defaultMode") for item in value["items"]]
    assert 420 in modes  # 0644, octal as YAML 1.1 reads it


# --- JSON Lists (`kubectl get -o json`) are parsed item by item: the value must be json's ---

def json_parse(text: str):
    (doc, value, error, _), = parse.iter_documents(Source("t.json", text), as_json=True, fast=True)
    return ("error", error.line) if error else nan_safe(value)


def json_reference(text: str):
    try:
        return nan_safe(json.loads(text))
    except ValueError:
        return "invalid"


# orjson reads an integer beyond 64 bits (< -2**63 or > 2**64 - 1) as a float, where json
# keeps it exact (`test_orjson_reads_integers_beyond_64_bits_as_kubernetes_does`): the
# equivalence is over the integers a Kubernetes object can hold.
_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1),
                          st.floats(allow_nan=False, allow_infinity=False),
                          st.text(alphabet=st.sampled_from('ab{}[]",:\n\\ \u00e9\u0000'), max_size=8))
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["items", "kind", "a", "metadata", "{"]), inner,
                                            max_size=3)),
    max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_json_values, min_size=1, max_size=4),
       before=st.dictionaries(st.sampled_from(["apiVersion", "a", "b"]), _json_values, max_size=2),
       after=st.dictionaries(st.sampled_from(["kind", "metadata", "z"]), _json_values, max_size=2),
       indent=st.sampled_from([2, 4]), crlf=st.booleans())
def test_json_lists_parse_as_json_does(items, before, after, indent, crlf):
    """Whatever the List holds (nested `items` arrays, strings that look like JSON, big ints),
    the item-by-item parse gives json.loads's value, or leaves the document to the whole parse."""
    text = json.dumps({**before, "items": items, **after}, indent=indent)
    if crlf:
        text = text.replace("\n", "\r\n")
    expected = json_reference(text)
    assert json_parse(text) == expected
    (doc,) = [Document(Source("t.json", text), 0, len(text), 1, 0)]
    item_docs = lists.item_documents(doc)
    ok, value = parse._parse_json_list(doc, parse._json_parser(), item_docs) if item_docs else (False, None)
    if ok:
        assert nan_safe(value) == expected
    if all(isinstance(i, dict) and i for i in items):
        assert ok  # every kubectl-shaped List takes the item-by-item path


# Layouts without kubectl's indentation, whose items are found as json decodes them.
_UNINDENTED = {
    "compact": lambda value: json.dumps(value, separators=(",", ":")),  # kubectl get --raw, jq -c
    "spaced": json.dumps,  # one line, `, ` and `: `
    "item per line": lambda value: json.dumps(value).replace('"items": [', '"items": [\n').replace("}, {", "},\n{"),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_json_values, min_size=1, max_size=4),
       before=st.dictionaries(st.sampled_from(["apiVersion", "a", "b"]), _json_values, max_size=2),
       after=st.dictionaries(st.sampled_from(["kind", "metadata", "z"]), _json_values, max_size=2),
       layout=st.sampled_from(sorted(_UNINDENTED)))
def test_unindented_json_lists_decode_as_json_does(items, before, after, layout):
    """A compact List decoded item by item: json.loads's value, and each item a document of its
    own, whose text is that item, at its line and column in the source; or None (the document
    is left to the whole parse) unless every item is an object."""
    text = _UNINDENTED[layout]({**before, "items": items, **after})
    source = Source("t.json", text)
    decoded = parse._decode_json_list(Document(source, 0, len(text), 1, 0))
    if all(isinstance(i, dict) for i in items):
        assert decoded is not None
    if decoded is None:
        return
    value, item_docs = decoded
    assert nan_safe(value) == json_reference(text)
    assert [nan_safe(json.loads(d.text)) for d in item_docs] == nan_safe(value["items"])
    lines = text.split("\n")
    for d in item_docs:
        assert d.text.startswith("{") and lines[d.line - 1][d.column - 1:].startswith(d.text.split("\n", 1)[0])


@pytest.mark.parametrize("text", [
    '{"items":[{"a":1},],"kind":"List"}',  # trailing commas: not JSON
    '{"items":[{"a":1}],"kind":"List",}',
    '{"items":[{"a":1}],"kind":"List"} x',  # something after the List
    '{"items":[{"a":1}],"items":[{"b":2}]}',  # `items` twice: json keeps the last
    '{"items":[{"a":1},2],"kind":"List"}',  # an item that is not an object
    '{"items":[],"kind":"List"}',
    '{"items":{"a":1},"kind":"List"}',
    '{"kind":"List"}',
    '[{"items":[{"a":1}]}]',
    '{"items":[{"a":1}] "kind":"List"}',
    '{"items":[{a:1}],"kind":"List"}',  # YAML flow style
])
def test_unindented_json_lists_that_are_not_decoded_item_by_item(text):
    assert parse._decode_json_list(Document(Source("t.json", text), 0, len(text), 1, 0)) is None


def test_orjson_reads_integers_beyond_64_bits_as_kubernetes_does():
    """The one place the fast JSON parser differs from json: an integer beyond 64 bits becomes a
    float. Kubernetes' own decoder does the same beyond int64 (k8s.io/apimachinery
    pkg/util/json: an int64 when it fits, else a float64), and no field of a Kubernetes object
    holds such a number. Finding these would cost a scan of the whole text (~0.5 s on 60 MB)."""
    text = '{\n  "items": [\n    {\n      "n": 123456789012345678901234567890\n    }\n  ]\n}'
    big = json_parse(text)["items"][0]["n"]
    assert isinstance(big, float) and big == 1.2345678901234568e29


@pytest.mark.parametrize("text", [
    # a nested `items` array indented as the List's own first key (odd formatting): not the List's
    '{\n  "spec": {\n  "items": [\n    {\n      "a": 1\n    }\n  ]\n  },\n  "items": []\n}',
    '{\n  "kind": "List",\n  "items": [\n    {\n      "a": 1\n    }\n  ],\n  "meta": {\n  "items": [\n'
    '    {\n      "b": 2\n    }\n  ]\n  }\n}',
    # NaN in an item: orjson refuses it, json reads it; the whole-document path decides
    '{\n  "items": [\n    {\n      "a": NaN\n    }\n  ],\n  "kind": "List"\n}',
    # something between two items that is not JSON: the whole document is invalid
    '{\n  "items": [\n    {\n      "a": 1\n    },\n    {\n      "b": 2\n    }\n  ] x,\n  "kind": "List"\n}',
    '{\n  "items": [\n    {\n      "a": 1\n    }\n  ],\n  "kind": "List",\n}',  # a trailing comma
    '{\n  "items": [\n    {\n      "a": 1\n    },\n    {\n      "b": 2\n    }\n  ],\n  "items": [],\n  "k": 1\n}',
    # YAML named .json, shaped like a JSON List
    '{\n  "items": [\n    {\n      a: 1\n    }\n  ],\n  "kind": "List"\n}',
    '{\n  "items": [\n    {\n      "a": "\\u0000meshlint: the items of this List\\u0000"\n    }\n  ]\n}',
])
def test_json_list_traps(text):
    expected = json_reference(text)
    got = json_parse(text)
    if expected == "invalid":
        assert got == reference(text) if _yaml_ok(text) else got[0] == "error"
    else:
        assert got == expected


def _yaml_ok(text: str) -> bool:
    try:
        yaml.load(text, Loader=KubeLoader)
    except yaml.YAMLError:
        return False
    return True


PROMETHEUS_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: alertmanagerconfigs.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names: {kind: AlertmanagerConfig, plural: alertmanagerconfigs}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            properties:
              inhibitRules:
                items:
                  properties:
                    sourceMatch:
                      items:
                        properties:
                          matchType:
                            enum:
                            - '!='
                            - =
                            - =~
                            - '!~'
                            type: string
                          regexOperators: {type: string, enum: [=, =~]}
---
apiVersion: v1
kind: Service
metadata:
  name: alertmanager
  namespace: monitoring
spec:
  selector: {app: alertmanager}
  ports:
  - name: web
    port: 9093
"""


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "pyyaml"])
def test_a_bare_equals_sign_is_a_string_as_for_kubectl(tmp_path, monkeypatch, fast):
    """A prometheus-operator CRD lists the match operators as `enum: [=, =~]`: kubectl reads
    `=` as a string, where PyYAML's own YAML 1.1 resolver fails on its `value` tag."""
    if not fast:
        monkeypatch.setattr(parse, "FAST_PATH_MIN_BYTES", 10**12)
    path = tmp_path / "alertmanager.yaml"
    path.write_text(PROMETHEUS_CRD)
    (crd, _service), = [[v for _, v, _, _ in parse.iter_documents(Source(str(path), PROMETHEUS_CRD), False)]]
    match = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    operators = match["inhibitRules"]["items"]["properties"]["sourceMatch"]["items"]["properties"]
    assert operators["matchType"]["enum"] == ["!=", "=", "=~", "!~"]
    assert operators["regexOperators"]["enum"] == ["=", "=~"]
    result = check(Inputs([str(path)]), Config())
    assert [(f.code, f.line) for f in result.findings] == [("ML101", 42)]
