"""The loader's seams: what a problem is (its kind, not a rule's code)."""

from __future__ import annotations

from meshlint import rules
from meshlint.load import ProblemKind


def test_every_kind_of_problem_is_reported_by_the_rule_that_declares_it():
    assert set(rules.FOR_PROBLEM) == set(ProblemKind)
    for kind, rule in rules.FOR_PROBLEM.items():
        assert not kind.value.startswith("ML"), kind  # the loader knows no rule codes
        assert rules.BY_CODE[rule.code] is rule
