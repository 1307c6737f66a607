"""One parametrised runner over every rule fixture (see fixtures.py for the format)."""

from __future__ import annotations

import pytest

from fixtures import all_fixtures, compare
from meshlint import rules
from meshlint.config import from_mapping
from meshlint.engine import Inputs, check

FIXTURES = all_fixtures()


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.path.stem for f in FIXTURES])
def test_fixture(fixture):
    config = from_mapping(fixture.config, rules.BY_CODE, where=fixture.path.name)
    result = check(Inputs([str(fixture.path)]), config)
    assert not result.internal_errors, result.internal_errors
    problems = compare(fixture, result.findings)
    assert not problems, f"{fixture.path.name}:\n" + "\n".join(problems)


def test_findings_do_not_depend_on_the_order_of_the_input(tmp_path):
    """The same objects in the opposite order (as a `kubectl get` dump sorts them by kind and
    name, not as the repository lists them): the same findings, word for word."""
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent / "examples"
    docs = [d for p in sorted(root.rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    docs += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
             for name, labels in (("zz-rev", {"istio.io/rev": "1-24"}), ("aa-rev", {"istio.io/rev": "1-24"}),
                                  ("old-injection", {"istio-injection": "enabled"}))]
    key = lambda r: sorted((f.code, f.message, str(f.resource.ref) if f.resource else "") for f in r.findings)
    seen = []
    for order in (docs, docs[::-1]):
        path = tmp_path / "mesh.yaml"
        path.write_text(yaml.safe_dump_all(order))
        seen.append(key(check(Inputs([str(path)]), from_mapping({}, rules.BY_CODE))))
    assert seen[0] == seen[1] and len(seen[0]) > 15
