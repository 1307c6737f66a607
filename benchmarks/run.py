#!/usr/bin/env python3
"""meshlint benchmark (issue #6): meshlint against the parsing floor, on generated meshes.

    python benchmarks/run.py [--sizes 1000,5000,25000] [--repeat 3] [--quick] [--json FILE]
                             [--against REV]

For each size, generates (once, cached in benchmarks/.data/) a mesh with generate.py and, for
each input form (one multi-document stream, a directory of files, a `kubectl get -A -o yaml`
List dump, the same as `-o json`, indented and compact), times in separate processes, interleaved,
on the same files:

  pyyaml     the floor: PyYAML's libyaml loader (CSafeLoader) parsing every file and keeping
             every document (json.load for JSON)
  ml-parse   meshlint's loader alone: `meshlint.load.load([path])` (read, split, parse with the
             fastest parser meshlint uses, schema checks)
  check      `meshlint check PATH --format json --output /dev/null --fail-on never`, end to end
  checkov    `checkov --framework kubernetes --quiet --compact`, only when checkov is on PATH
  check@REV  with --against REV: the same `meshlint check` of git revision REV (checked out
             into a temporary worktree, same interpreter and dependencies), so that a change
             is measured against its base in the same run, on the same machine

Wall time is measured around each process (interpreter start-up included), peak memory is the
process's own maximum resident set size (`os.wait4`). The figures reported are medians over
--repeat runs. Then the cold start of `meshlint check one-small-file.yaml` against
`python -c "import yaml"`, and the targets of the issue, each marked PASS or FAIL.
Only the standard library is used (PyYAML in the measured child processes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DATA = os.path.join(HERE, ".data")

ALL_FORMS = [("stream", "stream.yaml"), ("files", "files"), ("dump.yaml", "dump.yaml"), ("dump.json", "dump.json"),
             ("dump-compact", "dump-compact.json"), ("dump-objects", "dump-objects.yaml")]
FORMS = list(ALL_FORMS)
TARGET_SIZE = 5000

# Targets of issue #6.
T_TIME = 0.5       # meshlint check / PyYAML parse, 5,000-service stream
T_MEMORY = 1.5     # peak RSS meshlint check / PyYAML parse, same input
T_SCALING = 5.5    # time ratio for 5x the services
T_COLD = 3.0       # `meshlint check small.yaml` / `python -c "import yaml"`
# Target of issue #19: the compact JSON dump per resource / the indented one, time and memory, every size.
T_COMPACT = 1.2

PYYAML_PARSE = r"""
import json, os, sys, yaml
top = sys.argv[1]
if os.path.isdir(top):
    paths = sorted(os.path.join(r, n) for r, _, names in os.walk(top) for n in names
                   if n.endswith((".yaml", ".yml", ".json")))
else:
    paths = [top]
docs = []
for path in paths:
    with open(path, "rb") as f:
        if path.endswith(".json"):
            docs.append(json.load(f))
        else:
            docs.extend(yaml.load_all(f, Loader=yaml.CSafeLoader))
n = 0
for d in docs:
    if isinstance(d, dict):
        n += len(d.get("items") or ()) if str(d.get("kind", "")).endswith("List") else 1
print(n)
"""

MESHLINT_PARSE = r"""
import sys
from meshlint.load import load
loaded = load([sys.argv[1]])
print(len(loaded.resources), len(loaded.problems))
"""

# `meshlint ...` from whatever meshlint PYTHONPATH holds, as the console script starts it
LAUNCH = "import sys; from meshlint.cli import main; sys.exit(main(sys.argv[1:]))"

SMALL_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
  labels:
    app: cart
spec:
  selector:
    app: cart
  ports:
  - name: http
    port: 80
    targetPort: 8080
"""


# --- running one measurement ---------------------------------------------------------------

class Run:
    __slots__ = ("seconds", "peak_kb", "code", "out", "err")

    def __init__(self, seconds: float, peak_kb: int, code: int, out: str, err: str) -> None:
        self.seconds, self.peak_kb, self.code, self.out, self.err = seconds, peak_kb, code, out, err


