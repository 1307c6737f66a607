"""mesh.matches: which VirtualService rules and matches are never used. The cases of istio's
table ("dupmatches": virtualservice_dupmatches.yaml and virtualservice_overlappingmatches.yaml,
pkg/config/validation/validation.go analyzeUnreachableHTTPRules) and the catch-all of
pilot/pkg/networking/core/route/route.go (BuildHTTPRoutesForVirtualService), plus the near
misses where a later match still takes requests the earlier one does not."""

from __future__ import annotations

import pytest

from meshlint.mesh.matches import Shadowed, covers, shadowed, string_covers


@pytest.mark.parametrize("a,b,expected", [
    (None, {"exact": "x"}, True),
    ({"prefix": "/api"}, {"prefix": "/api/v2"}, True),
    ({"prefix": "/api"}, {"exact": "/api/v2"}, True),
    ({"prefix": "/api/v2"}, {"prefix": "/api"}, False),
    ({"exact": "GET"}, {"exact": "GET"}, True),
    ({"exact": "GET"}, None, False),  # the later one takes every method
    ({"exact": "abc"}, {"exact": "ab"}, False),  # istioctl's string prefix test says covered
    ({"regex": "/a.*"}, {"regex": "/a.*"}, True),
    ({"regex": "/a.*"}, {"prefix": "/a"}, False),  # regexes are not compared
    ({}, {"exact": "x"}, True),  # presence match
])
def test_string_covers(a, b, expected):
    assert string_covers(a, b) == expected


@pytest.mark.parametrize("a,b,expected", [
    ({"uri": {"prefix": "/"}}, {"uri": {"exact": "/"}, "method": {"exact": "GET"}}, True),
    ({"uri": {"prefix": "/a"}, "method": {"exact": "GET"}}, {"uri": {"prefix": "/a/b"}}, False),
    ({"uri": {"prefix": "/a"}, "sourceLabels": {"app": "x"}}, {"uri": {"prefix": "/a/b"}}, False),
    ({"uri": {"prefix": "/a"}}, {"uri": {"prefix": "/a/b"}, "sourceLabels": {"app": "x"}}, True),
    ({"headers": {"x": {"exact": "1"}}}, {"headers": {"x": {"exact": "1"}, "y": {"exact": "2"}}}, True),
    ({"headers": {"x": {"exact": "1"}, "y": {"exact": "2"}}}, {"headers": {"x": {"exact": "1"}}}, False),
    ({"port": 80}, {"port": 80, "uri": {"prefix": "/"}}, True),
    ({"port": 80}, {"port": 81}, False),
    ({"gateways": ["a", "b"]}, {"gateways": ["a"]}, True),
    ({"gateways": ["a"]}, {}, False),
    ({"uri": {"prefix": "/API"}, "ignoreUriCase": True}, {"uri": {"prefix": "/api/v1"}}, True),
    ({"uri": {"prefix": "/api"}}, {"uri": {"prefix": "/api/v1"}, "ignoreUriCase": True}, False),
    ({"sniHosts": ["a.com"], "port": 443}, {"sniHosts": ["a.com"], "port": 443}, True),
    ({"sniHosts": ["a.com"]}, {"sniHosts": ["b.com"]}, False),
    ({"name": "one", "uri": {"prefix": "/x"}}, {"name": "two", "uri": {"prefix": "/x"}}, True),
])
def test_covers(a, b, expected):
    assert covers(a, b) == expected


def rules(*matches):
    return [{"match": m} if m is not None else {} for m in matches]


def test_duplicate_match_makes_the_rule_unreachable():
    found = list(shadowed(rules([{"uri": {"prefix": "/p"}}], [{"uri": {"prefix": "/p"}}])))
    assert found == [Shadowed(1, None, 0, 0)]


def test_a_second_rule_without_match_is_after_a_catch_all():
    assert list(shadowed(rules(None, None))) == [Shadowed(1, None, 0, None, catch_all=True)]


def test_any_rule_after_a_catch_all_is_unreachable():
    """istioctl only reports a second match-less rule; Istio drops every route after a
    catch-all (route.go)."""
    assert list(shadowed(rules(None, [{"headers": {"x": {"exact": "1"}}}]))) == [
        Shadowed(1, None, 0, None, catch_all=True)]


def test_a_covered_match_of_a_rule_with_a_live_one_is_ineffective():
    found = list(shadowed(rules([{"uri": {"prefix": "/p"}}], [{"uri": {"prefix": "/p"}}, {"uri": {"prefix": "/q"}}])))
    assert found == [Shadowed(1, 0, 0, 0)]


def test_a_match_covered_within_its_own_rule_is_ineffective():
    found = list(shadowed(rules([{"uri": {"prefix": "/api/v1/product"}},
                                 {"uri": {"prefix": "/api/v1/products"}, "method": {"exact": "GET"}}])))
    assert found == [Shadowed(0, 1, 0, 0)]


def test_broader_later_rules_are_used():
    assert not list(shadowed(rules([{"uri": {"prefix": "/api/v2"}}], [{"uri": {"prefix": "/api"}}], None)))
