"""`meshlint fix` over real inputs (issue 17, "How it is checked"): the corpus, `examples/` and
every rule fixture, fixed with the safe fixes and with `--unsafe`. Each time: every fixable
finding is gone (or says why its fix was not applied), no finding appears, the files parse to
the same objects outside the paths the fixes meant to change, no comment line is lost, the
edits replace few lines, a second `fix` changes nothing, and `git apply` of the `--diff` gives
the bytes of the in-place fix."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from meshlint import rules
from meshlint.config import Config, from_mapping
from meshlint.engine import Inputs, check, fix
from meshlint.finding import Applicability, Finding
from meshlint.fix.diff import unified
from meshlint.fix.model import FixResult
from meshlint.load import load
from meshlint.resource import FileOrigin

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("source", [CORPUS, ROOT / "examples"], ids=["corpus", "examples"])
def test_fix_then_check(source: Path, unsafe: bool, tmp_path, monkeypatch):
    if not source.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{source} is missing: CI must run with shared/ beside the clone")
        pytest.skip(f"{source} is not beside the project")
    outcome = _fix_then_check(source, Config(), unsafe, tmp_path, monkeypatch)
    assert outcome.fixed and outcome.changes  # the test sees real fixes, not an empty run


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fix_then_check_rule_fixture(rule_fixture, unsafe: bool, tmp_path, monkeypatch):
    config = from_mapping(rule_fixture.config, rules.BY_CODE, where=rule_fixture.path.name)
    _fix_then_check(rule_fixture.path, config, unsafe, tmp_path, monkeypatch)


def _fix_then_check(source: Path, config: Config, unsafe: bool, tmp_path: Path, monkeypatch) -> FixResult:
    monkeypatch.chdir(tmp_path)
    name = source.name
    for tree in ("fixed", "pristine", "patched"):
        _copy(source, tmp_path / tree / name)
    fixed, pristine = f"fixed/{name}", f"pristine/{name}"

    before = check(Inputs([pristine]), config)
    outcome = fix(Inputs([fixed]), config, unsafe=unsafe)
    assert not outcome.result.internal_errors, outcome.result.internal_errors
    after = check(Inputs([fixed]), config)

    # no finding appears (of any rule: the fix run checks with every rule)
    new = (Counter(_identity(f, fixed) for f in after.findings)
           - Counter(_identity(f, pristine) for f in before.findings))
    assert not new, f"new findings: {sorted(map(str, new))}"
    # every finding the run could fix is gone, or says why its fix was not applied
    for f in outcome.result.reported:
        if _applicable(f, unsafe):
            assert f.unfixable, f"{f.file}:{f.line}: {f.code} {f.message}: fixable, not fixed, no reason"

    changed = [Path(c.path) for c in outcome.changes if c.path is not None]
    _objects_change_only_where_meant(pristine, fixed, outcome.applied)
    for path in changed:
        old = (tmp_path / "pristine" / path.relative_to("fixed")).read_text(encoding="utf-8-sig").splitlines()
        new_lines = path.read_text(encoding="utf-8-sig").splitlines()
        assert not Counter(_comments(old)) - Counter(_comments(new_lines)), f"{path}: a comment line is lost"
        removed = [line for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, old, new_lines).get_opcodes()
                   if tag in ("replace", "delete") for line in old[i1:i2]]
        assert not _comments(removed), f"{path}: edited comment lines {removed}"
        assert len(removed) <= 2 * sum(len(f.autofix.edits) for f in outcome.applied if f.autofix), \
            f"{path}: {len(removed)} lines replaced or removed"

    # a second run changes nothing
    assert fix(Inputs([fixed]), config, unsafe=unsafe, write=False).changes == []

    # `git apply` of the --diff of the pristine tree gives the in-place result
    preview = fix(Inputs([f"patched/{name}"]), config, unsafe=unsafe, write=False)
    _apply(unified(preview.changes), tmp_path)
    assert _tree(tmp_path / "patched") == _tree(tmp_path / "fixed")
    if not changed:
        assert _tree(tmp_path / "fixed") == _tree(tmp_path / "pristine")
    return outcome


def _identity(f: Finding, top: str) -> tuple:
    """What a finding is about, the same in either tree: its rule, variant and resource (or
    file, for an input problem, relative to the tree)."""
    return (f.code, f.variant, f.resource.ref if f.resource is not None else os.path.relpath(f.file, top))


def _applicable(f: Finding, unsafe: bool) -> bool:
    return f.autofix is not None and (unsafe or f.autofix.applicability is Applicability.SAFE)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)


def _tree(top: Path) -> dict[str, bytes]:
    return {str(p.relative_to(top)): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


def _comments(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if line.lstrip().startswith("#")]


def _apply(diff: str, cwd: Path) -> None:
    if not diff:
        return
    git = shutil.which("git")
    if git is None:  # pragma: no cover - Debian's git is installed where the suite runs
        pytest.skip("git is not installed")
    proc = subprocess.run([git, "apply", "-"], input=diff.encode(), cwd=cwd, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


def _objects(top: str) -> dict[tuple, object]:
    """Every object by its file (relative to the tree), its place in the file and its ref."""
    loaded = load([top])
    out: dict[tuple, object] = {}
    for r in loaded.resources:
        origin = r.origin
        assert isinstance(origin, FileOrigin)
        source = origin.document.source
        where = os.path.relpath(source.path or "-", top)
        out[(where, r.ref)] = r.raw
    return out


def _objects_change_only_where_meant(pristine: str, fixed: str, applied: list[Finding]) -> None:
    """Parsed again, the fixed tree holds the pristine objects, changed only at (or under, or on
    the way to) the paths that the applied fixes' edits name, plus the objects they create."""
    allowed: dict[object, list[tuple]] = {}
    created = set()
    for f in applied:
        assert f.autofix is not None
        for edit in f.autofix.edits:
            ref = edit.target or (f.resource.ref if f.resource is not None else None)
            if edit.path == ():
                created.add(ref)
            allowed.setdefault(ref, []).append(tuple(edit.path))
    old, new = _objects(pristine), _objects(fixed)
    for key, obj in new.items():
        if key not in old:
            assert key[1] in created, f"{key}: an object no fix creates"
            continue
        for path in _differences(old[key], obj):
            assert any(path[:len(p)] == p or p[:len(path)] == path for p in allowed.get(key[1], [])), (
                f"{key}: changed at {path}, which no applied fix names ({allowed.get(key[1])})")
    assert set(old) <= set(new), f"objects lost: {set(old) - set(new)}"


def _differences(a: object, b: object, path: tuple = ()) -> list[tuple]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                out.append(path + (k,))
            else:
                out += _differences(a[k], b[k], path + (k,))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, path + (i,))]
    return [] if a == b and type(a) is type(b) else [path]
