"""The engine: one entry point per command, each reading its inputs and building the index once.

Data flows one way: sources -> resources -> index -> rules -> findings -> severity overrides ->
scope -> suppression -> located (file, line and column) -> reports. Rules only read the index; each
stage after them returns new findings and changes none it was given; reports only see the
final `Result`.

- `check`: the findings of every enabled rule (and the call graph, for the HTML report);
- `graph`: the service call graph, for `meshlint graph`;
- `simulate`: a what-if retry storm over that graph;
- `fix`: the fixes the findings declare, applied and verified (`fix/`);
- `effective_config`: what `--show-config` prints.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, BinaryIO

from . import baseline, suppress
from . import rules as rule_catalogue
from .config import Config, Facts, effective
from .finding import Finding, Rule, Severity
from .index import Index
from .load import Loaded, Problem, Skipped, load
from .load.bounded import DEFAULT_MAX_FILE_SIZE
from .load.context_files import ContextFiles, read_context
from .mesh.namespaces import is_system_namespace
from .resource import Document, FieldPath, FileOrigin

if TYPE_CHECKING:
    from .evidence.prometheus import PrometheusSource, Telemetry
    from .fix.model import FixResult
    from .graph.model import CallGraph
    from .load.kube import KubeTarget
    from .mesh.callgraph import Graph
    from .simulate.model import FixPolicy
    from .simulate.model import Result as SimulationRun

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Inputs:
    """What a command reads: manifest paths (`-` for stdin, named `stdin_name` in findings), and
    the files that describe their context (`--mesh-config`, `--call-graph`)."""

    paths: Sequence[str]
    mesh_config: str | None = None
    call_graph: str | None = None
    stdin: BinaryIO | None = None
    stdin_name: str = "-"
    # read for what they define (Gateways, DestinationRules, Namespaces), never reported on:
    # the repository around the changed files of a pre-commit run
    context_dirs: Sequence[str] = ()
    baseline: str | None = None  # findings recorded there are suppressed (`baseline.py`)
    # `--kube`: the live cluster, which the paths overlay (`load/kube.py`)
    kube: KubeTarget | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes of one file (or stdin): a larger one is an error
    prometheus: PrometheusSource | None = None  # --prometheus: observed calls and evidence on findings


@dataclass
class Result:
    findings: list[Finding]  # reported and suppressed, sorted by file and position
    files: int
    resources: int
    notes: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)  # a line that says what, then the traceback
    rules: list[Rule] = field(default_factory=list)  # the rules that ran (enabled by the configuration)
    skipped: list[Skipped] = field(default_factory=list)  # documents that are not objects to analyse
    # what the rules' injection decisions assumed about namespaces the input does not hold
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the run itself, e.g. a --namespace with nothing
    call_graph: CallGraph | None = None  # only when asked for (the HTML report draws it)
    cluster: str = ""  # the kube context the live objects were read through (`--kube`)

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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing creates millions of containers (trees, no cycles), and every full collection of
    the cyclic garbage collector would walk all of them again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check(inputs: Inputs, config: Config, progress: Progress | None = None, *, call_graph: bool = False,
          offer_fixes: bool = False) -> Result:
    """`meshlint check`, with the call graph in the result when `call_graph` is set, and each
    fix as text edits when `offer_fixes` is (SARIF). Raises LoadError (unreadable path),
    ContextFileError, BaselineError or PrometheusError."""
    context = read_context(inputs.mesh_config, inputs.call_graph, inputs.max_file_size)
    base = inputs.baseline
    recorded = baseline.read(base) if base is not None else None  # read first: a bad one ends the run now
    telemetry = _telemetry(inputs)
    try:
        with _gc_paused():
            # no local holds what was loaded: it is freed (by reference counting) when the analysis
            # returns, before the collector is on again and would walk all of it once more
            # with --kube: the kinds the enabled rules read, and those of the call graph when it is drawn
            readers = _readers(r for r in rule_catalogue.ALL
                               if config.is_enabled(r) or (call_graph and r.code == CALL_GRAPH_RULE))
            result = check_loaded(_load(inputs, config, progress, readers), config, context, telemetry,
                                  call_graph=call_graph, offer_fixes=offer_fixes)
    finally:
        if telemetry is not None:
            telemetry.close()
    if base is None or recorded is None:
        return result
    findings, gone = baseline.apply(result.findings, recorded, base)
    notes = result.notes + ([f"{gone} finding(s) of baseline {base} no longer occur: write it again with "
                             "--write-baseline to keep it tight"] if gone else [])
    return replace(result, findings=findings, notes=notes)


def _load(inputs: Inputs, config: Config, progress: Progress | None = None,
          readers: Mapping[str, Sequence[str]] | None = None, texts: Mapping[str, bytes] | None = None) -> Loaded:
    """The PATHs (`texts`: the bytes to read instead of some of them), and the objects of the
    context directories' files that are not among them (`Loaded.context`: analysed, never
    reported on); with `--kube`, over the live objects of the kinds that `readers` read (kind
    -> rule codes). Raises ClusterError."""
    if inputs.kube is None:
        return _load_files(inputs, config.facts.default_namespace, progress, texts)
    from .load import kube

    cluster = kube.connect(inputs.kube)
    # objects of the files without a namespace go where `kubectl apply` would put them
    namespace = config.facts.default_namespace
    if namespace == Facts().default_namespace:
        namespace = cluster.namespace
    files = _load_files(inputs, namespace, progress, texts) if inputs.paths or inputs.context_dirs else Loaded()
    live = kube.read(cluster, readers if readers is not None else _readers(rule_catalogue.ALL),
                     config.facts.root_namespace, namespace)
    return kube.overlay(live, files)


def _readers(rules: Iterable[Rule]) -> dict[str, list[str]]:
    """Kind -> the codes of the rules that read it (`Rule.inputs`): what `--kube` lists."""
    out: dict[str, list[str]] = {}
    for rule in rules:
        for kind in rule.inputs:
            out.setdefault(kind, []).append(rule.code)
    return out


def _load_files(inputs: Inputs, default_namespace: str, progress: Progress | None = None,
                texts: Mapping[str, bytes] | None = None) -> Loaded:
    loaded = load(inputs.paths, default_namespace, inputs.stdin, progress, inputs.stdin_name, inputs.max_file_size,
                  texts)
    if not inputs.context_dirs:
        return loaded
    given = {os.path.realpath(s.path) for s in loaded.sources if s.path is not None}
    around = load(inputs.context_dirs, default_namespace, max_file_size=inputs.max_file_size)
    context = [s for s in around.sources if s.path is None or os.path.realpath(s.path) not in given]
    keep = {id(s) for s in context}
    return replace(loaded, resources=loaded.resources + [r for r in around.resources if id(r.source) in keep],
                   context=context)


NO_CONTEXT = ContextFiles()
CALL_GRAPH_RULE = "ML302"  # retry-amplification: the rule that reads the call graph `graph` draws


def _telemetry(inputs: Inputs) -> Telemetry | None:
    """The `--prometheus` server (an unreachable one ends the run before anything is read:
    PrometheusError), asked for the calls it saw while the manifests are read."""
    if inputs.prometheus is None:
        return None
    from .evidence.prometheus import Telemetry

    telemetry = Telemetry.connect(inputs.prometheus)
    telemetry.prefetch("calls")
    return telemetry


def check_loaded(loaded: Loaded, config: Config, context: ContextFiles = NO_CONTEXT,
                 telemetry: Telemetry | None = None, *, call_graph: bool = False, offer_fixes: bool = False) -> Result:
    """The findings on what was already loaded (none on `loaded.context`, which only informs),
    with the evidence `telemetry` adds to them, its call graph when `call_graph` is set, and
    each fix as text edits when `offer_fixes` is."""
    index = _index(loaded, config, context, telemetry)
    enabled = [r for r in rule_catalogue.ALL if config.is_enabled(r)]
    found, errors = _run(enabled, index, config)
    if loaded.context:
        context_sources = {id(s) for s in loaded.context}
        found = [f for f in found if f.source is None or id(f.source) not in context_sources]
    in_scope = [f for f in found if not _in_system_namespace(f) and _in_scope(f, config.namespace)]
    notes = loaded.notes
    if telemetry is not None:
        from .evidence.attach import attach

        in_scope = attach(in_scope, index, telemetry)
        notes = notes + telemetry.notes
    suppressed = suppress.apply(in_scope, config, rule_catalogue.ALL)
    located = sorted(_locate(suppressed), key=Finding.sort_key)
    if offer_fixes:
        from .fix.offer import offer

        located = offer(loaded, located)
    warnings = _undefined_call_graph_hosts(index.call_graph()) if index.call_edges else []
    if not loaded.count and not loaded.problems and not loaded.cluster:
        files = len(loaded.sources)
        warnings.append("nothing to check: no Kubernetes object in the input" if files else
                        "nothing to check: no .yaml, .yml or .json file in the input")
    if config.namespace is not None and not index.holds_namespace(config.namespace):
        warnings.append(f"--namespace {config.namespace}: nothing of that namespace is in the input, so "
                        "nothing is reported")
    view = _call_graph_view(index, config, [], [], telemetry) if call_graph else None
    return Result(located, files=len(loaded.sources), resources=loaded.count, notes=notes,
                  internal_errors=errors, rules=enabled, assumptions=index.assumptions(), warnings=warnings,
                  skipped=loaded.skipped, call_graph=view, cluster=loaded.cluster)


def _index(loaded: Loaded, config: Config, context: ContextFiles, telemetry: Telemetry | None = None) -> Index:
    return Index(loaded.resources, loaded.problems, config.facts, context.mesh_config, context.call_edges,
                 telemetry.edges() if telemetry is not None else ())


def _run(enabled: list[Rule], index: Index, config: Config) -> tuple[list[Finding], list[str]]:
    """Every enabled rule's findings, at the severity the configuration gives its code."""
    findings: list[Finding] = []
    errors: list[str] = []
    for rule in enabled:
        options = config.options_for(rule)
        severity = config.severity.get(rule.code)
        try:
            for finding in rule.check(index, options):
                findings.append(finding if severity is None else replace(finding, severity=severity))
        except Exception as exc:
            what = (str(exc).splitlines() or [""])[0][:200]
            errors.append(f"internal error in rule {rule.code} ({rule.name}): {type(exc).__name__}"
                          f"{': ' if what else ''}{what}; please report it\n" + traceback.format_exc(limit=-3))
    return findings, errors


