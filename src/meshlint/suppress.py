"""Suppression: resource annotations and config `ignore-resources` (SPEC §4).

A suppressed finding is kept, marked with the reason, so that reports can count it (and SARIF
can list it as suppressed); it never counts towards the exit code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Config
    from .finding import Finding, Rule

ANNOTATION = "meshlint.io/ignore"
ISTIO_ANNOTATION = "galley.istio.io/analyze-suppress"


def codes_in(annotation: str) -> set[str]:
    return {c.strip().upper() for c in annotation.split(",") if c.strip()}


def istio_code_map(rules: Iterable[Rule]) -> dict[str, set[str]]:
    """`istioctl analyze` message code -> the meshlint codes that share its meaning, as the
    rules declare them (IST0101 ReferencedResourceNotFound covers a missing gateway and a
    missing subset: two rules)."""
    out: dict[str, set[str]] = {}
    for rule in rules:
        for istio in rule.istio_codes:
            out.setdefault(istio, set()).add(rule.code)
    return out


def suppressed_by_annotation(code: str, annotations: Mapping[str, str], istio_codes: Mapping[str, set[str]]) -> str:
    own = annotations.get(ANNOTATION)
    if isinstance(own, str):
        codes = codes_in(own)
        if "*" in codes or code in codes:
            return f"annotation {ANNOTATION}"
    istio = annotations.get(ISTIO_ANNOTATION)
    if isinstance(istio, str):
        codes = codes_in(istio)
        if "*" in codes:
            return f"annotation {ISTIO_ANNOTATION}"
        if any(code in istio_codes.get(ist, ()) for ist in codes):
            return f"annotation {ISTIO_ANNOTATION}"
    return ""


def apply(findings: Iterable[Finding], config: Config, rules: Iterable[Rule]) -> list[Finding]:
    """The findings, each marked with why it is suppressed (unchanged when it is not)."""
    istio_codes = istio_code_map(rules)
    out = []
    for f in findings:
        r = f.resource
        why = ""
        if r is not None:
            why = suppressed_by_annotation(f.code, r.annotations, istio_codes)
            if not why and config.ignore_resources and config.ignored_resource(f.code, r.display()):
                why = "config ignore-resources"
        out.append(replace(f, suppressed=why) if why else f)
    return out
