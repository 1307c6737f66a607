"""Command line: argument parsing and exit codes only; no analysis logic here.

Exit codes (SPEC §1), identical for every output format:
0 no finding at or above --fail-on; 1 at least one; 2 usage error, unreadable path, invalid
configuration, a cluster that cannot be read (--kube), or an internal error (one line;
MESHLINT_DEBUG=1 prints its traceback); 130 Ctrl-C. `fix` as ruff's `--fix`: 0 when nothing
at or above --fail-on is left, 1 otherwise; `fix --diff` 1 when it would change something.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    import rich.progress

    from .config import Config
    from .engine import Inputs
    from .evidence.prometheus import PrometheusSource

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for Ctrl-C


class _FormatAction(argparse.Action):
    """`--format F` starts a new output; `--output FILE` sends the latest one to FILE."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any,
                 option_string: str | None = None) -> None:
        outputs = getattr(namespace, "outputs", None) or []
        if option_string in ("--format", "-f"):
            outputs.append([value, None])
        else:
            if not outputs or outputs[-1][1] is not None:
                outputs.append([None, value])  # format given later, or text by default
            else:
                outputs[-1][1] = value
        namespace.outputs = outputs


def _columns() -> int:
    """The terminal's columns as shutil.get_terminal_size finds them (COLUMNS, else stdout's
    terminal, else 80), without importing shutil: it imports bz2 and lzma, ~5 ms of every run."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the width: left to itself, it imports shutil, and argparse
    makes one for every option it adds, so every run paid for it."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands' parsers (of the same class) use _HelpFormatter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _parser() -> argparse.ArgumentParser:
    from .report import FORMATS

    p = _ArgumentParser(prog="meshlint", description="Catch service-mesh footguns before they reach production.")
    p.add_argument("--version", action="version", version=f"meshlint {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("check", help="analyse manifests (files, directories, - for stdin)")
    _input_options(c)
    c.add_argument("--format", "-f", dest="outputs", action=_FormatAction, choices=FORMATS,
                   help="output format (repeatable, each optionally followed by --output)")
    c.add_argument("--output", "-o", dest="outputs", action=_FormatAction, metavar="FILE",
                   help="write the preceding --format to FILE instead of stdout")
    c.add_argument("--fail-on", choices=("info", "warning", "error", "never"),
                   help="exit 1 when a finding is at or above this severity (default: warning)")
    c.add_argument("--select", action="append", metavar="CODES", help="only these codes or prefixes (ML1,ML203)")
    c.add_argument("--ignore", action="append", metavar="CODES", help="skip these codes or prefixes")
    scope = c.add_mutually_exclusive_group()
    scope.add_argument("--namespace", "-n", metavar="NS",
                       help="report only on NS and cluster-scoped resources (analysis still sees everything)")
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="report on every namespace (the default)")
    c.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the text output (auto: on a terminal, never with NO_COLOR)")
    c.add_argument("--show-config", action="store_true", help="print the effective configuration and exit")
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings (--fail-on never)")
    c.add_argument("--quiet", "-q", action="store_true",
                   help="print the findings and nothing else: no notes, no summary line")
    c.add_argument("--statistics", action="store_true",
                   help="in the text report, count the findings per rule instead of listing them")
    c.add_argument("--baseline", metavar="FILE",
                   help="report only findings that FILE does not record (see --write-baseline)")
    c.add_argument("--write-baseline", metavar="FILE",
                   help="record the findings reported now in FILE, so that --baseline FILE reports only new ones")
    c.add_argument("--verbose", "-v", action="store_true",
                   help="list the documents skipped as not Kubernetes objects, and why, and what was assumed "
                        "about namespaces the input does not hold")

    g = sub.add_parser("graph", help="service call graph with per-hop retries and amplification")
    _input_options(g)
    g.add_argument("--format", "-f", choices=("text", "dot", "mermaid", "json", "html"), default="text")
    g.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")

    m = sub.add_parser("simulate", help="what-if retry storm: load per service when a service fails")
    _input_options(m)
    m.add_argument("--fail", required=True, metavar="HOST", help="the failing service (name.ns or FQDN)")
    m.add_argument("--status", choices=("503", "reset", "timeout"), default="503", help="how it fails (default 503)")
    m.add_argument("--entry", metavar="HOST", help="where requests enter (default: the entry that amplifies most)")
    m.add_argument("--rps", type=_positive,
                   help="requests per second into the entry (default: the rate --prometheus observed, else 100)")
    m.add_argument("--duration", type=_duration, default=10.0, help="seconds of traffic (default 10, at most 3600)")
    m.add_argument("--format", "-f", choices=("text", "json"), default="text")
    m.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    m.add_argument("--plot", metavar="FILE.png", help="also draw load per service over time (needs matplotlib)")

    x = sub.add_parser("fix", help="apply the safe fixes in place (--unsafe for the rest, --diff to preview)")
    _input_options(x)
    x.add_argument("--unsafe", "--unsafe-fixes", dest="unsafe", action="store_true",
                   help="also apply the unsafe fixes (they change behaviour: review them)")
    x.add_argument("--diff", action="store_true",
                   help="change nothing: print the fixes as a unified diff (exit 1 when there is one)")
    x.add_argument("--select", action="append", metavar="CODES", help="fix only these codes or prefixes (ML1,ML203)")
    x.add_argument("--ignore", action="append", metavar="CODES", help="do not fix these codes or prefixes")
    x.add_argument("--fail-on", choices=("info", "warning", "error", "never"),
                   help="exit 1 when a finding at or above this severity is left (default: warning)")
    x.add_argument("--namespace", "-n", metavar="NS", help="fix only resources of NS (and cluster-scoped ones)")
    x.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the findings left (auto: on a terminal, never with NO_COLOR)")
    x.add_argument("--quiet", "-q", action="store_true",
                   help="print the findings left and nothing else: no notes, no summary line")

    sh = sub.add_parser("completion", help="print the shell completion script (eval it in your shell's rc file)")
    sh.add_argument("shell", choices=("bash", "zsh", "fish"))

    r = sub.add_parser("rules", help="list all rules")
    r.add_argument("--format", choices=("text", "markdown", "json"), default="text")

    one = sub.add_parser("rule", help="explain one rule (code or name)")
    one.add_argument("code", metavar="CODE")
    return p


def _input_options(p: argparse.ArgumentParser) -> None:
    """Options that say what to read and about which environment (check, graph, simulate)."""
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or directories (default: ., or none with --kube, which they overlay); - reads stdin")
    p.add_argument("--config", metavar="FILE", help="configuration file (default: .meshlint.yaml or pyproject.toml)")
    p.add_argument("--default-namespace", metavar="NS", help="namespace of resources that set none (default: default)")
    p.add_argument("--call-graph", metavar="FILE", help="explicit service call edges: edges: [{from: a.ns, to: b.ns}]")
    p.add_argument("--mesh-config", metavar="FILE",
                   help="Istio MeshConfig, IstioOperator or istiod Helm values file describing the installation")
    p.add_argument("--max-file-size", type=_file_size, metavar="SIZE",
                   help="refuse a file (or stdin) larger than SIZE, e.g. 2G (default: 512M)")
    p.add_argument("--stdin-filename", metavar="NAME", default="-",
                   help="the file name findings on stdin (-) carry (default: -, or the `# Source:` "
                        "template of a rendered Helm document)")
    p.add_argument("--context-dir", action="append", default=[], metavar="DIR",
                   help="also read the manifests under DIR for what they define (Gateways, DestinationRules, "
                        "Namespaces), reporting only on the PATHs (repeatable; the pre-commit hook uses it)")
    p.add_argument("--kube", action="store_true",
                   help="read the live cluster (read-only); PATHs then replace the live objects of the same kind, "
                        "namespace and name: what happens if you apply them")
    p.add_argument("--kubeconfig", metavar="FILE",
                   help="with --kube: this kubeconfig (default: KUBECONFIG, as kubectl reads it)")
    p.add_argument("--context", metavar="CTX", help="with --kube: this kubeconfig context (default: the current one)")
    _prometheus_options(p)


def _prometheus_options(p: argparse.ArgumentParser) -> None:
    """--prometheus and how to reach it (check, graph, simulate)."""
    t = p.add_argument_group("telemetry")
    t.add_argument("--prometheus", metavar="URL",
                   help="add observed calls and evidence from this Prometheus (base URL, e.g. http://prometheus:9090)")
    t.add_argument("--prometheus-window", metavar="DURATION", default="1h",
                   help="the window rates are measured over: a Prometheus duration of at least 1m "
                        "(30m, 1h30m, 7d; default 1h)")
    t.add_argument("--prometheus-at", metavar="TIME", help="measure at TIME, RFC 3339 or Unix seconds (default now)")
    t.add_argument("--prometheus-header", action="append", default=[], metavar="'NAME: VALUE'",
                   help="send this HTTP header to Prometheus (repeatable)")
    t.add_argument("--prometheus-token-file", metavar="FILE",
                   help="send the bearer token in FILE to Prometheus (Authorization: Bearer)")
    t.add_argument("--prometheus-timeout", metavar="SECONDS", type=_positive, default=30.0,
                   help="give up on a query after SECONDS (default 30)")


def _positive(text: str) -> float:
    """A number above 0 and finite (float() also reads nan and inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _duration(text: str) -> float:
    from .simulate.model import MAX_DURATION

    value = _positive(text)
    if value > MAX_DURATION:
        raise argparse.ArgumentTypeError(f"{text!r} is more than {MAX_DURATION:g} seconds")
    return value


def _file_size(text: str) -> int:
    from .load.bounded import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _configure(args: argparse.Namespace) -> Config:
    """Config from the file, then the command line. Raises ConfigError."""
    from dataclasses import replace

    from . import rules
    from .config import parse_fail_on
    from .configfile import load_config

    config = load_config(args.config, rules.BY_CODE)
    config = config.with_codes(getattr(args, "select", None), getattr(args, "ignore", None), rules.BY_CODE)
    if getattr(args, "fail_on", None):
        config = replace(config, fail_on=parse_fail_on(args.fail_on))
    if getattr(args, "exit_zero", False):
        config = replace(config, fail_on=None)
    if args.default_namespace:
        config = replace(config, facts=replace(config.facts, default_namespace=args.default_namespace))
    if getattr(args, "namespace", None):
        config = replace(config, namespace=args.namespace)
    return config


def _inputs(args: argparse.Namespace) -> Inputs:
    """Raises ValueError for a --prometheus option that cannot be used."""
    from .engine import Inputs
    from .load.bounded import DEFAULT_MAX_FILE_SIZE

    kube = None
    if args.kube:
        from .load.kube import KubeTarget

        kube = KubeTarget(args.kubeconfig, args.context, getattr(args, "namespace", None))
    return Inputs(args.paths or ([] if args.kube else ["."]), args.mesh_config, args.call_graph,
                  context_dirs=args.context_dir, baseline=getattr(args, "baseline", None),
                  stdin_name=args.stdin_filename, max_file_size=args.max_file_size or DEFAULT_MAX_FILE_SIZE,
                  kube=kube, prometheus=_prometheus(args))

def _prometheus(args: argparse.Namespace) -> PrometheusSource | None:
    """The --prometheus options, checked. Raises ValueError."""
    telemetry_options = (args.prometheus_at, args.prometheus_header, args.prometheus_token_file)
    if args.prometheus is None:
        if any(telemetry_options) or args.prometheus_window != "1h" or args.prometheus_timeout != 30.0:
            raise ValueError("the --prometheus-* options need --prometheus URL")
        return None
    from .evidence.prometheus import PrometheusSource, parse_header, parse_time, parse_window

    if not args.prometheus.startswith(("http://", "https://")):
        raise ValueError(f"--prometheus {args.prometheus}: expected an http:// or https:// URL")
    headers = [parse_header(h) for h in args.prometheus_header]
    if args.prometheus_token_file:
        try:
            with open(args.prometheus_token_file, encoding="utf-8") as fh:
                token = fh.read().strip()
        except OSError as exc:
            raise ValueError(f"--prometheus-token-file: cannot read {args.prometheus_token_file}: "
                             f"{exc.strerror or exc}") from None
        if not token:
            raise ValueError(f"--prometheus-token-file {args.prometheus_token_file}: the file is empty")
        headers.append(("Authorization", f"Bearer {token}"))
    return PrometheusSource(args.prometheus, parse_window(args.prometheus_window),
                            parse_time(args.prometheus_at) if args.prometheus_at else None, tuple(headers),
                            args.prometheus_timeout)


def _failures(inputs: Inputs, *errors: type[Exception]) -> tuple[type[Exception], ...]:
    """`errors` and those of the live sources this run reads, which end it with one line (their
    module is imported only when it reads one: a plain `check` imports nothing of them)."""
    if inputs.prometheus is None:
        return errors
    from .evidence import EvidenceError

    return (*errors, EvidenceError)

def _kube_problem(args: argparse.Namespace) -> str:
    """A cluster option given without --kube would be silently ignored: say so."""
    given = [option for option, value in (("--kubeconfig", args.kubeconfig), ("--context", args.context)) if value]
    return f"{' and '.join(given)} need{'s' if len(given) == 1 else ''} --kube" if given and not args.kube else ""


def _write(data: bytes | str, path: str | None) -> int:
    data = data.encode() if isinstance(data, str) else data
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return EXIT_OK
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        return _error(f"cannot write {path}: {exc.strerror or exc}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """The command's exit code, whatever happens: Ctrl-C ends it quietly, and a bug is one line
    on stderr and exit code 2, never a traceback (which MESHLINT_DEBUG=1 prints, for tests and
    bug reports)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        if _debug():
            import traceback

            traceback.print_exc()
        what = (str(exc).splitlines() or [""])[0][:200]
        print(f"meshlint: internal error: {type(exc).__name__}{': ' if what else ''}{what}; please report it",
              file=sys.stderr)
        return EXIT_ERROR


def _debug() -> bool:
    return os.environ.get("MESHLINT_DEBUG", "") not in ("", "0")


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (`meshlint completion`)
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "fix":
            return _fix(args)
        if args.command == "graph":
            return _graph(args)
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "completion":
            return _completion(args)
        if args.command == "rules":
            return _rules(args)
        if args.command == "rule":
            return _rule(args)
    except BrokenPipeError:  # `meshlint ... | head`
        sys.stderr.close()
        return EXIT_OK
    parser.print_help(sys.stderr)
    return EXIT_ERROR


def _error(message: str) -> int:
    print(f"meshlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _check(args: argparse.Namespace) -> int:
    from . import baseline, engine
    from .baseline import BaselineError
    from .config import ConfigError
    from .load import ClusterError, LoadError
    from .load.context_files import ContextFileError
    from .report import DRAWS_CALL_GRAPH, RenderOptions, renderer

    try:
        config = _configure(args)
        inputs = _inputs(args)
    except (ConfigError, ValueError) as exc:
        return _error(str(exc))
    if _kube_problem(args):
        return _error(_kube_problem(args))
    if args.show_config:
        return _show_config(inputs, config)

    outputs = [(fmt or "text", path) for fmt, path in (getattr(args, "outputs", None) or [])] or [("text", None)]
    problem = _outputs_problem(getattr(args, "outputs", None) or [])
    if problem:
        return _error(problem)
    if args.statistics and all(fmt != "text" for fmt, _ in outputs):
        return _error("--statistics counts findings in the text report: add --format text")
    if list(inputs.paths).count("-") > 1:
        return _error("stdin (-) can be read only once")
    progress = _Progress()
    try:
        result = engine.check(inputs, config, progress=progress if sys.stderr.isatty() else None,
                              call_graph=any(fmt in DRAWS_CALL_GRAPH for fmt, _ in outputs),
                              offer_fixes=any(fmt == "sarif" for fmt, _ in outputs))
    except _failures(inputs, ContextFileError, BaselineError, ClusterError) as exc:
        return _error(str(exc))
    except LoadError as exc:
        return _error(f"cannot read {exc}")
    finally:
        progress.close()
    notes = result.notes
    if args.verbose:
        notes = notes + [f"skipped {s.where()}: {s.reason}" for s in result.skipped] + result.assumptions
    _print_notes([] if args.quiet else notes, result.warnings)
    for fmt, path in outputs:
        options = RenderOptions(color=_color(args.color, path), quiet=args.quiet, statistics=args.statistics,
                                width=_terminal_width(path))
        if _write(renderer(fmt)(result, options), path) != EXIT_OK:
            return EXIT_ERROR
    if args.write_baseline:
        try:
            written = baseline.write(args.write_baseline, result.findings)
        except BaselineError as exc:
            return _error(str(exc))
        if not args.quiet:
            print(f"meshlint: note: {written} finding(s) recorded in {args.write_baseline}", file=sys.stderr)
        return EXIT_OK
    if result.internal_errors:
        for error in result.internal_errors:  # its first line says what; the rest is the traceback
            print(f"meshlint: {error if _debug() else error.splitlines()[0]}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_FINDINGS if result.failed(config.fail_on) else EXIT_OK


def _fix(args: argparse.Namespace) -> int:
    """`meshlint fix`: exit codes as ruff's `--fix` (SPEC §1): 0 when no finding at or above
    --fail-on is left, 1 otherwise; with --diff, 1 when there is something to change."""
    from . import engine
    from .config import ConfigError
    from .fix.diff import unified
    from .fix.render import account_lines
    from .load import LoadError
    from .load.context_files import ContextFileError

    try:
        config = _configure(args)
    except ConfigError as exc:
        return _error(str(exc))
    inputs = _inputs(args)
    if list(inputs.paths).count("-") > 1:
        return _error("stdin (-) can be read only once")
    try:
        outcome = engine.fix(inputs, config, unsafe=args.unsafe, write=not args.diff)
    except ContextFileError as exc:
        return _error(str(exc))
    except LoadError as exc:
        return _error(f"cannot read {exc}")
    except OSError as exc:
        return _error(f"cannot write {exc.filename}: {exc.strerror or exc}")
    result = outcome.result
    _print_notes([] if args.quiet else result.notes, result.warnings)
    # stdout carries the diff, or the fixed stream of stdin: the account goes to stderr then
    stream = outcome.stdin is not None or args.diff
    if args.diff:
        _write(unified(outcome.changes), None)
    elif outcome.stdin is not None:
        _write(outcome.stdin, None)
    report = sys.stderr if stream else sys.stdout
    color = _color(args.color, None) if not stream else False
    lines = account_lines(outcome, color, quiet=args.quiet, unsafe=args.unsafe, diff=args.diff)
    if lines:
        report.write("\n".join(lines) + "\n")
        report.flush()
    if result.internal_errors:
        for error in result.internal_errors:
            print(f"meshlint: {error}", file=sys.stderr)
        return EXIT_ERROR
    if args.diff:
        return EXIT_FINDINGS if outcome.changes else EXIT_OK
    return EXIT_FINDINGS if result.failed(config.fail_on) else EXIT_OK


def _outputs_problem(outputs: list[list[str | None]]) -> str:
    """What is wrong with the --format/--output pairs, or "": every --output follows its own
    --format (a second --output would silently get text), and at most one format goes to
    stdout (two would be written back to back, and neither would parse)."""
    for i, (fmt, path) in enumerate(outputs):
        if fmt is None and i > 0:  # (a lone --output FILE is the text report, written to FILE)
            return (f"--output {path} follows no --format of its own: write --format FORMAT before each "
                    "--output FILE")
    to_stdout = [fmt for fmt, path in outputs if path is None]
    if len(to_stdout) > 1:
        return (f"--format {' and --format '.join(map(str, to_stdout))} would both go to stdout: give all but "
                "one an --output FILE")
    return ""


def _terminal_width(path: str | None) -> int | None:
    """The columns of the terminal the report goes to; None when it goes to a file or a pipe,
    where one line per finding suits grep and editors."""
    if path is not None or not sys.stdout.isatty():
        return None
    import shutil

    return shutil.get_terminal_size().columns


def _color(mode: str, path: str | None) -> bool:
    """Colour only on a terminal, never with NO_COLOR (https://no-color.org), unless forced."""
    if mode == "always":
        return True
    if mode == "never" or path is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


class _Progress:
    """A progress bar on stderr (rich), shown only when reading takes more than a second: the
    input read so far (characters, shown as bytes), however it is split in files."""

    def __init__(self) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        try:  # (set by the tests, to see the bar at once)
            self._delay = float(os.environ.get("MESHLINT_PROGRESS_DELAY", "1.0"))
        except ValueError:
            self._delay = 1.0
        self._bar: rich.progress.Progress | None = None
        self._task: rich.progress.TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if done >= total or self._clock() - self._start < self._delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("meshlint: reading"), BarColumn(), DownloadColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("read", total=total)
        if self._task is not None:
            self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _show_config(inputs: Inputs, config: Config) -> int:
    from .engine import effective_config
    from .load.context_files import ContextFileError

    try:
        shown = effective_config(inputs, config)
    except ContextFileError as exc:
        return _error(str(exc))
    sys.stdout.write(shown)
    return EXIT_OK


def _print_notes(notes: Sequence[str], warnings: Sequence[str] = ()) -> None:
    """Notes and warnings on stderr, wrapped to a terminal's width (continuations indented)."""
    width = None
    if sys.stderr.isatty():
        import shutil

        width = shutil.get_terminal_size().columns
    lines = [f"meshlint: note: {n}" for n in notes] + [f"meshlint: warning: {w}" for w in warnings]
    for line in lines:
        if width is not None and len(line) > width:
            import textwrap

            line = textwrap.fill(line, width, subsequent_indent="    ", break_long_words=False,
                                 break_on_hyphens=False)
        print(line, file=sys.stderr)


def _graph(args: argparse.Namespace) -> int:
    from . import engine
    from .config import ConfigError
    from .graph.render import RENDERERS
    from .load import ClusterError, LoadError
    from .load.context_files import ContextFileError

    if _kube_problem(args):
        return _error(_kube_problem(args))
    try:
        inputs, config = _inputs(args), _configure(args)
    except (ConfigError, ValueError) as exc:
        return _error(str(exc))
    try:
        view = engine.graph(inputs, config)
    except _failures(inputs, ContextFileError, ClusterError) as exc:
        return _error(str(exc))
    except LoadError as exc:
        return _error(f"cannot read {exc}")
    _print_notes(view.notes, view.warnings)
    return _write(RENDERERS[args.format](view), args.output)


def _simulate(args: argparse.Namespace) -> int:
    from . import engine
    from .config import ConfigError
    from .load import ClusterError, LoadError
    from .load.context_files import ContextFileError
    from .simulate import render
    from .simulate.model import requests

    if args.rps is not None and requests(args.rps, args.duration) == 0:
        return _error(f"--rps {args.rps:g} for --duration {args.duration:g}s is less than one request")
    if _kube_problem(args):
        return _error(_kube_problem(args))
    storm = engine.Storm(args.fail, args.status, args.entry, args.rps, args.duration)
    try:
        inputs, config = _inputs(args), _configure(args)
    except (ConfigError, ValueError) as exc:
        return _error(str(exc))
    try:
        result = engine.simulate(inputs, config, storm)
    except _failures(inputs, ContextFileError, ClusterError) as exc:
        return _error(str(exc))
    except LoadError as exc:
        return _error(f"cannot read {exc}")
    view = result.call_graph
    _print_notes(view.notes, view.warnings)
    if result.problem:
        return _error(result.problem)
    assert result.current is not None and result.fixed is not None and result.fixes is not None
    if args.format == "json":
        text = render.render_json(result.current, result.fixed)
    else:
        text = render.render_text(result.current, result.fixed, view.names, result.fixes)
    if args.plot:
        try:
            render.plot(result.current, result.fixed, view.names, args.plot)
        except ImportError:
            return _error("--plot needs matplotlib: pip install matplotlib")
        except OSError as exc:
            return _error(f"cannot write {args.plot}: {exc.strerror or exc}")
    return _write(text, args.output)


def _completion(args: argparse.Namespace) -> int:
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["meshlint"], shell=args.shell))
    return EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    from . import rules
    from .docs import rules_json, rules_markdown, rules_table

    if args.format == "text":
        sys.stdout.write(rules_table(rules.ALL, _page_width()))
    else:
        sys.stdout.write({"markdown": rules_markdown, "json": rules_json}[args.format](rules.ALL))
    return EXIT_OK


def _rule(args: argparse.Namespace) -> int:
    from . import rules
    from .docs import lookup, rule_page

    found = lookup(args.code, rules.ALL)
    if found.error:
        return _error(found.error)
    if found.note:
        print(f"meshlint: note: {found.note}", file=sys.stderr)
    sys.stdout.write("\n".join(rule_page(rule, _page_width()) for rule in found.rules))
    return EXIT_OK


def _page_width() -> int:
    """The terminal's width (COLUMNS, else the terminal, else 80), at most 80 columns."""
    import shutil

    from .docs import WIDTH

    return min(shutil.get_terminal_size((WIDTH, 24)).columns, WIDTH)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