def _undefined_call_graph_hosts(graph: Graph) -> list[str]:
    """Hosts of the --call-graph file that nothing defines: likely typos, said out loud."""
    return [f"--call-graph: {host} (edge {edge.source} → {edge.target}) is no Service or ServiceEntry host "
            "of the input, nor in known-hosts; the hop is kept, but check the name"
            for host, edge in graph.undefined.items()]


def _in_scope(finding: Finding, namespace: str | None) -> bool:
    """--namespace: analysis saw everything; the report keeps what belongs to that namespace
    (its resources and its own Namespace object: SPEC §1), and input problems that belong to
    no resource. Other cluster-scoped objects (another team's Namespace, webhooks) are not
    that team's to fix."""
    if namespace is None or finding.resource is None:
        return True
    r = finding.resource
    return r.namespace == namespace or (r.kind == "Namespace" and r.name == namespace)


def _in_system_namespace(finding: Finding) -> bool:
    return finding.resource is not None and is_system_namespace(finding.resource.namespace)


def _locate(findings: list[Finding]) -> list[Finding]:
    """The findings with file, line and column, reading only the documents that have findings.
    The findings of one document are located together, so that what the locator learns of a
    document is dropped before the next: per item of a 200,000-item List, it held 3 KB."""
    if not findings:
        return findings
    from .locate import Locator

    locator = Locator()
    out = list(findings)
    of_document: dict[int, list[tuple[int, Document, FieldPath]]] = defaultdict(list)
    for i, f in enumerate(findings):
        if f.resource is not None:
            origin = f.resource.origin
            if not isinstance(origin, FileOrigin):  # a live object: no text to point into (yet)
                out[i] = replace(f, file="", line=0, column=0)
                continue
            doc, path = origin.document, origin.prefix + f.path
        elif f.document is not None:
            doc, path = f.document, f.path
        else:  # pragma: no cover - every finding has one or the other
            continue
        of_document[id(doc)].append((i, doc, path))
    for located in of_document.values():
        for i, doc, path in located:
            f = out[i]
            line, column = (f.line, f.column) if f.line else locator.position(doc, path)
            out[i] = replace(f, file=doc.source.name, line=line, column=column)
    return out


