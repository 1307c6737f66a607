"""The pipeline: sources -> resources -> index -> rules -> findings -> filters -> located.

Data flows one way. Rules only read the index; suppression and configuration are applied to
their findings afterwards; reports only see the final list.
"""

from __future__ import annotations

import gc
import sys
import traceback
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Callable, Iterable

from . import rules as rule_catalogue
from . import suppress
from .config import Config
from .finding import Finding, Severity
from .index import Index
from .load import Loaded, load
from .mesh.namespaces import is_system_namespace


@dataclass
class Result:
    findings: list[Finding]  # reported and suppressed, sorted by file and line
    files: int
    resources: int
    notes: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    rules: list = field(default_factory=list)  # the rules that ran (enabled by the configuration)

    @property
    def reported(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
        for f in self.reported:
            out[f.severity.value] += 1
        return out

    def failed(self, threshold: Severity | None) -> bool:
        if threshold is None:
            return False
        return any(f.severity.rank >= threshold.rank for f in self.reported)


def analyse(paths: Iterable[str], config: Config, stdin: BinaryIO | None = None,
            progress: Callable[[int, int], None] | None = None) -> Result:
    """Load `paths` and analyse them. Raises LoadError for unreadable paths.

    The cyclic garbage collector is paused meanwhile: parsing creates millions of containers
    (trees, no cycles), and every full collection would walk all of them again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return analyse_loaded(load(paths, config.default_namespace, stdin, progress), config)
    finally:
        if enabled:
            gc.enable()


def analyse_loaded(loaded: Loaded, config: Config) -> Result:
    env = config.env if config.env.default_namespace == config.default_namespace else \
        replace(config.env, default_namespace=config.default_namespace)
    index = Index(loaded.resources, loaded.problems, env)
    findings: list[Finding] = []
    errors: list[str] = []
    for rule in rule_catalogue.ALL:
        if not config.is_enabled(rule):
            continue
        options = config.options_for(rule)
        severity = config.severity.get(rule.code)
        try:
            for finding in rule.check(index, options):
                if severity is not None:
                    finding.severity = severity
                findings.append(finding)
        except Exception:  # noqa: BLE001 - a rule bug must not lose the other rules' findings
            errors.append(f"internal error in rule {rule.code} ({rule.name}); please report it:\n"
                          + traceback.format_exc(limit=-3))
    findings = [f for f in findings if not _in_system_namespace(f) and _in_scope(f, config.namespace)]
    suppress.apply(findings, config)
    _locate(findings)
    findings.sort(key=Finding.sort_key)
    return Result(findings, files=len(loaded.sources), resources=loaded.count,
                  notes=loaded.notes, internal_errors=errors,
                  rules=[r for r in rule_catalogue.ALL if config.is_enabled(r)])


def _in_scope(finding: Finding, namespace: str | None) -> bool:
    """--namespace: analysis saw everything; the report keeps that namespace, cluster-scoped
    resources, and input problems that belong to no resource."""
    if namespace is None or finding.resource is None:
        return True
    return finding.resource.namespace in ("", namespace)


def _in_system_namespace(finding: Finding) -> bool:
    return finding.resource is not None and is_system_namespace(finding.resource.namespace)


def _locate(findings: list[Finding]) -> None:
    """Fill in file and line, composing only the documents that have findings."""
    if not findings:
        return
    from .locate import Locator

    locator = Locator()
    for f in findings:
        if f.resource is not None:
            doc, path = f.resource.document, f.resource.prefix + f.path
        elif f.document is not None:
            doc, path = f.document, f.path
        else:  # pragma: no cover - every finding has one or the other
            continue
        f.file = doc.source.name
        if not f.line:
            f.line = locator.line(doc, path)


def print_internal_errors(result: Result) -> None:
    for error in result.internal_errors:
        print(f"meshlint: {error}", file=sys.stderr)
