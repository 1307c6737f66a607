#!/usr/bin/env python3
"""The live path's benchmark (issue #15): `meshlint check --kube` against `check` of the same
objects as one JSON `kind: List` file.

    python benchmarks/live.py [--services 5000] [--repeat 5] [--json FILE]

The mesh of `generate.py` (its `dump.json`, `kubectl get -A -o json`, 25,159 objects for 5,000
services) is served by the API emulator of the tests (`tests/kube/apiserver.py`, started as a
process of its own on 127.0.0.1, so that neither its time nor its memory is meshlint's), and
each run, interleaved with the other, is one process, timed with its start-up and imports:

  check       `meshlint check dump.json --format json --output /dev/null --fail-on never`: every
              object the emulator holds (ServiceAccounts, HPAs, PDBs and the applications'
              ConfigMaps too, which no rule reads)
  check-read  `meshlint check read.json ...`: exactly the objects `--kube` reads (the kinds the
              rules declare, ConfigMaps of the root namespace, Pods that have not ended), as
              meshlint's own reader gets them from the emulator, written once as one
              `kind: List` file (4-space indented, as kubectl writes JSON)
  check-kube  `meshlint check --kube --kubeconfig K --format json --output /dev/null --fail-on never`:
              the client's import, discovery, the paged lists over HTTP, the analysis

Targets: `check-kube` time at most 2x `check-read` (the same objects: transport overhead
only), peak memory at most 1.5x; the ratios to `check` are printed too. All three must report
the same findings (compared without file and line, which a live object has not, and apiVersion).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as harness  # noqa: E402  (the harness beside this file: generation, measurement)

EMULATOR = os.path.join(harness.REPO, "tests", "kube", "apiserver.py")
T_TIME = 2.0
T_MEMORY = 1.5

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{{name: bench, cluster: {{server: "{url}"}}}}]
users: [{{name: bench, user: {{token: bench}}}}]
contexts: [{{name: bench, context: {{cluster: bench, user: bench}}}}]
current-context: bench
"""

# the findings of a `--format json` report, without file and line, nor the resource's apiVersion
# (the API server serves a custom resource in its group's preferred version, the dump keeps the
# one it was written in), as a sorted list (in a child process: the harness stays small)
FINDINGS = r"""
import json, sys
report = json.load(open(sys.argv[1]))
keys = sorted(json.dumps([f["code"], f["variant"], f["resource"]["kind"], f["resource"]["namespace"],
                          f["resource"]["name"], f["message"]]) for f in report["findings"])
print(json.dumps({"count": len(keys), "keys": keys}))
"""