# --- fix ------------------------------------------------------------------------------------


def fix(inputs: Inputs, config: Config, unsafe: bool = False, write: bool = True) -> FixResult:
    """`meshlint fix`: apply the fixes the selected findings declare (the safe ones, and the
    unsafe ones too with `unsafe`), each verified, the input checked again after each round
    with every rule (`fix/run.py`); `write`: write the changed files back (stdin's fixed
    stream is the caller's to print). Raises LoadError or ContextFileError."""
    from .fix.run import Originals, run
    from .load import LoadError
    from .load.bounded import TooLarge, format_size, read_within

    context = read_context(inputs.mesh_config, inputs.call_graph, inputs.max_file_size)
    originals = Originals()
    if "-" in inputs.paths:
        try:  # read once, checked many times
            originals["-"] = read_within(inputs.stdin or sys.stdin.buffer, inputs.max_file_size)
        except TooLarge:
            raise LoadError(f"-: over the {format_size(inputs.max_file_size)} limit (set it with "
                            "--max-file-size)") from None
    every_rule = replace(config, select=("ML",), ignore=(), namespace=None)

    def analyse(texts: Mapping[str, bytes]) -> tuple[Loaded, Result]:
        read = {"-": originals["-"], **texts} if "-" in originals else texts
        with _gc_paused():
            loaded = _load(inputs, config, texts=read)
            return loaded, check_loaded(loaded, every_rule, context)

    def selected(finding: Finding) -> bool:
        rule = rule_catalogue.BY_CODE.get(finding.code)
        return rule is not None and config.is_enabled(rule) and _in_scope(finding, config.namespace)

    outcome = run(analyse, selected, unsafe, originals)
    if "-" in originals:
        outcome.stdin = next((c.after for c in outcome.changes if c.path is None), originals["-"])
    if write:
        for change in outcome.changes:
            if change.path is not None:
                with open(change.path, "wb") as fh:
                    fh.write(change.after)
    return outcome


