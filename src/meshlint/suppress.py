"""Suppression: resource annotations and config `ignore-resources` (SPEC §4).

A suppressed finding is kept, marked with the reason, so that reports can count it (and SARIF
can list it as suppressed); it never counts towards the exit code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Config
    from .finding import Finding

ANNOTATION = "meshlint.io/ignore"
ISTIO_ANNOTATION = "galley.istio.io/analyze-suppress"

# istioctl analyze message codes whose meaning a meshlint rule shares.
ISTIO_CODES = {
    "IST0118": ("ML101",),  # PortNameIsNotUnderNamingConvention
    "IST0150": ("ML101",),  # ExternalNameServiceTypeInvalidPortName
    "IST0132": ("ML103",),  # VirtualServiceHostNotFoundInGateway
}
# IST0101 ReferencedResourceNotFound covers both a missing gateway and a missing subset.
ISTIO_REFERENCED_NOT_FOUND = "IST0101"


def codes_in(annotation: str) -> set[str]:
    return {c.strip().upper() for c in annotation.split(",") if c.strip()}


def suppressed_by_annotation(code: str, annotations: dict) -> str:
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
        mapped = {c for ist in codes for c in ISTIO_CODES.get(ist, ())}
        if ISTIO_REFERENCED_NOT_FOUND in codes:
            mapped |= {"ML102", "ML105"}
        if code in mapped:
            return f"annotation {ISTIO_ANNOTATION}"
    return ""


def apply(findings: list["Finding"], config: "Config") -> None:
    for f in findings:
        r = f.resource
        if r is None:
            continue
        why = suppressed_by_annotation(f.code, r.annotations)
        if not why and config.ignore_resources:
            ident = f"{r.kind_name or r.kind} {r.namespace}/{r.name}" if r.namespace else f"{r.kind_name or r.kind} {r.name}"
            if config.ignored_resource(f.code, ident):
                why = "config ignore-resources"
        f.suppressed = why
