"""Compact JSON (issue #19): a `kind: List` on one line, as `kubectl get --raw`, `jq -c`, API
responses and export tools write it.

A large one is decoded item by item, each item a document of its own; a finding points at the
line and column of the offending key, which in a one-line document is all that tells the
findings apart. The same objects as block YAML point at the same keys.
"""

from __future__ import annotations

import json

import pytest
import yaml

from meshlint.config import Config
from meshlint.engine import Inputs, check
from meshlint.load import parse
from meshlint.resource import Document, Source

# One finding (or two) of several rules, each on a field of its own.
OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": "shop", "labels": {"istio-injection": "enabled", "istio.io/rev": "1-22"}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "cart", "namespace": "shop"},
     "spec": {"selector": {"app": "cart"}, "ports": [{"name": "http", "port": 80}, {"name": "web", "port": 8080}]}},
    {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
     "metadata": {"name": "cart", "namespace": "shop"},
     "spec": {"hosts": ["cart"], "gateways": ["mesh", "public"],
              "http": [{"route": [{"destination": {"host": "cart"}}], "retries": {"attempts": 5, "retryOn": "5xx"}}]}},
]

# (code, variant) -> the text each form has at the finding's line and column: the offending key
# (the port item at its first key, the gateway at its string)
AT = {
    ("ML403", "both-labels"): ("istio.io/rev: 1-22", '"istio.io/rev":"1-22"'),
    ("ML101", "sniffed"): ("name: web", '"name":"web"'),
    ("ML102", "gateway-not-in-input"): ("public", '"public"'),
    ("ML106", "port-selector-required"): ("host: cart", '"host":"cart"'),
    ("ML303", "no-destination-rule-in-input"): ("retries:", '"retries":'),
    ("ML301", "too-many-attempts"): ("attempts: 5", '"attempts":5'),
    ("ML301", "unsafe-retry-on"): ("retryOn: 5xx", '"retryOn":"5xx"'),
}


def clean_services(count: int) -> list[dict]:
    """Services without a footgun, to make a List large enough to be read item by item."""
    return [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}", "namespace": "shop"},
             "spec": {"selector": {"app": f"s{i}"}, "ports": [{"name": "http", "port": 80}]}} for i in range(count)]


def compact(items: list) -> str:
    return json.dumps({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}},
                      separators=(",", ":"), ensure_ascii=False)


def large_compact(items: list) -> str:
    """`items` among clean Services, past the size from which a List is decoded item by item."""
    padding = clean_services(600)
    text = compact(padding[:300] + items + padding[300:])
    assert len(text) > parse.FAST_PATH_MIN_BYTES
    return text


def at(text: str, finding: dict) -> str:
    return text.split("\n")[finding["line"] - 1][finding["column"] - 1:]


@pytest.mark.parametrize("form", ["yaml", "compact", "large compact"])
def test_the_column_lands_on_the_offending_key(files, run, form):
    """Seven findings of five rules, in block YAML and in compact JSON small (parsed whole) and
    large (decoded item by item): each at its key, the JSON ones all on line 1."""
    text = {"yaml": lambda: yaml.safe_dump_all(OBJECTS, sort_keys=False), "compact": lambda: compact(OBJECTS),
            "large compact": lambda: large_compact(OBJECTS)}[form]()
    path = files("mesh.yaml" if form == "yaml" else "dump.json", text)
    findings = json.loads(run("check", str(path), "--format", "json").stdout)["findings"]
    assert sorted((f["code"], f["variant"]) for f in findings) == sorted(AT)
    for f in findings:
        expected = AT[(f["code"], f["variant"])][0 if form == "yaml" else 1]
        assert at(text, f).startswith(expected), (f["code"], f["variant"], at(text, f)[:40])
    if form != "yaml":
        assert {f["line"] for f in findings} == {1} and len({f["column"] for f in findings}) == len(findings)
    ml101 = next(f for f in findings if f["code"] == "ML101")
    out = run("check", str(path)).stdout
    assert f"{path}:{ml101['line']}:{ml101['column']}: ML101 [warning] Service shop/cart: port 8080" in out


def test_columns_count_characters(files, run):
    """A column counts characters (code points), not bytes: keys after non-ASCII text (written
    as it is, not \\u-escaped) are found where an editor puts them."""
    objects = [dict(OBJECTS[1], metadata={"name": "cart", "namespace": "shop",
                                          "annotations": {"description": "Warenkorb für Käufer ☕🛒"}})]
    text = compact(objects)
    path = files("dump.json", text)
    (f,) = json.loads(run("check", str(path), "--format", "json").stdout)["findings"]
    assert at(text, f).startswith('"name":"web"')
    before = text[:f["column"] - 1]
    assert f["column"] == text.index('"name":"web"') + 1 and len(before.encode()) > len(before)


def test_a_large_compact_list_is_read_item_by_item():
    """Each item becomes a document of its own, at its line and column in the dump, holding
    exactly its text: a finding is located in its item, never by reading the whole dump."""
    text = large_compact(OBJECTS)
    items = json.loads(text)["items"]
    source_items = {}  # item text -> where it starts
    for item in items:
        item_text = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
        source_items[item_text] = text.index(item_text)
    document = Document(Source("dump.json", text), 0, len(text), 1, 0)
    value, error, documents = parse.parse_json(document, fast_path=True)
    assert error is None and value == json.loads(text)
    assert documents is not None and len(documents) == len(items)
    for doc, item in zip(documents, items):
        assert json.loads(doc.text) == item and doc.line == 1 and doc.column == source_items[doc.text] + 1