# --- graph and simulate --------------------------------------------------------------------


def graph(inputs: Inputs, config: Config) -> CallGraph:
    """`meshlint graph` (and `simulate`'s graph). Raises LoadError, ContextFileError or
    PrometheusError."""
    context = read_context(inputs.mesh_config, inputs.call_graph, inputs.max_file_size)
    telemetry = _telemetry(inputs)
    try:
        with _gc_paused():  # with --kube: what ML302's call graph reads
            readers = _readers([rule_catalogue.BY_CODE[CALL_GRAPH_RULE]])
            return _graph_of(_load(inputs, config, readers=readers), config, context, telemetry)
    finally:
        if telemetry is not None:
            telemetry.close()


def _graph_of(loaded: Loaded, config: Config, context: ContextFiles, telemetry: Telemetry | None) -> CallGraph:
    """The call graph of what was loaded. (A function of its own, so that the index and all
    that was loaded are freed when it returns, before the collector is on again.)"""
    index = _index(loaded, config, context, telemetry)
    view = _call_graph_view(index, config, loaded.notes,
                            [_skipped(p) for p in loaded.problems] + _undefined_call_graph_hosts(index.call_graph()),
                            telemetry)
    if telemetry is not None:
        view.notes = view.notes + telemetry.notes
    return view


def _call_graph_view(index: Index, config: Config, notes: list[str], warnings: list[str],
                     telemetry: Telemetry | None = None) -> CallGraph:
    """The call graph as the graph views show it: with the amplification limit ML302 applies,
    and the request rates `telemetry` saw into each service."""
    from .graph.build import build
    from .rules import retry_amplification

    limit = float(config.options_for(retry_amplification.RULE)["max-amplification"])
    view = build(index, config.facts, notes, warnings, limit)
    if telemetry is not None:
        view.observed_rps = telemetry.requests().into()
        view.span = telemetry.span
    return view


