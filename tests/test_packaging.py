"""The package as a user installs it: the sdist and wheel that `make dist` builds, installed
into a fresh virtual environment, and the install commands the documentation gives.

The build runs without isolation (the dev extras bring `build` and a setuptools that reads
SPDX licences), so it needs no network. The fresh environment gets the wheel alone; its
dependencies are borrowed from the test's own environment through a `.pth` line, placed after
the fresh site-packages, so `meshlint` itself can only come from the wheel. `pip check` then
proves the wheel's declared dependencies are what it needs.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"
WHEEL = f"meshlint-{VERSION}-py3-none-any.whl"
SDIST = f"meshlint-{VERSION}.tar.gz"
DOCS = ("README.md", "docs/PACKAGE.md", "docs/ci.md", ".pre-commit-hooks.yaml")


def _missing(component: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{component} is missing: `make dev` installs it")
    pytest.skip(f"{component} is missing (run `make dev`)")


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """`python -m build` into a temporary dist/: the sdist, then the wheel built from it."""
    if importlib.util.find_spec("build") is None:
        _missing("the `build` package")
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        _missing(f"setuptools>=77 (found {setuptools.__version__})")
    out = tmp_path_factory.mktemp("dist")
    proc = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == [WHEEL, SDIST]
    return out


@pytest.fixture(scope="module")
def fresh_venv(dist, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel installed in it; its bin/ directory."""
    venv = tmp_path_factory.mktemp("venv")
    proc = _run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert proc.returncode == 0, proc.stderr
    python = venv / "bin" / "python"
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    (purelib / "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    proc = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
                dist / WHEEL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return venv / "bin"


def test_the_wheel_installs_and_runs_in_a_fresh_environment(fresh_venv, tmp_path):
    where = _run(fresh_venv / "python", "-c", "import meshlint; print(meshlint.__file__)").stdout
    assert where.startswith(str(fresh_venv.parent)), where
    assert _run(fresh_venv / "meshlint", "--version").stdout.strip() == f"meshlint {VERSION}"
    manifest = tmp_path / "cart.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: cart, namespace: shop}\n"
                        "spec:\n  selector: {app: cart}\n  ports:\n  - {name: web, port: 8080}\n")
    proc = _run(fresh_venv / "meshlint", "check", manifest)
    assert proc.returncode == 1, proc.stderr
    assert f"{manifest}:7:6: ML101 [warning] Service shop/cart" in proc.stdout
    # the rule documentation ships in the wheel (module docstrings)
    page = _run(fresh_venv / "meshlint", "rule", "ML101")
    assert page.returncode == 0 and "## Why it matters" in page.stdout
    # and so do the HTML report's templates, style sheet and script
    report = _run(fresh_venv / "meshlint", "check", manifest, "--format", "html")
    assert report.returncode == 1, report.stderr
    assert report.stdout.startswith("<!doctype html>") and "window.meshlintReady" in report.stdout
    check = _run(sys.executable, "-m", "pip", "--python", fresh_venv / "python", "check")
    assert check.returncode == 0, check.stdout


def test_the_wheel_carries_the_licence_and_a_description_of_its_own(dist):
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"meshlint-{VERSION}.dist-info/METADATA").decode()
        licence = wheel.read(f"meshlint-{VERSION}.dist-info/licenses/LICENSE").decode()
    assert licence == (ROOT / "LICENSE").read_text()
    assert "License-Expression: Apache-2.0" in metadata and "License-File: LICENSE" in metadata
    assert "Classifier: Programming Language :: Python :: 3.11" in metadata
    headers, _, description = metadata.partition("\n\n")
    assert description.strip() == (ROOT / "docs" / "PACKAGE.md").read_text().strip()
    assert "Provides-Extra: simulate" not in headers and "Requires-Dist: simpy" in headers
    assert "meshlint/rules/port_protocol_unset.py" in names
    with tarfile.open(dist / SDIST) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"LICENSE", "pyproject.toml", "docs/PACKAGE.md", "src/meshlint/cli.py"} <= members


def test_the_licence_is_the_apache_license_2_0():
    text = (ROOT / "LICENSE").read_text()
    assert text.splitlines()[1].strip() == "Apache License"
    assert "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    assert 'Licensed under the Apache License, Version 2.0 (the "License");' in text


def test_the_package_description_stands_on_its_own():
    """PyPI and `pip show` render it without the repository around it: no relative links, no
    `make` targets of the checkout."""
    text = (ROOT / "docs" / "PACKAGE.md").read_text()
    assert not re.search(r"\]\((?!https?://)", text), "relative link in the package description"
    assert "make demo" not in text and "make test" not in text


def test_the_readme_quick_start_is_make_demo_and_make_test():
    quick_start = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make demo" in quick_start and "make test" in quick_start


# The forms of `pip install` that the documentation may give: each is exercised above (the
# wheel) or is the plain checkout / a plain dependency.
INSTALLABLE = re.compile(r"""pip install (\.|'\.\[(plot|kube)\]'|(\S+/)?meshlint-[\d.]+-py3-none-any\.whl"""
                         r"""|matplotlib|kubernetes|"git\+<meshlint-repository-url>@v[\d.]+")(?=[\s`)]|$)""")


@pytest.mark.parametrize("doc", DOCS)
def test_every_documented_install_command_is_one_that_works(doc):
    """meshlint is not on PyPI: no `pip install meshlint`, no extras by that name (simpy is a
    core dependency, so there is no `simulate` extra), and no repository URL of our own except
    the marked placeholder."""
    text = (ROOT / doc).read_text()
    commands = re.findall(r"pip install +[^\s`][^\n`]*", text)
    for command in commands:
        assert INSTALLABLE.match(command), f"{doc}: {command!r}"
    assert "meshlint[" not in text
    assert "github.com/meshlint" not in text


def test_error_messages_name_installs_that_work():
    for path in (ROOT / "src" / "meshlint").rglob("*.py"):
        for command in re.findall(r"pip install +[^\s`\"][^\n\"`]*", path.read_text()):
            assert INSTALLABLE.match(command), f"{path.name}: {command!r}"
