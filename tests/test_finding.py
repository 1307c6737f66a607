"""Findings are values: each stage after the rules returns new ones, and a finding has room for
structured fixes (for `meshlint fix`) and for evidence from other sources (telemetry)."""

from __future__ import annotations

import dataclasses

import pytest

from meshlint.config import Config
from meshlint.finding import Applicability, Edit, Evidence, Fix
from meshlint.resource import Document, FileOrigin, Ref, Resource, Source
from meshlint.rules import port_protocol_unset as ml101
from meshlint.suppress import apply


def _service(annotations: dict[str, str]) -> Resource:
    raw = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "cart", "namespace": "shop", "annotations": annotations}}
    source = Source("svc.yaml", "")
    return Resource(raw=raw, ref=Ref("Service", "shop", "cart"), api_version="v1",
                    origin=FileOrigin(Document(source, 0, 0, 1, 0)), kind_name="Service", _meta=raw["metadata"])


def test_a_finding_cannot_be_changed_in_place():
    f = ml101.RULE.finding(ml101.SNIFFED, None, port=80, what="has no name", suggestion="http-<suffix>")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.severity = f.severity  # type: ignore[misc]


def test_suppression_returns_new_findings_and_leaves_the_given_ones_alone():
    resource = _service({"meshlint.io/ignore": "ML101"})
    f = ml101.RULE.finding(ml101.SNIFFED, resource, ("spec", "ports", 0), port=80, what="has no name",
                           suggestion="http-<suffix>")
    (out,) = apply([f], Config(), [ml101.RULE])
    assert out.suppressed == "annotation meshlint.io/ignore" and f.suppressed == ""
    assert dataclasses.replace(out, suppressed="") == f


def test_istio_codes_suppress_through_the_rules_that_declare_them():
    resource = _service({"galley.istio.io/analyze-suppress": "IST0118"})
    f = ml101.RULE.finding(ml101.SNIFFED, resource, port=80, what="has no name", suggestion="http-<suffix>")
    assert apply([f], Config(), [ml101.RULE])[0].suppressed == "annotation galley.istio.io/analyze-suppress"
    assert apply([f], Config(), [])[0].suppressed == ""  # no rule claims IST0118: nothing maps


def test_a_finding_carries_its_fix_and_evidence():
    fix = Fix((Edit(("spec", "ports", 0, "name"), "http-web"),), Applicability.SAFE)
    f = ml101.RULE.finding(ml101.SNIFFED, None, ("spec", "ports", 0), autofix=fix, port=80,
                           what="has no name", suggestion="http-web")
    assert f.autofix is fix and f.autofix.applicability is Applicability.SAFE
    seen = Evidence("prometheus", "TCP traffic, no request metrics in 1h", "sum(istio_tcp_sent_bytes_total)", 1200)
    with_evidence = dataclasses.replace(f, evidence=(seen,))
    assert with_evidence.evidence == (seen,) and f.evidence == ()