@dataclass(frozen=True)
class Storm:
    """What `meshlint simulate` is asked: which service fails and how, and the traffic."""

    fail: str  # the failing service, as the user names it (`payment.payments`, an FQDN)
    status: str = "503"  # how it fails: simulate.model.STATUSES
    entry: str | None = None  # where requests enter; None: the entry that amplifies most
    # requests per second into the entry; None: the rate --prometheus observed there, else 100
    rps: float | None = 100.0
    duration: float = 10.0


@dataclass
class SimulateResult:
    """The call graph, and either the two runs (as configured, and with the fixes) or why
    there are none."""

    call_graph: CallGraph
    current: SimulationRun | None = None
    fixed: SimulationRun | None = None
    fixes: FixPolicy | None = None
    problem: str = ""  # a service not in the graph, nothing calls it, or a run too large


def simulate(inputs: Inputs, config: Config, storm: Storm) -> SimulateResult:
    """`meshlint simulate`: the retry storm over the input's call graph, as configured and with
    the suggested fixes. Raises LoadError, ContextFileError or PrometheusError."""
    from .simulate.model import FIXES
    from .simulate.run import Simulation, TooLarge, choose_entry

    view = graph(inputs, config)
    failed = view.find(storm.fail)
    if failed is None:
        known = ", ".join(sorted(view.names.values())) or "none"
        return SimulateResult(view, problem=f"--fail {storm.fail}: not a service of the call graph (services: {known})")
    if storm.entry:
        entry = view.find(storm.entry)
        if entry is None:
            return SimulateResult(view, problem=f"--entry {storm.entry}: not a service of the call graph")
    else:
        entry = choose_entry(view.graph, failed, view.exposed)
        if entry is None:
            return SimulateResult(view, problem=f"nothing in the call graph calls {view.names[failed]}")
    rps = storm.rps if storm.rps is not None else _observed_rps(view, entry, storm.duration)
    try:
        current, fixed = (Simulation(view.graph, entry, failed, storm.status, rps, storm.duration, fixes).run()
                          for fixes in (None, FIXES))
    except TooLarge as exc:
        return SimulateResult(view, problem=str(exc))
    return SimulateResult(view, current, fixed, FIXES)


DEFAULT_RPS = 100.0


def _observed_rps(view: CallGraph, entry: str, duration: float) -> float:
    """The requests per second --prometheus saw into the entry (or, for a caller that is no
    service, a load generator, out of it), said in a note; else 100 (also when the observed
    rate would not make one request in `duration` seconds)."""
    from .simulate.model import requests

    name = view.names.get(entry, entry)
    observed = view.observed_rps.get(entry, 0.0) or sum(
        rate for rate, unit in (e.observed or (0.0, "") for e in view.graph.out.get(entry, ())) if unit == "req/s")
    if observed > 0 and requests(observed, duration) > 0:
        view.notes.append(f"--rps {observed:.3g}: the request rate into {name} {view.span} (--prometheus)")
        return observed
    if observed > 0:
        view.notes.append(f"--rps {DEFAULT_RPS:g}: the {observed:.3g} req/s --prometheus saw into {name} "
                          f"{view.span} is less than one request in --duration {duration:g}s")
    elif view.observed_rps:
        view.notes.append(f"--rps {DEFAULT_RPS:g}: --prometheus saw no requests into {name} {view.span}")
    return DEFAULT_RPS


def _skipped(problem: Problem) -> str:
    """An input problem as `graph` and `simulate` mention it: the code `check` reports it under."""
    code = rule_catalogue.FOR_PROBLEM[problem.kind].code
    origin = problem.origin
    if isinstance(origin, FileOrigin):
        where = f"{origin.document.source.name}:{problem.line or origin.document.line}"
    else:  # a live object has no file: name the kube context it was read through
        where = f"context {origin.context}"
    return f"{where}: {code} {problem.message} (skipped; `meshlint check` reports it)"


def effective_config(inputs: Inputs, config: Config) -> str:
    """What `--show-config` prints: the configuration, and the context files given beside it.
    Raises ContextFileError."""
    context = read_context(inputs.mesh_config, inputs.call_graph, inputs.max_file_size)
    return effective(config, rule_catalogue.BY_CODE, context.mesh_config.name if context.mesh_config else "",
                     len(context.call_edges))
