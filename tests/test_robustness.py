"""Rules never raise, whatever the input: wrong types anywhere become ML002, never a traceback.

Hypothesis takes every document of every rule fixture and of examples/, replaces one field at a
random path with a value of a random type, and checks that the whole pipeline (load, schema,
index, all rules, line location) finishes without an internal error.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshlint.config import Config
from meshlint.engine import check_loaded
from meshlint.load import Loaded
from meshlint.load.objects import add_value
from meshlint.resource import Document, FileOrigin, Source

ROOT = Path(__file__).resolve().parent.parent
def _load_docs() -> list[dict]:
    out = []
    for path in sorted((ROOT / "tests" / "rules").glob("*.yaml")) + sorted((ROOT / "examples").rglob("*.yaml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue  # the ML001 fixture
        out += [d for d in docs if isinstance(d, dict)]
    return out


DOCS = _load_docs()

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.floats(allow_nan=False),
                    st.text(max_size=8), st.sampled_from(["*", "mesh", "STRICT", "5xx", "true", "v1"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _mutate(doc: dict, path: tuple, value) -> dict:
    doc = copy.deepcopy(doc)
    if not path:
        return doc
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return doc


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rules_never_raise_on_wrong_types(data):
    doc = data.draw(st.sampled_from(DOCS))
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    mutated = _mutate(doc, path, data.draw(VALUES))
    # the mutated object among all the others, so cross-resource rules see it too
    others = [d for d in DOCS if d is not doc][:40]
    text = yaml.safe_dump_all([mutated, *others], sort_keys=False)
    source = Source("fuzz.yaml", text)
    loaded = Loaded(sources=[source])
    for i, item in enumerate(yaml.safe_load_all(text)):
        add_value(loaded, item, FileOrigin(Document(source, 0, len(text), 1, i)), "default")
    result = check_loaded(loaded, Config())
    assert not result.internal_errors, result.internal_errors
