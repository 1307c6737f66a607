#!/usr/bin/env python3
"""Prove that a change to meshlint's code changes none of its output.

    python benchmarks/same_output.py --base REV [--services 1000] [--ignore-keys variant]

Runs `meshlint check --format json` (and `graph` and `simulate`, as json and text) of the tree at REV
and of the working tree on the same inputs, and compares the two outputs document by
document:

- every file of `../shared/corpus/`, each alone (as `tests/test_corpus.py` checks them);
- `examples/`, as one directory;
- the generated mesh of `--services` services (`benchmarks/generate.py`) in each of its
  forms: the directory of files, the multi-document stream, the `kubectl get -o yaml` and
  `-o json` List dumps, the JSON one compact, and the dump's objects as a stream.

REV is checked out into a temporary `git worktree` and imported from its `src/` (same
interpreter, same dependencies). Keys named by `--ignore-keys` are removed from every finding
of the working tree's output before comparing (a refactoring may add a field to each finding,
never change one), and from its summary when they count nothing (a new count of 0 changes no
output; a non-zero one is listed as a difference). Exit 0 when every output is identical, 1 with the first differences
otherwise. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpus")
FORMS = ("files", "stream.yaml", "dump.yaml", "dump.json", "dump-compact.json", "dump-objects.yaml")

# Run inside the child interpreter: meshlint's own command line on every input, in-process
# (one interpreter per tree, not one per input), each output kept as text.
DRIVER = r"""
import contextlib, io, json, os, sys
import meshlint
from meshlint.cli import main

assert os.path.realpath(meshlint.__file__).startswith(os.path.realpath(sys.argv[1])), meshlint.__file__

runs = json.load(sys.stdin)
out = {}
for key, argv in runs:
    raw, errors = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8")  # with a .buffer, as the real one has
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(errors):
        code = main(argv)
    stdout.flush()
    out[key] = {"exit": code, "stdout": raw.getvalue().decode("utf-8")}
json.dump(out, sys.stdout)
"""


def inputs(services: int) -> list[tuple[str, list[str]]]:
    """(key, argv) of every run, paths relative to the repository."""
    runs: list[tuple[str, list[str]]] = []
    for root, _, names in os.walk(CORPUS):
        for name in sorted(names):
            if name.endswith((".yaml", ".yml", ".json")) and not name.startswith("EXPECTED"):
                path = os.path.relpath(os.path.join(root, name), REPO)
                runs.append((path, ["check", path, "--format", "json", "--fail-on", "never"]))
    runs.sort()
    runs.append(("examples", ["check", "examples", "--format", "json", "--fail-on", "never"]))
    runs.append(("examples graph", ["graph", "examples", "--format", "json"]))
    runs.append(("examples graph text", ["graph", "examples"]))
    storm = ["simulate", "examples", "--fail", "payment.payments", "--duration", "2"]
    runs.append(("examples simulate", [*storm, "--format", "json"]))
    runs.append(("examples simulate text", storm))
    sys.path.insert(0, HERE)
    from run import ensure_data  # the benchmark's cached generator output

    ensure_data(services)
    mesh = os.path.relpath(os.path.join(HERE, ".data", str(services)), REPO)
    for form in FORMS:
        path = os.path.join(mesh, form)
        runs.append((path, ["check", path, "--format", "json", "--fail-on", "never"]))
    runs.append((f"{mesh}/stream.yaml graph", ["graph", os.path.join(mesh, "stream.yaml"), "--format", "json"]))
    return runs


def outputs(src: str, runs: list[tuple[str, list[str]]]) -> dict:
    env = dict(os.environ, PYTHONPATH=src)
    done = subprocess.run([sys.executable, "-c", DRIVER, src], input=json.dumps(runs), cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"meshlint from {src} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def without(value, keys: set[str]):
    """The JSON value with `keys` removed from every finding, and from the summary where 0."""
    if isinstance(value, dict) and isinstance(value.get("findings"), list):
        value = dict(value, findings=[{k: v for k, v in f.items() if k not in keys} for f in value["findings"]])
        summary = value.get("summary")
        if isinstance(summary, dict):
            value["summary"] = {k: v for k, v in summary.items() if not (k in keys and v == 0)}
    return value


def differences(key: str, before: dict, after: dict, ignore: set[str]) -> list[str]:
    if before["exit"] != after["exit"]:
        return [f"{key}: exit {before['exit']} -> {after['exit']}"]
    if not before["stdout"].startswith("{"):  # a text report: compared as it is
        return [] if before["stdout"] == after["stdout"] else [f"{key}: output differs"]
    old, new = json.loads(before["stdout"]), without(json.loads(after["stdout"]), ignore)
    if old == new:
        return []
    out = [f"{key}: output differs"]
    if isinstance(old, dict) and isinstance(new, dict) and "findings" in old:
        gone = [f for f in old["findings"] if f not in new["findings"]]
        added = [f for f in new["findings"] if f not in old["findings"]]
        out += [f"  - {json.dumps(f)[:300]}" for f in gone[:3]] + [f"  + {json.dumps(f)[:300]}" for f in added[:3]]
        if old.get("summary") != new.get("summary"):
            out.append(f"  summary {old.get('summary')} -> {new.get('summary')}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", required=True, help="git revision to compare the working tree with")
    p.add_argument("--services", type=int, default=1000, help="size of the generated mesh (default 1000)")
    p.add_argument("--ignore-keys", default="variant",
                   help="finding keys new in the working tree, left out of the comparison (default: variant)")
    args = p.parse_args(argv)
    runs = inputs(args.services)
    ignore = {k for k in args.ignore_keys.split(",") if k}
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", base, args.base], cwd=REPO, check=True)
        try:
            before = outputs(os.path.join(base, "src"), runs)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", base], cwd=REPO, check=False)
    after = outputs(os.path.join(REPO, "src"), runs)
    problems = [line for key, _ in runs for line in differences(key, before[key], after[key], ignore)]
    findings = sum(len(json.loads(before[k]["stdout"]).get("findings", ())) for k, _ in runs
                   if before[k]["stdout"].startswith("{"))
    if problems:
        print("\n".join(problems[:60]))
        print(f"{len({p.split(':')[0] for p in problems if not p.startswith(' ')})} of {len(runs)} outputs differ")
        return 1
    print(f"{len(runs)} outputs identical ({findings} findings) between {args.base} and the working tree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
