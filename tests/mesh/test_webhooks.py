"""mesh.webhooks against istio/istio pkg/config/analysis/analyzers/webhook/webhook.go (the label
combinations, extractRevisions, isIstioWebhook) and Kubernetes' LabelSelectorAsSelector."""

from __future__ import annotations

import pytest

from meshlint.mesh.webhooks import is_istio, label_combinations, overlaps, revisions, selector_matches


@pytest.mark.parametrize("selector,labels,expected", [
    (None, {}, True), ({}, {"a": "b"}, True),  # absent or empty selects everything
    ({"matchLabels": {"a": "b"}}, {"a": "b"}, True), ({"matchLabels": {"a": "b"}}, {}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]}, {}, True),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x"]}]}, {}, False),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": ""}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
    ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, {"a": "2"}, False),
])
def test_selector(selector, labels, expected):
    assert selector_matches(selector, labels) is expected


def test_revisions_and_combinations():
    config = {"metadata": {"labels": {"istio.io/rev": "canary"}}, "webhooks": [
        {"name": "x", "namespaceSelector": {"matchExpressions": [{"key": "istio.io/rev", "operator": "In",
                                                                  "values": ["1-24", "1-25"]}]}}]}
    assert revisions(config) == {"canary", "1-24", "1-25"} and is_istio(config)
    assert not is_istio({"webhooks": [{"name": "vault.hashicorp.com"}]})
    assert is_istio({"webhooks": [{"name": "sidecar-injector.istio.io"}]})
    namespaces, pods = label_combinations(["r"])
    assert len(namespaces) == len(pods) == 6
    assert {"istio-injection": "enabled", "istio.io/rev": "r"} in namespaces
    assert {"sidecar.istio.io/inject": "false", "istio.io/rev": "r"} in pods


def test_same_selectors_overlap_and_exclusive_ones_do_not():
    ns = {"matchLabels": {"istio-injection": "enabled"}}
    a = {"webhooks": [{"name": "a.istio.io", "namespaceSelector": ns}]}
    b = {"webhooks": [{"name": "b.istio.io", "namespaceSelector": ns}]}
    found = overlaps([("a", a), ("b", b)])
    assert found[(0, 0)].others == {"b/b.istio.io"} and found[(1, 0)].others == {"a/a.istio.io"}
    # a namespace labelled both istio-injection=enabled and istio.io/rev=c gets both webhooks...
    c = {"webhooks": [{"name": "c.istio.io", "namespaceSelector": {"matchLabels": {"istio.io/rev": "c"}}}]}
    assert overlaps([("a", a), ("c", c)])[(1, 0)].namespace_labels == {"istio-injection": "enabled",
                                                                       "istio.io/rev": "c"}
    # ... unless the revision's webhook excludes istio-injection, as Istio's chart does
    c["webhooks"][0]["namespaceSelector"]["matchExpressions"] = [{"key": "istio-injection",
                                                                   "operator": "DoesNotExist"}]
    assert overlaps([("a", a), ("c", c)]) == {}
