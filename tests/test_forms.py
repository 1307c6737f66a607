"""One mesh, every form meshlint reads, the same findings.

The benchmark's generator (benchmarks/generate.py) writes the same objects as a `helm
template`-style stream, a directory of hand-written files, a `kubectl get -A -o yaml` List,
its `-o json` twin, indented and compact (one line), and the dump's objects as a
multi-document stream. A small mesh of them
is large enough for the fast paths (yaml_rs behind the sniff, a List parsed item by item,
orjson per JSON item, the line scanner per List item): every form must give the same
findings, each at the line and column composing its own document gives.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from meshlint.config import Config
from meshlint.engine import Inputs, check
from meshlint.load import parse
from meshlint.locate import compose_position

ROOT = Path(__file__).resolve().parent.parent
FORMS = {"stream": "stream.yaml", "files": "files", "dump.yaml": "dump.yaml", "dump.json": "dump.json",
         "dump-compact": "dump-compact.json", "dump-objects": "dump-objects.yaml"}


@pytest.fixture(scope="module")
def mesh(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    out = tmp_path_factory.mktemp("mesh") / "m"
    meta = generate.generate(300, str(out))
    return out, meta


@pytest.fixture(scope="module")
def results(mesh):
    out, _ = mesh
    return {form: check(Inputs([str(out / rel)]), Config()) for form, rel in FORMS.items()}


def test_the_mesh_takes_the_fast_paths(mesh):
    out, meta = mesh
    for rel in ("stream.yaml", "dump.yaml", "dump.json", "dump-compact.json", "dump-objects.yaml"):
        assert (out / rel).stat().st_size > parse.FAST_PATH_MIN_BYTES, rel
    assert meta["resources"] > 500


def test_every_form_loads_every_object(mesh, results):
    _, meta = mesh
    for form, result in results.items():
        assert result.resources == meta["resources"], form
        assert not [f for f in result.findings if f.code in ("ML001", "ML002")], form


def test_every_form_gives_the_same_findings(results):
    def key(result):
        return Counter((f.code, f.message, f.resource.ref if f.resource else None) for f in result.findings)

    expected = key(results["stream"])
    assert sum(expected.values()) > 30 and len({code for code, _, _ in expected}) >= 8
    for form, result in results.items():
        assert key(result) == expected, form


@pytest.mark.parametrize("form", list(FORMS))
def test_every_finding_points_at_its_field(results, form, field_at):
    """The column lands on the offending key (or list item): in the compact dump, one line of
    1.5 MB, it is all that tells the findings apart."""
    compared = 0
    for f in results[form].findings:
        at = field_at(f)
        if at is None:
            continue
        text, token = at
        assert text.startswith((token, f'"{token}"', f"'{token}'")), (f.code, f.line, f.column, f.path, text[:60])
        compared += 1
    assert compared > 20
    if form == "dump-compact":
        assert {f.line for f in results[form].findings} == {1}


@pytest.mark.parametrize("form", list(FORMS))
def test_every_finding_is_where_composing_its_document_places_it(results, form):
    compared = 0
    for f in results[form].findings:
        if f.resource is None:
            continue
        where = compose_position(f.resource.document, f.resource.prefix + f.path)
        assert (f.line, f.column) == where, (f.code, f.path)
        compared += 1
    assert compared > 20
