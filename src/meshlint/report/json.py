"""Machine-readable report: the JSON object of SPEC §3 (a stable interface: keys are added,
never renamed or removed; `column`, 1-based in characters, was added beside `line`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .. import __version__

if TYPE_CHECKING:
    from ..engine import Result
    from ..finding import Finding
    from . import RenderOptions


def finding_dict(f: Finding) -> dict[str, Any]:
    r = f.resource
    out: dict[str, Any] = {
        "code": f.code,
        "name": f.name,
        "variant": f.variant,
        "severity": f.severity.value,
        "resource": None if r is None else {
            "apiVersion": r.api_version,
            "kind": r.kind_name or r.kind,
            "namespace": r.namespace or None,
            "name": r.name,
        },
        # a live object (`--kube`) has no file and line: `resource` names it
        "file": None if r is not None and r.cluster else f.file,
        "line": None if r is not None and r.cluster else f.line,
        "column": None if r is not None and r.cluster else f.column,
        "message": f.message,
        "fix": f.fix,
        "related": [{"kind": ref.kind.rsplit("/", 1)[-1], "namespace": ref.namespace or None, "name": ref.name}
                    for ref in f.related],
        # SPEC §3: what `meshlint fix` can do about it ("safe", "unsafe") or None
        "autofix": f.autofix.applicability.value if f.autofix is not None else None,
    }
    if f.related_omitted:  # (additive: `related` keeps its shape, at most finding.MAX_RELATED entries)
        out["related_omitted"] = f.related_omitted
    if f.evidence:  # only when a live source (--prometheus) adds facts (SPEC §3)
        out["evidence"] = [{"source": e.source, "text": e.text, "query": e.query, "value": e.value}
                           for e in f.evidence]
    return out


def render(result: Result, options: RenderOptions) -> bytes:
    doc = {
        "version": __version__,
        "findings": [finding_dict(f) for f in result.reported],
        "summary": {
            "files": result.files,
            "resources": result.resources,
            "findings": result.counts(),
            "suppressed": len(result.findings) - len(result.reported),
            "skipped": len(result.skipped),
            "cluster": result.cluster or None,  # the kube context read with --kube
        },
    }
    try:
        import orjson
    except ImportError:  # pragma: no cover
        return (json.dumps(doc, indent=2) + "\n").encode()
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
