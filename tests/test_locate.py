"""The line scanner (locate.py) against the reference: composing the document with libyaml.

Every finding meshlint reports on the rule fixtures, examples/, the corpus and kubectl-style
dumps (YAML and JSON) is located both ways; the lines and columns must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from meshlint.config import Config
from meshlint.engine import Inputs, check
from meshlint.locate import Locator, compose_position
from meshlint.resource import Document, Source

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def inputs() -> list[Path]:
    paths = sorted((ROOT / "tests" / "rules").glob("*.yaml")) + [ROOT / "examples"]
    if CORPUS.is_dir():
        paths += sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return paths


def _check(paths: list[str]) -> int:
    result = check(Inputs(paths), Config())
    locator = Locator()
    compared = 0
    for f in result.findings:
        if f.resource is not None:
            doc, path = f.resource.document, f.resource.prefix + f.path
        elif f.document is not None and not f.line:
            doc, path = f.document, f.path
        else:
            continue
        assert locator.position(doc, path) == compose_position(doc, path), (doc.source.name, path)
        compared += 1
    return compared


@pytest.mark.parametrize("path", inputs(), ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_scanner_agrees_with_compose(path):
    compared = _check([str(path)])
    if path.name == "examples":
        assert compared >= 19, compared  # every finding of `make demo`


def test_scanner_agrees_with_compose_on_many_findings():
    """All rule fixtures, and all of the corpus, in one run each (findings are compared, not
    only counted: a vacuous pass cannot hide here)."""
    assert _check([str(ROOT / "tests" / "rules")]) >= 100
    if CORPUS.is_dir():
        assert _check([str(CORPUS)]) >= 100


def kubectl_dump(tmp_path, fmt: str) -> Path:
    """The examples as one `kubectl get -A -o yaml|json` List (`json-compact`: on one line)."""
    docs = [d for p in sorted((ROOT / "examples").rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    dump = {"apiVersion": "v1", "items": docs, "kind": "List", "metadata": {"resourceVersion": ""}}
    path = tmp_path / f"dump.{fmt.split('-')[0]}"
    path.write_text(json.dumps(dump, indent=4) if fmt == "json" else json.dumps(dump, separators=(",", ":"))
                    if fmt == "json-compact" else yaml.safe_dump(dump, sort_keys=False))
    return path


@pytest.mark.parametrize("fmt", ["yaml", "json", "json-compact"])
def test_list_dumps(tmp_path, fmt):
    path = kubectl_dump(tmp_path, fmt)
    assert _check([str(path)]) >= 15


@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")])
def test_compact_json_list_items_are_documents_of_their_own_at_the_whole_lists_positions(
        tmp_path, separators, monkeypatch, field_at):
    """A one-line JSON List (`kubectl get --raw`, `jq -c`) is decoded item by item: each item is
    a document starting mid-line, and a finding in it is located in its own text, at the line
    and column composing the whole List gives, on the offending key."""
    from meshlint.load import parse

    monkeypatch.setattr(parse, "FAST_PATH_MIN_BYTES", 0)
    docs = [d for p in sorted((ROOT / "examples").rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    dump = {"apiVersion": "v1", "items": docs, "kind": "List", "metadata": {"resourceVersion": ""}}
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump, separators=separators))
    whole = Document(Source(str(path), path.read_text()), 0, len(path.read_text()), 1, 0)
    result = check(Inputs([str(path)]), Config())
    compared = 0
    for f in result.findings:
        if f.resource is None:
            continue
        item = f.resource.document
        assert f.resource.prefix == () and item.column > 1 and item.text.startswith("{")
        i = docs.index(json.loads(item.text))
        assert (f.line, f.column) == compose_position(whole, ("items", i) + f.path), (i, f.code, f.path)
        text, token = field_at(f)
        assert text.startswith((f'"{token}"', token)), (f.code, f.path, text[:40])
        compared += 1
    assert compared >= 15


class _IndentedDumper(yaml.SafeDumper):
    """Sequences indented under their key (`items:` then `  - `), as some tools write them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