@pytest.mark.parametrize("bad, problem, where", [
    ({"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "shop"}}, "Service has no metadata.name",
     '"metadata":{"namespace":"shop"}'),
    ("cart", 'list item is the string "cart", not a Kubernetes object', '"cart"'),
    (None, "list item is null, not a Kubernetes object", "null"),
])
def test_a_bad_item_keeps_its_neighbours(files, run, bad, problem, where):
    """One item that is not a valid object is one ML002, at that item; the items before and after
    it are analysed, and their findings are at their keys."""
    items = [OBJECTS[0], OBJECTS[1], bad, OBJECTS[2]]
    text = large_compact(items)
    path = files("dump.json", text)
    report = json.loads(run("check", str(path), "--format", "json").stdout)
    (ml002,) = [f for f in report["findings"] if f["code"] == "ML002"]
    assert ml002["message"] == problem and ml002["line"] == 1
    assert at(text, ml002).startswith(where)
    neighbours = [f for f in report["findings"] if f["code"] != "ML002"]
    assert sorted((f["code"], f["variant"]) for f in neighbours) == sorted(AT)
    assert all(at(text, f).startswith(AT[(f["code"], f["variant"])][1]) for f in neighbours)
    assert report["summary"]["resources"] == 600 + len(items)  # every item read, the bad one too


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("damage", ["a second comma", "cut off"])
def test_malformed_compact_json_is_ml001_at_its_line_and_column(files, run, size, damage):
    """A syntax error in a one-line List is reported where json stops reading, line and column,
    in every format; one document, so nothing of it is analysed (as for any JSON document)."""
    text = compact(OBJECTS) if size == "small" else large_compact(OBJECTS)
    if damage == "a second comma":
        cut = text.index('"spec"', text.index('"name":"cart"'))
        text = text[:cut] + "," + text[cut:]
    else:  # a truncated download
        text = text[:text.index('"public"') + 4]
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    path = files("dump.json", text)
    proc = run("check", str(path), "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    (f,) = report["findings"]
    assert f["code"] == "ML001" and f["message"] == f"invalid JSON: {expected.value.msg}"
    assert (f["line"], f["column"]) == (1, expected.value.colno) and f["column"] > 1
    assert report["summary"]["resources"] == 0
    assert run("check", str(path)).stdout.startswith(f"{path}:1:{expected.value.colno}: ML001 [error] invalid JSON: ")


def test_the_engine_locates_every_item_finding_in_its_own_item(tmp_path):
    """Engine level: the resources of a large compact List keep their item documents (no prefix
    into the List), so that locating reads one item."""
    path = tmp_path / "dump.json"
    path.write_text(large_compact(OBJECTS))
    result = check(Inputs([str(path)]), Config())
    assert len(result.findings) == len(AT)
    for f in result.findings:
        assert f.resource is not None and f.resource.prefix == ()
        assert f.resource.document.text.startswith("{") and f.resource.document.column > 1


def test_a_lone_surrogate_in_a_large_compact_list_is_read_as_the_api_server_reads_it(files, run):
    """The item-by-item decode keeps what json.loads keeps, and then does as the whole parse:
    half a surrogate pair becomes U+FFFD, as Go's JSON decoder makes it."""
    cart = json.dumps(OBJECTS[1], separators=(",", ":")).replace('"name":"web"', '"name":"web\\ud800"')
    namespace = '{"apiVersion":"v1","kind":"Namespace"'
    text = large_compact([OBJECTS[0]]).replace(namespace, f"{cart},{namespace}")
    path = files("dump.json", text)
    findings = json.loads(run("check", str(path), "--format", "json").stdout)["findings"]
    (f,) = [f for f in findings if f["code"] == "ML101"]
    assert 'named "web\ufffd"' in f["message"] and at(text, f).startswith('"name":"web\\ud800"')


def test_an_item_nested_too_deep_is_ml001_not_an_internal_error(files, run):
    """json's scanner gives up on a 100,000-deep item with a RecursionError: the List is then
    parsed whole, which reports it as the indented dump's parse does."""
    deep = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}, "data": {"x": 0}}
    text = large_compact([deep]).replace('"data":{"x":0}', '"data":{"x":' + "[" * 100_000 + "]" * 100_000 + "}")
    proc = run("check", str(files("dump.json", text)), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    (f,) = json.loads(proc.stdout)["findings"]
    assert f["code"] == "ML001" and f["message"] == "invalid JSON: nesting is too deep"


def test_a_finding_beyond_a_value_too_deep_for_json_s_scanner_is_still_reported(files, run):
    """orjson reads 1,010 levels of nesting, json's scanner (the locator's) stops short of them:
    the finding is then located by composing the document, never an internal error."""
    service = json.dumps(dict(OBJECTS[1], metadata={"name": "cart", "namespace": "shop",
                                                    "annotations": {"padding": "a" * parse.FAST_PATH_MIN_BYTES}}),
                         separators=(",", ":"))
    text = service.replace('"spec":{', '"spec":{"x":' + "[" * 1010 + "]" * 1010 + ",")
    proc = run("check", str(files("svc.json", text)), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    (f,) = json.loads(proc.stdout)["findings"]
    assert (f["code"], f["line"]) == ("ML101", 1) and f["column"] >= 1