def measure(cmd: list[str], timeout: float | None = None, cwd: str = REPO, env: dict | None = None) -> Run:
    """Run `cmd`; wall time around the process, its peak RSS from wait4.

    Linux carries the peak RSS of the address space a process had before exec() into its
    ru_maxrss, and a child forked (or vforked) from this process starts with ours: the figure
    is max(the child's own peak, this process's peak). So this process stays small (a few MB
    of Python; the generator runs in a child of its own) and reports its own peak as the
    floor of every memory figure (`harness_peak_mb`)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd, env=env)
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(seconds, usage.ru_maxrss, proc.returncode,
                   out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- environment ------------------------------------------------------------------------------

def tool_paths() -> tuple[str, str]:
    venv = os.path.join(REPO, ".venv", "bin")
    python = os.path.join(venv, "python") if os.path.exists(os.path.join(venv, "python")) else sys.executable
    meshlint = os.path.join(venv, "meshlint")
    if not os.path.exists(meshlint):
        meshlint = shutil.which("meshlint") or ""
    if not meshlint:
        sys.exit("meshlint is not installed: run `make dev` first")
    return python, meshlint


def machine_facts(python: str) -> dict:
    probe = r"""
import json, platform, sys
facts = {"python": platform.python_version(), "implementation": platform.python_implementation()}
import yaml
facts["pyyaml"] = yaml.__version__
facts["libyaml"] = bool(getattr(yaml, "__with_libyaml__", False))
from importlib import metadata
for dist in ("meshlint", "yaml-rs", "orjson"):
    try:
        facts[dist] = metadata.version(dist)
    except metadata.PackageNotFoundError:
        facts[dist] = None
import os, meshlint
facts["package_dir"] = os.path.dirname(meshlint.__file__)
print(json.dumps(facts))
"""
    facts = json.loads(subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout)
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            mem_gb = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "src")
    facts.update({
        "nproc": os.cpu_count(), "cpu": cpu, "memory_gb": mem_gb, "os": f"{platform.system()} {platform.release()}",
        "meshlint_commit": commit + ("+uncommitted changes in src/" if dirty else ""),
        "checkov": shutil.which("checkov"),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    })
    return facts


def harness_peak_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- data --------------------------------------------------------------------------------------

def source_fingerprint(package_dir: str) -> str:
    """Hash of meshlint's source: the working tree may change while the benchmark runs."""
    h = hashlib.sha256()
    for root, dirs, names in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(n for n in names if n.endswith(".py")):
            path = os.path.join(root, name)
            h.update(os.path.relpath(path, package_dir).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:12]


