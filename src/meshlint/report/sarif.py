"""SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers (SPEC §3).

The output validates against the OASIS schema (`shared/schemas/sarif-schema-2.1.0.json`).
`tool.driver.rules` carries the whole catalogue with its documentation, so a viewer can explain
every rule, not only those that fired. Suppressed findings are kept, with a `suppressions`
entry (`inSource` for annotations, `external` for the configuration), as SARIF intends; a
viewer hides them by default. Resources that a finding refers to (`related`) have no file of
their own in the finding, so they are given as logical locations (the first ten; the result's
`properties.relatedOmitted` counts the others). Columns count characters
(`columnKind: unicodeCodePoints`), as the other formats do.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .. import __version__, docs
from .. import rules as catalogue
from ..docs import help_uri, page_markdown, rule_page
from . import live_place

if TYPE_CHECKING:
    from ..engine import Result
    from ..finding import Finding, Rule
    from . import RenderOptions

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "meshlintFindingHash/v1"
SRCROOT = "%SRCROOT%"

LEVELS = {"error": "error", "warning": "warning", "info": "note"}

# Positions quoted in a message (a parser's "on line 41") move with the text around them.
_POSITION = re.compile(r"\b(line|column) \d+")
SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0", "info": "2.0"}
MAX_FULL_DESCRIPTION = 1000  # GitHub truncates longer rule descriptions


def render(result: Result, options: RenderOptions) -> bytes:
    return (json.dumps(sarif_log(result), indent=2, ensure_ascii=False) + "\n").encode()


def sarif_log(result: Result) -> dict[str, Any]:
    rules = list(catalogue.ALL)
    index = {rule.code: i for i, rule in enumerate(rules)}
    fingerprints = _fingerprints(result.findings)
    driver: dict[str, Any] = {"name": "meshlint", "version": __version__, "semanticVersion": __version__}
    if docs.DOCS_URL:
        driver["informationUri"] = docs.DOCS_URL
    driver["rules"] = [rule_descriptor(rule) for rule in rules]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "invocations": [_invocation(result)],
        "results": [_result(f, index, fp) for f, fp in zip(result.findings, fingerprints)],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    severity = rule.severity.value
    tags = ["service-mesh", "istio", *catalogue.area(rule).tags]
    properties: dict[str, Any] = {"tags": tags, "precision": "high"}
    if "security" in tags:
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": full_description(rule)},
        "messageStrings": {v.name: {"text": v.message} for v in rule.variants},
        "help": {"text": rule_page(rule), "markdown": help_markdown(rule)},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": properties,
    }
    if uri := help_uri(rule):
        descriptor["helpUri"] = uri
    return descriptor


def full_description(rule: Rule) -> str:
    """The doc page's introduction: the summary line and the paragraph(s) before `## Why`,
    joined into plain sentences (rule docs wrap at 100 columns)."""
    intro = rule.doc.split("\n## ", 1)[0]
    text = " ".join(intro.split())
    if len(text) <= MAX_FULL_DESCRIPTION:
        return text
    cut = text.rfind(". ", 0, MAX_FULL_DESCRIPTION - 1)
    if cut > 0:
        return text[:cut + 1]
    return text[:MAX_FULL_DESCRIPTION - 1].rsplit(" ", 1)[0] + "…"


def help_markdown(rule: Rule) -> str:
    summary = rule.doc.partition("\n")[0].strip()
    uri = help_uri(rule)
    also = f", or see the [rule documentation]({uri})" if uri else ""
    return (f"**{rule.code} {rule.name}** (default severity: `{rule.severity.value}`)\n\n{summary}\n\n"
            f"{page_markdown(rule)}\nRun `meshlint rule {rule.code}` for this page in a terminal{also}.\n")


def artifact_location(file: str) -> dict[str, Any]:
    """A file as given on the command line, as a URI reference: relative paths stay relative
    (against the checkout root, %SRCROOT%), with forward slashes; absolute ones become file
    URIs; stdin ("-") is "stdin"."""
    if file in ("-", ""):
        return {"uri": "stdin"}
    if PureWindowsPath(file).drive or file.startswith("\\\\"):
        return {"uri": PureWindowsPath(file).as_uri()}
    path = file.replace("\\", "/")
    if path.startswith("/"):
        return {"uri": PurePosixPath(path).as_uri()}
    while path.startswith("./"):
        path = path[2:]
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def _result(f: Finding, index: dict[str, int], fingerprint: str) -> dict[str, Any]:
    where = f"{f.resource.display()}: " if f.resource is not None else ""
    location: dict[str, Any]
    if f.resource is not None and f.resource.cluster:  # a live object: no file, only the object
        r = f.resource
        where = f"{live_place(f)}: "
        location = {"logicalLocations": [{
            "name": f"{r.namespace}/{r.name}" if r.namespace else r.name, "kind": "resource",
            "fullyQualifiedName": "/".join(p for p in (r.kind_name or r.kind, r.namespace, r.name) if p)}]}
    else:
        region = {"startLine": max(1, f.line)}
        if f.column:
            region["startColumn"] = f.column
        location = {"physicalLocation": {"artifactLocation": artifact_location(f.file), "region": region}}
        if f.resource is not None:
            location["logicalLocations"] = [_logical(f.resource.display())]
    out: dict[str, Any] = {
        "ruleId": f.code,
        "level": LEVELS[f.severity.value],
        "message": {"text": f"{where}{f.message}\nFix: {f.fix}"
                    + "".join(f"\nEvidence ({e.source}): {e.text}" for e in f.evidence)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {"variant": f.variant},
    }
    if f.evidence:
        out["properties"]["evidence"] = [{"source": e.source, "text": e.text, "query": e.query, "value": e.value}
                                         for e in f.evidence]
    if f.code in index:
        out["ruleIndex"] = index[f.code]
    if f.related:
        out["relatedLocations"] = [
            {"id": i, "logicalLocations": [_logical(ref.display())],
             "message": {"text": f"related: {ref.display()}"}}
            for i, ref in enumerate(f.related, start=1)
        ]
    if f.related_omitted:
        out["properties"]["relatedOmitted"] = f.related_omitted
    if f.offered and f.autofix is not None:
        out["fixes"] = [_fix(f)]
    if f.suppressed:
        kind = "inSource" if f.suppressed.startswith("annotation") else "external"
        out["suppressions"] = [{"kind": kind, "justification": f.suppressed}]
    return out


def _fix(f: Finding) -> dict[str, Any]:
    """SARIF `fixes`: the replacements a code-scanning UI can apply, grouped by file, with what
    the fix does and whether `meshlint fix` holds it safe (an unsafe one changes behaviour)."""
    assert f.autofix is not None
    safety = f.autofix.applicability.value
    changes: dict[str, list[dict[str, Any]]] = {}
    for edit in f.offered:
        changes.setdefault(edit.file, []).append({
            "deletedRegion": {"startLine": edit.start_line, "startColumn": edit.start_column,
                              "endLine": edit.end_line, "endColumn": edit.end_column},
            "insertedContent": {"text": edit.text},
        })
    what = f.autofix.description or f.fix
    return {"description": {"text": f"{safety.capitalize()} fix: {what}"},
            "artifactChanges": [{"artifactLocation": artifact_location(file), "replacements": replacements}
                                for file, replacements in changes.items()],
            "properties": {"applicability": safety}}


def _logical(name: str) -> dict[str, Any]:
    return {"name": name, "fullyQualifiedName": name, "kind": "resource"}


def _identity(f: Finding) -> str:
    """What a finding is about, independent of its line: the rule, the resource (or, for input
    problems without one, the file) and the message, without the positions it quotes."""
    if f.resource is not None:
        r = f.resource
        subject = f"{r.kind_name or r.kind}\0{r.namespace}\0{r.name}"
    else:
        subject = f"file\0{f.file}"
    message = _POSITION.sub(r"\1 #", f.message)
    return f"{f.code}\0{subject}\0{message}"


def _fingerprints(findings: list[Finding]) -> list[str]:
    """A stable hash per finding, so code scanning can follow it across runs when lines move.
    Identical findings (same rule, resource and message) are told apart by their order."""
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        ident = _identity(f)
        n = seen.get(ident, 0)
        seen[ident] = n + 1
        digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
        out.append(f"{digest}:{n + 1}")
    return out


def _invocation(result: Result) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": not result.internal_errors}
    notifications = [{"level": "error", "message": {"text": e}} for e in result.internal_errors]
    notifications += [{"level": "note", "message": {"text": n}} for n in result.notes]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
