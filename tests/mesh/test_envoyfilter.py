"""mesh.envoyfilter against istio/istio pkg/config/analysis/analyzers/envoyfilter/envoyfilter.go
(analyzeEnvoyFilterPatch, with istio/istio#59688 for REPLACE on VIRTUAL_HOST) and what istiod
applies (pilot/pkg/networking/core/envoyfilter/rc_patch.go, listener_patch.go)."""

from __future__ import annotations

import pytest

from meshlint.mesh.envoyfilter import has_priority, ignored, relative


@pytest.mark.parametrize("apply_to,operation,is_relative,is_ignored", [
    ("HTTP_FILTER", "INSERT_BEFORE", True, False),
    ("HTTP_FILTER", "INSERT_AFTER", True, False),
    ("HTTP_FILTER", "INSERT_FIRST", False, False),  # absolute (IST0151's own advice)
    ("CLUSTER", "ADD", False, False),
    ("CLUSTER", "MERGE", False, False),
    ("HTTP_FILTER", "REPLACE", True, False),
    ("NETWORK_FILTER", "REPLACE", True, False),
    ("VIRTUAL_HOST", "REPLACE", True, False),  # istio/istio#59688
    ("LISTENER_FILTER", "REPLACE", True, False),  # listener_patch.go replaces listener filters
    ("CLUSTER", "REPLACE", False, True),  # IST0152
    ("LISTENER", "REPLACE", False, True),
    ("ROUTE_CONFIGURATION", "REPLACE", False, True),
    ("ROUTE_CONFIGURATION", "ADD", False, True),  # IST0153
    ("ROUTE_CONFIGURATION", "REMOVE", False, True),  # IST0154
    ("ROUTE_CONFIGURATION", "MERGE", False, False),
    ("HTTP_ROUTE", "ADD", False, False),  # the analyzer says IST0153; patchHTTPRoutes appends it
    ("HTTP_ROUTE", "REMOVE", True, False),  # the analyzer says IST0154; patchHTTPRoute removes it
    ("NETWORK_FILTER", "REMOVE", True, False),
    ("VIRTUAL_HOST", "REMOVE", True, False),
])
def test_operations(apply_to, operation, is_relative, is_ignored):
    assert relative(apply_to, operation) is is_relative
    assert ignored(apply_to, operation) is is_ignored


@pytest.mark.parametrize("spec,expected", [
    ({}, False), ({"priority": 0}, False),  # istio: ef.Priority == 0
    ({"priority": 10}, True), ({"priority": -1}, True), ({"priority": True}, False), ({"priority": "10"}, False),
])
def test_priority(spec, expected):
    assert has_priority(spec) is expected