# the objects `check --kube` reads, as meshlint's reader gets them, into one List file
READ = r"""
import json, sys
from meshlint import rules
from meshlint.load import kube
readers = {}
for rule in rules.ALL:
    for kind in rule.inputs:
        readers.setdefault(kind, []).append(rule.code)
loaded = kube.read(kube.connect(kube.KubeTarget(sys.argv[1])), readers, "istio-system", "default")
items = [r.raw for r in loaded.resources] + [p.resource.raw for p in loaded.problems if p.resource is not None]
with open(sys.argv[2], "w") as fh:
    json.dump({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}, fh, indent=4)
print(len(items))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=harness.TARGET_SIZE)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", metavar="FILE", help="write every run and the medians to FILE")
    args = parser.parse_args(argv)

    python, meshlint = harness.tool_paths()
    facts = harness.machine_facts(python)
    harness.compile_bytecode(python, facts["package_dir"])
    harness.ensure_data(args.services)
    dump = os.path.join(harness.DATA, str(args.services), "dump.json")
    harness.warm_cache(dump)
    server = subprocess.Popen([python, EMULATOR, dump], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[-1]
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = os.path.join(tmp, "kubeconfig")
            with open(kubeconfig, "w") as fh:
                fh.write(KUBECONFIG.format(url=url))
            return _measure(args, python, meshlint, facts, dump, kubeconfig, tmp)
    finally:
        server.terminate()
        server.wait(10)


def _measure(args: argparse.Namespace, python: str, meshlint: str, facts: dict, dump: str, kubeconfig: str,
             tmp: str) -> int:
    common = ["--format", "json", "--fail-on", "never"]
    read = os.path.join(tmp, "read.json")
    count = subprocess.run([python, "-c", READ, kubeconfig, read], capture_output=True, text=True, check=True)
    commands = {
        "check": [python, "-c", harness.LAUNCH, "check", dump, *common],
        "check-read": [python, "-c", harness.LAUNCH, "check", read, *common],
        "check-kube": [python, "-c", harness.LAUNCH, "check", "--kube", "--kubeconfig", kubeconfig, *common],
    }
    reports = {}
    for name, cmd in commands.items():  # once each for the findings (and to warm up)
        report = os.path.join(tmp, f"{name}.json")
        first = harness.measure([*cmd, "--output", report], args.timeout)
        if first.code != 0:
            sys.exit(f"{name} failed ({first.code}): {first.err}")
        found = subprocess.run([python, "-c", FINDINGS, report], capture_output=True, text=True, check=True)
        reports[name] = json.loads(found.stdout)
    same = reports["check"]["keys"] == reports["check-read"]["keys"] == reports["check-kube"]["keys"]
    runs: dict[str, list[harness.Run]] = {name: [] for name in commands}
    for i in range(args.repeat):
        for name, cmd in commands.items():
            result = harness.measure([*cmd, "--output", os.devnull], args.timeout)
            if result.code != 0:
                sys.exit(f"{name} failed ({result.code}): {result.err}")
            runs[name].append(result)
            print(f"run {i + 1}/{args.repeat} {name}: {result.seconds:.2f} s, {result.peak_kb / 1024:.0f} MB",
                  file=sys.stderr, flush=True)
    seconds = {name: harness.median([r.seconds for r in rs]) for name, rs in runs.items()}
    memory = {name: harness.median([r.peak_kb / 1024 for r in rs]) for name, rs in runs.items()}
    time_ratio = seconds["check-kube"] / seconds["check-read"]
    memory_ratio = memory["check-kube"] / memory["check-read"]
    rows = [("check", f"`check dump.json` ({os.path.getsize(dump) / 1e6:.1f} MB, every object)"),
            ("check-read", f"`check read.json` ({os.path.getsize(read) / 1e6:.1f} MB, the {count.stdout.strip()} "
                           "objects --kube reads)"),
            ("check-kube", "`check --kube` (emulator)")]
    lines = [
        f"meshlint {facts.get('meshlint_commit', '')}, {args.services} services, medians of {args.repeat} "
        f"interleaved runs; harness peak {harness.harness_peak_mb():.0f} MB",
        "",
        "| form | findings | s | MB | --kube / form: time | memory |",
        "|---|---:|---:|---:|---:|---:|",
        *(f"| {label} | {reports[name]['count']} | {seconds[name]:.2f} | {memory[name]:.0f} | "
          f"{seconds['check-kube'] / seconds[name]:.2f}x | {memory['check-kube'] / memory[name]:.2f}x |"
          for name, label in rows),
        "",
        "| target | measured | |",
        "|---|---:|---|",
        f"| check --kube time <= {T_TIME:g}x check of the same objects as one List file | {time_ratio:.2f}x | "
        f"{harness.verdict(time_ratio, T_TIME)} |",
        f"| check --kube peak memory <= {T_MEMORY:g}x | {memory_ratio:.2f}x | "
        f"{harness.verdict(memory_ratio, T_MEMORY)} |",
        f"| the same findings | {'yes' if same else 'NO'} | {'PASS' if same else 'FAIL'} |",
    ]
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"facts": facts, "services": args.services, "seconds": seconds, "memory_mb": memory,
                       "runs": {n: [[r.seconds, r.peak_kb] for r in rs] for n, rs in runs.items()},
                       "same_findings": same}, fh, indent=2)
    return 0 if same and time_ratio <= T_TIME and memory_ratio <= T_MEMORY else 1


if __name__ == "__main__":
    sys.exit(main())