def generator_fingerprint() -> str:
    with open(os.path.join(HERE, "generate.py"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ensure_data(services: int) -> dict:
    """Generate the mesh for `services` unless the cached one came from this very generator."""
    out = os.path.join(DATA, str(services))
    stamp = os.path.join(out, ".generator-sha256")
    fingerprint = generator_fingerprint()
    try:
        with open(stamp) as f:
            cached = f.read().strip() == fingerprint
        with open(os.path.join(out, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        cached = False
    if not cached:
        # in a child process: this process must stay small (see measure())
        print(f"generating {services} services into {os.path.relpath(out, REPO)} ...", file=sys.stderr, flush=True)
        os.makedirs(DATA, exist_ok=True)
        subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--services", str(services), "--out", out],
                       check=True)
        with open(os.path.join(out, "meta.json")) as f:
            meta = json.load(f)
        with open(stamp, "w") as f:
            f.write(fingerprint + "\n")
    return meta


def warm_cache(path: str) -> None:
    """Read every file once so that no measurement pays for the first read from disk."""
    paths = [path] if os.path.isfile(path) else [os.path.join(r, n) for r, _, ns in os.walk(path) for n in ns]
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 22):
                pass


# --- the benchmark -----------------------------------------------------------------------------

class Base:
    """--against REV: that revision checked out beside this one, run by the same interpreter."""

    def __init__(self, rev: str, python: str) -> None:
        self.rev = rev
        self.tmp = tempfile.mkdtemp(prefix="meshlint-base-")
        self.tree = os.path.join(self.tmp, "tree")
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", self.tree, rev], cwd=REPO, check=True)
        self.package_dir = os.path.join(self.tree, "src", "meshlint")
        compile_bytecode(python, self.package_dir)
        self.env = dict(os.environ, PYTHONPATH=os.path.join(self.tree, "src"))
        self.tool = f"check@{rev}"

    def close(self) -> None:
        subprocess.run(["git", "worktree", "remove", "--force", self.tree], cwd=REPO, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


BASE: Base | None = None


def commands(python: str, meshlint: str, path: str) -> dict[str, list[str]]:
    check = ["check", path, "--format", "json", "--output", os.devnull, "--fail-on", "never"]
    cmds = {
        "pyyaml": [python, "-c", PYYAML_PARSE, path],
        "ml-parse": [python, "-c", MESHLINT_PARSE, path],
        "check": [meshlint, *check],
    }
    if BASE is not None:
        cmds[BASE.tool] = [python, "-c", LAUNCH, *check]
    checkov = shutil.which("checkov")
    if checkov:
        # run from the input's folder with a relative path: checkov silently skips whatever
        # lies under a hidden directory, and the corpora live in benchmarks/.data/
        target = "." if os.path.isdir(path) else os.path.basename(path)
        cmds["checkov"] = [checkov, "-d" if os.path.isdir(path) else "-f", target,
                           "--framework", "kubernetes", "--quiet", "--compact", "--skip-download"]
    return cmds


def workdir(tool: str, path: str) -> str:
    if tool != "checkov":
        return REPO
    return path if os.path.isdir(path) else os.path.dirname(path)


def bench_size(services: int, repeat: int, python: str, meshlint: str, timeout: float, log,
               package_dir: str) -> list[dict]:
    meta = ensure_data(services)
    base = os.path.join(DATA, str(services))
    rows = []
    for form, rel in FORMS:
        path = os.path.join(base, rel)
        warm_cache(path)
        cmds = commands(python, meshlint, path)
        runs: dict[str, list[Run]] = {tool: [] for tool in cmds}
        source_before = source_fingerprint(package_dir)
        problems: list[str] = []
        for i in range(repeat):
            for tool, cmd in cmds.items():  # interleaved, so that drift hits every tool alike
                r = measure(cmd, timeout, workdir(tool, path), BASE.env if BASE and tool == BASE.tool else None)
                runs[tool].append(r)
                log(f"  {services:>6} {form:<9} {tool:<8} run {i + 1}/{repeat}: {r.seconds:7.2f} s "
                    f"{r.peak_kb / 1024:7.0f} MB" + ("" if r.code == 0 else f"  exit {r.code}"))
                if tool in ("pyyaml", "ml-parse", "check", BASE.tool if BASE else "") and r.code != 0:
                    problems.append(f"{tool} exited {r.code}: {r.err.strip()[-300:]}")
                if tool == "checkov" and r.code == 0 and not r.out.strip():
                    problems.append("checkov reported nothing at all: did it scan the input?")
        # sanity: everyone saw every resource, meshlint found nothing unparsable
        first = runs["pyyaml"][0].out.split()
        if first and int(first[0]) != meta["resources"]:
            problems.append(f"PyYAML counted {first[0]} resources, the generator wrote {meta['resources']}")
        parsed = runs["ml-parse"][0].out.split()
        if len(parsed) == 2 and (int(parsed[0]) != meta["resources"] or int(parsed[1]) != 0):
            problems.append(f"meshlint loaded {parsed[0]} resources with {parsed[1]} ML001/ML002 problems "
                            f"(expected {meta['resources']} and 0)")
        source = source_fingerprint(package_dir)
        if source != source_before:
            problems.append(f"meshlint's source changed while this row was measured ({source_before} -> {source})")
        row = {"services": services, "form": form, "repeat": repeat, "resources": meta["resources"],
               "bytes": meta["bytes"][rel], "source": source, "problems": sorted(set(problems))}
        for tool, rs in runs.items():
            ok = [r for r in rs if r.code == 0 or tool == "checkov"]
            row[tool] = {"seconds": median([r.seconds for r in ok]), "peak_mb": median([r.peak_kb / 1024 for r in ok]),
                         "runs": [[round(r.seconds, 4), r.peak_kb] for r in rs]}
        rows.append(row)
        for p in row["problems"]:
            log(f"  WARNING {services} {form}: {p}")
    return rows


COUNT_FINDINGS = r"""
import json, sys
findings = json.load(open(sys.argv[1])).get("findings", [])
by_code = {}
for f in findings:
    by_code[f.get("code", "?")] = by_code.get(f.get("code", "?"), 0) + 1
print(json.dumps({"total": len(findings), "by_code": dict(sorted(by_code.items()))}))
"""


def findings_summary(services: int, python: str, meshlint: str, timeout: float) -> dict:
    """One untimed `meshlint check` of the stream, to show what the corpus makes meshlint report
    (the report is read in a child process too, so that this one stays small)."""
    base = os.path.join(DATA, str(services))
    out = os.path.join(base, "findings.json")
    measure([meshlint, "check", os.path.join(base, "stream.yaml"), "--format", "json", "--output", out,
             "--fail-on", "never"], timeout)
    r = measure([python, "-c", COUNT_FINDINGS, out])
    try:
        return json.loads(r.out)
    except ValueError:
        return {}


def compile_bytecode(python: str, package_dir: str) -> None:
    """Write meshlint's bytecode cache, as `pip install` does for an installed package.

    An editable install (`make dev`) leaves meshlint as source only, and with
    PYTHONDONTWRITEBYTECODE set no cache is ever written: every run would compile ~50
    modules (~40 ms) that PyYAML, installed with its bytecode, does not pay for. compileall
    writes the cache whatever that variable says."""
    subprocess.run([python, "-m", "compileall", "-q", package_dir], check=True, stdout=subprocess.DEVNULL)


def cold_start(python: str, meshlint: str, runs: int) -> dict:
    small_dir = os.path.join(DATA, "small")
    os.makedirs(small_dir, exist_ok=True)
    small = os.path.join(small_dir, "service.yaml")
    with open(small, "w") as f:
        f.write(SMALL_SERVICE)
    cmds = {"meshlint check small.yaml": [meshlint, "check", small],
            "python -c 'import yaml'": [python, "-c", "import yaml"]}
    envs: dict[str, dict | None] = dict.fromkeys(cmds)
    if BASE is not None:  # both through the same launcher, so that only the code differs
        cmds["launched"] = [python, "-c", LAUNCH, "check", small]
        cmds["base"] = [python, "-c", LAUNCH, "check", small]
        envs.update(launched=dict(os.environ, PYTHONPATH=os.path.join(REPO, "src")), base=BASE.env)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    codes = {}
    for name, cmd in cmds.items():  # warm-up: bytecode caches, page cache
        measure(cmd, env=envs[name])
    for _ in range(runs):
        for name, cmd in cmds.items():
            r = measure(cmd, env=envs[name])
            times[name].append(r.seconds)
            codes[name] = r.code
    a, b = median(times["meshlint check small.yaml"]), median(times["python -c 'import yaml'"])
    if codes["meshlint check small.yaml"] != 0:
        print(f"WARNING: meshlint check small.yaml exited {codes['meshlint check small.yaml']}", file=sys.stderr)
        a = float("nan")
    out = {"meshlint_s": a, "import_yaml_s": b, "ratio": a / b, "runs": runs,
           "exit_code": codes["meshlint check small.yaml"]}
    if BASE is not None:
        out["against"] = {"rev": BASE.rev, "this_s": median(times["launched"]), "base_s": median(times["base"])}
    return out


# --- report ------------------------------------------------------------------------------------

COLUMNS = [  # header, value of a row
    ("services", lambda r: f"{r['services']}"),
    ("form", lambda r: r["form"]),
    ("resources", lambda r: f"{r['resources']}"),
    ("input MB", lambda r: f"{r['bytes'] / 1e6:.1f}"),
    ("pyyaml s", lambda r: f"{r['pyyaml']['seconds']:.2f}"),
    ("parse s", lambda r: f"{r['ml-parse']['seconds']:.2f}"),
    ("check s", lambda r: f"{r['check']['seconds']:.2f}"),
    ("check/pyyaml", lambda r: f"{r['check']['seconds'] / r['pyyaml']['seconds']:.2f}x"),
    ("pyyaml MB", lambda r: f"{r['pyyaml']['peak_mb']:.0f}"),
    ("parse MB", lambda r: f"{r['ml-parse']['peak_mb']:.0f}"),
    ("check MB", lambda r: f"{r['check']['peak_mb']:.0f}"),
    ("mem check/pyyaml", lambda r: f"{r['check']['peak_mb'] / r['pyyaml']['peak_mb']:.2f}x"),
    ("check µs/res", lambda r: f"{r['check']['seconds'] / r['resources'] * 1e6:.0f}"),
]
CHECKOV_COLUMNS = [
    ("checkov s", lambda r: f"{r['checkov']['seconds']:.1f}" if "checkov" in r else "-"),
    ("checkov MB", lambda r: f"{r['checkov']['peak_mb']:.0f}" if "checkov" in r else "-"),
]


def table(rows: list[dict], markdown: bool = False) -> list[str]:
    cols = COLUMNS + (CHECKOV_COLUMNS if any("checkov" in r for r in rows) else [])
    cells = [[name for name, _ in cols]] + [[value(r) for _, value in cols] for r in rows]
    if markdown:
        align = "|" + "|".join("---:" if i not in (1,) else "---" for i in range(len(cols))) + "|"
        out = ["| " + " | ".join(cells[0]) + " |", align]
        return out + ["| " + " | ".join(c) + " |" for c in cells[1:]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    return ["  ".join(c.ljust(w) if i == 1 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
            for row in cells]


def verdict(value: float | None, limit: float, le: bool = True) -> str:
    if value is None or math.isnan(value):
        return "n/a (a run failed)"
    return "PASS" if (value <= limit if le else value >= limit) else "FAIL"


def evaluate(rows: list[dict], cold: dict | None) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/FAIL/n/a) for each target of the issue."""
    get = {(r["services"], r["form"]): r for r in rows}
    sizes = sorted({r["services"] for r in rows})
    at = TARGET_SIZE if TARGET_SIZE in sizes else (max(sizes) if sizes else None)
    label = f"{at:,}-service" if at else "-"
    out = []
    s = get.get((at, "stream"))
    if s:
        t = s["check"]["seconds"] / s["pyyaml"]["seconds"]
        m = s["check"]["peak_mb"] / s["pyyaml"]["peak_mb"]
        out.append((f"check time <= {T_TIME}x PyYAML parse ({label} stream)", f"{t:.2f}x", verdict(t, T_TIME)))
        out.append((f"check peak memory <= {T_MEMORY}x PyYAML parse ({label} stream)", f"{m:.2f}x",
                    verdict(m, T_MEMORY)))
    for lo, hi in ((1000, 5000), (5000, 25000)):
        a, b = get.get((lo, "stream")), get.get((hi, "stream"))
        name = f"scaling {lo // 1000}k->{hi // 1000}k services <= {T_SCALING}x (check, stream)"
        if a and b:
            r = b["check"]["seconds"] / a["check"]["seconds"]
            out.append((name, f"{r:.2f}x", verdict(r, T_SCALING)))
        else:
            out.append((name, "not measured", "n/a"))
    d = get.get((at, "dump.yaml"))
    if s and d:
        per_d = d["check"]["seconds"] / d["resources"] * 1e6
        per_s = s["check"]["seconds"] / s["resources"] * 1e6
        out.append((f"List dump per resource <= stream per resource ({label}, check)",
                    f"{per_d:.0f} vs {per_s:.0f} µs", verdict(per_d / per_s, 1.0)))
    o = get.get((at, "dump-objects"))
    if d and o:  # not a target of the issue: the cost of the List form itself, on the same bytes
        per_d = d["check"]["seconds"] / d["resources"] * 1e6
        per_o = o["check"]["seconds"] / o["resources"] * 1e6
        out.append((f"(extra) List dump per resource <= the same objects as a stream ({label})",
                    f"{per_d:.0f} vs {per_o:.0f} µs", verdict(per_d / per_o, 1.0)))
    for size in sizes:
        indented, compact = get.get((size, "dump.json")), get.get((size, "dump-compact"))
        if indented and compact:  # the same resources: the ratio per resource is the ratio per run
            for what, key, shown in (("time", "seconds", "{:.2f} s"), ("peak memory", "peak_mb", "{:.0f} MB")):
                a, b = compact["check"][key], indented["check"][key]
                out.append((f"compact JSON dump {what} <= {T_COMPACT}x indented ({size:,} services, check)",
                            f"{a / b:.2f}x ({shown.format(a)} vs {shown.format(b)})", verdict(a / b, T_COMPACT)))
    if cold:
        out.append((f"cold start <= {T_COLD}x python -c 'import yaml'",
                    f"{cold['ratio']:.2f}x ({cold['meshlint_s'] * 1000:.0f} vs {cold['import_yaml_s'] * 1000:.0f} ms)",
                    verdict(cold["ratio"], T_COLD)))
    return out


def report(rows: list[dict], cold: dict | None, findings: dict, facts: dict) -> str:
    has_checkov = any("checkov" in r for r in rows)
    lines = []
    sources = sorted({r["source"] for r in rows})
    lines.append(f"meshlint {facts.get('meshlint')} ({facts.get('meshlint_commit')}, source {'/'.join(sources)}), "
                 f"Python {facts['python']}, "
                 f"PyYAML {facts['pyyaml']} (libyaml {'yes' if facts['libyaml'] else 'NO'}), "
                 f"yaml-rs {facts.get('yaml-rs')}, orjson {facts.get('orjson')}")
    lines.append(f"{facts['cpu']}, {facts['nproc']} CPUs, {facts['memory_gb']} GB, {facts['os']}, {facts['date']}")
    lines.append(f"(memory figures are exact above {facts['harness_peak_mb']:.0f} MB, "
                 "the peak of this harness process)")
    lines.append("")
    lines.extend(table(rows))
    if not has_checkov:
        lines.append("(checkov is not on PATH: its column is skipped)")

    # scaling, every form
    sizes = sorted({r["services"] for r in rows})
    get = {(r["services"], r["form"]): r for r in rows}
    if len(sizes) > 1:
        lines.append("")
        lines.append("scaling of `meshlint check` time (and PyYAML's) between sizes:")
        for form, _ in FORMS:
            parts = []
            for lo, hi in zip(sizes, sizes[1:]):
                a, b = get.get((lo, form)), get.get((hi, form))
                if a and b:
                    parts.append(f"{lo // 1000}k->{hi // 1000}k {b['check']['seconds'] / a['check']['seconds']:.2f}x "
                                 f"(pyyaml {b['pyyaml']['seconds'] / a['pyyaml']['seconds']:.2f}x)")
            lines.append(f"  {form:<12} " + ", ".join(parts))
    if BASE is not None:
        lines.append("")
        lines.append(f"against {BASE.rev} (same run; this tree / {BASE.rev}, time and peak memory of `check`):")
        for r in rows:
            if BASE.tool in r:
                this, base = r["check"], r[BASE.tool]
                lines.append(f"  {r['services']:>6} {r['form']:<12} {this['seconds']:6.2f} s / "
                             f"{base['seconds']:6.2f} s = {this['seconds'] / base['seconds']:.2f}x   "
                             f"{this['peak_mb']:5.0f} MB / {base['peak_mb']:5.0f} MB = "
                             f"{this['peak_mb'] / base['peak_mb']:.2f}x")
    if cold:
        lines.append("")
        lines.append(f"cold start (median of {cold['runs']}): meshlint check small.yaml "
                     f"{cold['meshlint_s'] * 1000:.0f} ms, "
                     f"python -c 'import yaml' {cold['import_yaml_s'] * 1000:.0f} ms")
        if "against" in cold:
            a = cold["against"]
            lines.append(f"cold start against {a['rev']} (both through `python -c`): {a['this_s'] * 1000:.0f} ms / "
                         f"{a['base_s'] * 1000:.0f} ms = {a['this_s'] / a['base_s']:.2f}x")
    for services, f in sorted(findings.items()):
        if f:
            lines.append(f"findings on the {services}-service stream: {f['total']} "
                         + " ".join(f"{k}:{v}" for k, v in f["by_code"].items()))
    sources = sorted({r["source"] for r in rows})
    if len(sources) > 1:
        lines.append(f"WARNING: meshlint's source changed during the run ({', '.join(sources)}): "
                     "the rows do not all measure the same code; run again")
    problems = [(r["services"], r["form"], p) for r in rows for p in r["problems"]]
    for services, form, p in problems:
        lines.append(f"WARNING {services} {form}: {p}")
    lines.append("")
    lines.append("targets (issues #6 and #19):")
    for name, value, mark in evaluate(rows, cold):
        lines.append(f"  {mark:<4}  {name:<72} {value}")
    lines.append("")
    lines.append("as a Markdown table:")
    lines.extend(table(rows, markdown=True))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="meshlint benchmark against PyYAML's C parser (issue #6)")
    p.add_argument("--sizes", default="1000,5000,25000",
                   help="services per mesh, comma-separated; N:R runs size N R times instead of --repeat "
                        "(default: %(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; medians are reported (default: 3)")
    p.add_argument("--quick", action="store_true", help="smoke test: 1,000 services, one run, 3 cold starts")
    p.add_argument("--forms", default=",".join(f for f, _ in ALL_FORMS),
                   help="input forms to measure (default: %(default)s)")
    p.add_argument("--cold-runs", type=int, help="runs of the cold-start comparison (default: 10, 0 skips it)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds before one measured process is killed")
    p.add_argument("--json", metavar="FILE", help="also write every number to FILE")
    p.add_argument("--against", metavar="REV",
                   help="also measure `meshlint check` of git revision REV, interleaved, in the same run")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = "1000", 1
    if args.cold_runs is None:
        args.cold_runs = 3 if args.quick else 10
    plan = []  # (services, repeat): `25000:1` overrides --repeat for that size
    for token in args.sizes.split(","):
        if token.strip():
            n, _, r = token.partition(":")
            plan.append((int(n), int(r) if r else args.repeat))
    wanted = [f.strip() for f in args.forms.split(",")]
    FORMS[:] = [(f, rel) for f, rel in ALL_FORMS if f in wanted]

    python, meshlint = tool_paths()
    facts = machine_facts(python)
    compile_bytecode(python, facts["package_dir"])
    global BASE
    if args.against:
        BASE = Base(args.against, python)
    try:
        return _run(args, plan, python, meshlint, facts)
    finally:
        if BASE is not None:
            BASE.close()


def _run(args: argparse.Namespace, plan: list[tuple[int, int]], python: str, meshlint: str, facts: dict) -> int:
    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    rows: list[dict] = []
    findings: dict[int, dict] = {}
    for services, repeat in plan:
        rows.extend(bench_size(services, repeat, python, meshlint, args.timeout, log, facts["package_dir"]))
        if any(f == "stream" for f, _ in FORMS):
            findings[services] = findings_summary(services, python, meshlint, args.timeout)
    cold = cold_start(python, meshlint, args.cold_runs) if args.cold_runs > 0 else None

    facts["harness_peak_mb"] = round(harness_peak_mb(), 1)
    print(report(rows, cold, findings, facts))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"facts": facts, "plan": plan, "rows": rows, "cold_start": cold,
                       "findings": {str(k): v for k, v in findings.items()},
                       "targets": [{"target": n, "measured": v, "result": m} for n, v, m in evaluate(rows, cold)]},
                      f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
