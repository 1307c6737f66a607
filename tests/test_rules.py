"""One parametrised runner over every rule fixture (see fixtures.py for the format)."""

from __future__ import annotations

import pytest

from fixtures import all_fixtures, compare
from meshlint import rules
from meshlint.config import from_mapping
from meshlint.engine import analyse

FIXTURES = all_fixtures()


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.path.stem for f in FIXTURES])
def test_fixture(fixture):
    config = from_mapping(fixture.config, rules.BY_CODE, where=fixture.path.name)
    result = analyse([str(fixture.path)], config)
    assert not result.internal_errors, result.internal_errors
    problems = compare(fixture, result.findings)
    assert not problems, f"{fixture.path.name}:\n" + "\n".join(problems)