@pytest.mark.parametrize("form", ["yaml", "yaml-indented", "yaml-second-document", "json"])
def test_list_items_are_documents_of_their_own_with_the_whole_lists_lines(tmp_path, form, monkeypatch):
    """Each item of a List dump (block YAML or indented JSON) is located in its own text, so
    that a finding in a 25,000-item dump reads one item, at the line composing the whole List
    gives, at the column it gives. The fast parsers are on, as for a real dump: a YAML List is parsed item by item."""
    from meshlint.load import lists, parse
    from meshlint.load.sniff import Sniffer
    from meshlint.load.split import split
    from meshlint.resource import Source

    monkeypatch.setattr(parse, "FAST_PATH_MIN_BYTES", 0)
    docs = [d for p in sorted((ROOT / "examples").rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    dump = {"apiVersion": "v1", "items": docs, "kind": "List", "metadata": {"resourceVersion": ""}}
    if form == "json":
        text = json.dumps(dump, indent=4) + "\n"
    else:
        indented = form == "yaml-indented"
        text = "# kubectl get -A -o yaml\n" + yaml.dump(dump, Dumper=_IndentedDumper if indented else yaml.SafeDumper,
                                                         sort_keys=False)
        entry = "\n  - apiVersion" if indented else "\n- apiVersion"
        text = text.replace(entry, "\n  # a comment before the first item\n" + entry[1:], 1)
        second = text.index(entry, text.index(entry) + 1)
        text = text[:second] + "\n\n# a comment between items" + text[second:]
        if form == "yaml-second-document":
            text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: first\n---\n" + text
    path = tmp_path / f"dump.{'json' if form == 'json' else 'yaml'}"
    path.write_text(text)
    source = Source(str(path), text)
    whole = split(source)[-1]
    items = lists.item_documents(whole)
    assert items is not None and len(items) == len(docs)
    if form != "json":
        assert parse._parse_list(whole, Sniffer(text), items) == (True, yaml.safe_load(whole.text))
    starts = [d.start for d in items]
    for fast in (True, False):  # cut for the item-by-item parse, or after the whole parse
        *_, (_, _, _, handed) = parse.iter_documents(source, form == "json", fast)
        assert handed is not None and [d.start for d in handed] == starts, fast
    result = check(Inputs([str(path)]), Config())
    compared = 0
    for f in result.findings:
        if f.resource is None:
            continue
        assert f.resource.prefix == (() if form == "json" else (0,)) and f.resource.document.start in starts
        i = starts.index(f.resource.document.start)
        assert (f.line, f.column) == compose_position(whole, ("items", i) + f.path), (i, f.code, f.path)
        compared += 1
    assert compared >= 15


def test_tricky_layouts(tmp_path):
    text = """\
# a comment before the document
---
apiVersion: v1
kind: Service
metadata:
  name: odd
  namespace: shop
  annotations: {a: "1"}
spec:
  selector:
    app: odd
  ports:
  -   name: web     # several spaces after the dash
      port: 80
  - port: 81

    name: web2      # a blank line inside the item
  -
    name: web3
    port: 82
---
apiVersion: v1
kind: Service
metadata: {name: flow, namespace: shop}
spec: {ports: [{name: web, port: 80}]}
---
apiVersion: v1
kind: Service
metadata:
  name: &anchor anchored
  namespace: shop
spec:
  ports: [
    {name: web, port: 80}
  ]
"""
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    assert _check([str(path)]) >= 5


def test_list_item_documents_only_for_layouts_it_can_follow():
    from meshlint.load import lists
    from meshlint.load.split import split
    from meshlint.resource import Source

    def items(text):
        (doc,) = split(Source("x", text))
        found = lists.item_documents(doc)
        return None if found is None else [d.text for d in found]

    two = {"apiVersion": "v1", "kind": "List", "items": [{"kind": "A", "n": {"x": 1}}, {"kind": "B"}]}
    pretty = json.dumps(two, indent=2)
    assert items(pretty) == ['    {\n      "kind": "A",\n      "n": {\n        "x": 1\n      }\n    }',
                             '    {\n      "kind": "B"\n    }']
    assert items(pretty.replace("\n", "\r\n")) is not None and len(items(pretty.replace("\n", "\r\n"))) == 2
    assert items(json.dumps(two)) is None  # compact: one line, nothing to follow
    assert items(json.dumps({**two, "items": []}, indent=2)) is None
    assert items(json.dumps({**two, "items": [1, 2]}, indent=2)) is None
    assert items("kind: List\nitems: []\n") is None
    assert items("kind: List\nitems:\n- a: 1\n- b: 2\n  c: 3\nmetadata: {}\n") == ["- a: 1\n", "- b: 2\n  c: 3\n"]


def test_a_document_without_finer_positions_is_located_at_its_first_content():
    """Where the parser and the locator report a document they cannot follow: the line after
    blank, comment and `---` lines, at its first character (the document's own first line when
    it holds nothing)."""
    from meshlint.resource import Document, Source

    text = "# a comment\n\n---\n  # another\n  kind: A\n"
    assert Document(Source("x", text), 0, len(text), 5, 0).first_content() == (9, 3)
    assert Document(Source("x", "# only\n\n"), 0, 8, 5, 0).first_content() == (5, 1)
