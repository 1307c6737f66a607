"""mesh.annotations against istio/istio pkg/config/analysis/analyzers/annotations/annotations.go
(istioAnnotation, the catalogue lookup and placement) and pkg/kube/inject/validate.go (the value
checks, with Go's strconv.ParseUint/ParseBool and netip.ParsePrefix)."""

from __future__ import annotations

import pytest

from meshlint.mesh.annotations import (
    CATALOGUE,
    invalid_value,
    is_istio_annotation,
    lookup,
    placed_on,
    suggestion,
)


@pytest.mark.parametrize("key,istio", [
    ("sidecar.istio.io/inject", True), ("istio.io/rev", True), ("networking.istio.io/exportThree", True),
    ("myistio.io/x", True),  # istio tests the suffix without a dot
    ("kubernetes.io/ingress.class", True), ("kubernetes.io/psp", False), ("helm.sh/hook", False),
    ("istio.io.example.com/x", False), ("linkerd.io/inject", False),
])
def test_istio_namespace(key, istio):
    assert is_istio_annotation(key) is istio


def test_catalogue_is_unique_and_placed():
    names = [a.name for a in CATALOGUE]
    assert len(names) == len(set(names))
    inject = lookup("sidecar.istio.io/inject")
    assert inject is not None and inject.deprecated and placed_on(inject, "Pod")
    assert not placed_on(inject, "Deployment") and not placed_on(inject, "Namespace")
    suppress = lookup("galley.istio.io/analyze-suppress")
    assert suppress is not None and placed_on(suppress, "Deployment")  # Any
    assert lookup("sidecar.istio.io/nativeSidecar") is not None


@pytest.mark.parametrize("typed,meant", [
    ("sidecar.istio.io/proxyCpu", "sidecar.istio.io/proxyCPU"),
    ("sidecar.istio.io/injection", "sidecar.istio.io/inject"),
    ("networking.istio.io/exportThree", "networking.istio.io/exportTo"),
    ("policy.istio.io/check", None),
])
def test_suggestion(typed, meant):
    assert suggestion(typed) == meant


@pytest.mark.parametrize("key,value,ok", [
    ("readiness.status.sidecar.istio.io/initialDelaySeconds", "bar", False),  # the istio table case
    ("readiness.status.sidecar.istio.io/periodSeconds", "10", True),
    ("readiness.status.sidecar.istio.io/periodSeconds", "+10", False),  # ParseUint: digits only
    ("readiness.status.sidecar.istio.io/failureThreshold", "4294967296", False),  # 32 bits
    ("status.sidecar.istio.io/port", " 15020 ", True),  # parsePort trims
    ("status.sidecar.istio.io/port", "65536", False),
    ("sidecar.istio.io/interceptionMode", "TPROXY", True),
    ("sidecar.istio.io/interceptionMode", "tproxy", False),
    ("traffic.sidecar.istio.io/includeOutboundIPRanges", "*", True),
    ("traffic.sidecar.istio.io/includeOutboundIPRanges", "", True),
    ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/8,172.16.0.0/12", True),
    ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.1/8", True),  # netip keeps host bits
    ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/8, 172.16.0.0/12", False),  # no trim
    ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.1", False),  # a prefix needs /bits
    ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/08", False),
    ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/33", False),
    ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "fd00::/8", True),
    ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "*", False),  # only include takes *
    ("traffic.sidecar.istio.io/includeInboundPorts", "*", True),
    ("traffic.sidecar.istio.io/excludeInboundPorts", "15020, 8080", True),  # each port trimmed
    ("traffic.sidecar.istio.io/excludeOutboundPorts", "9092,", False),
    ("traffic.sidecar.istio.io/excludeOutboundPorts", "", True),
    ("prometheus.istio.io/merge-metrics", "True", True),
    ("prometheus.istio.io/merge-metrics", "yes", False),  # strconv.ParseBool
    ("proxy.istio.io/config", "{}", True),
    ("proxy.istio.io/config", "holdApplicationUntilProxyStarts: true", True),
    ("proxy.istio.io/config", "[1, 2]", False),
    ("sidecar.istio.io/proxyCPU", "lots", True),  # not validated by the injector
])
def test_values(key, value, ok):
    assert (invalid_value(key, value) == "") is ok
