"""Fixtures of the report tests: a mixed input shared by them, and the CLI run on it once per format.

The workspace holds a copy of `examples/` (real findings with related resources), a file with
a YAML syntax error (ML001), an invalid resource with and without a name (ML002), findings
suppressed by the `meshlint.io/ignore` annotation and by the config's `ignore-resources`, a
file whose name and port name need escaping in every format (`workspace.odd_name`,
`workspace.odd_port`), and a document read from stdin (`workspace.stdin`). All paths are given
relative to the workspace, as a CI job would (`workspace.paths`).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

MIXED = """\
apiVersion: v1
kind: Service
metadata:
  name: legacy-db
  namespace: shop
  annotations:
    meshlint.io/ignore: "ML101"
spec:
  selector: {app: legacy-db}
  ports:
  - name: db
    port: 5000
  - name: admin
    port: 5001
---
apiVersion: v1
kind: Service
metadata:
  name: metrics
  namespace: ops
spec:
  selector: {app: metrics}
  ports:
  - name: prom
    port: 9090
---
apiVersion: v1
kind: Service
metadata:
  name: broken-ports
  namespace: shop
spec:
  ports: {}
---
apiVersion: v1
kind: Service
metadata:
  namespace: shop
spec:
  ports:
  - name: http
    port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: oops
  namespace: shop
spec:
  ports: [unclosed
"""

# A port name carrying every character the GitHub format must escape.
ODD_NAME = "odd/weird,name:v1.yaml"
ODD_PORT = "100%,a:b\nline2"
ODD = """\
apiVersion: v1
kind: Service
metadata:
  name: escapes
  namespace: edge
spec:
  selector: {app: escapes}
  ports:
  - name: "100%,a:b\\nline2"
    port: 8080
"""

CONFIG = 'ignore-resources:\n- {code: ML101, resource: "Service ops/*"}\n'

STDIN = """\
apiVersion: v1
kind: Service
metadata: {name: piped, namespace: stdin-ns}
spec:
  selector: {app: piped}
  ports:
  - name: custom
    port: 7000
"""

PATHS = ("examples", "mixed.yaml", "odd", "-")


@dataclass
class Workspace:
    root: Path
    run: Callable[..., subprocess.CompletedProcess]
    _runs: dict = field(default_factory=dict)

    paths: ClassVar[tuple[str, ...]] = PATHS
    stdin: ClassVar[str] = STDIN
    odd_name: ClassVar[str] = ODD_NAME
    odd_port: ClassVar[str] = ODD_PORT

    def check(self, *args: str, paths: tuple[str, ...] = PATHS,
              stdin: str | None = STDIN) -> subprocess.CompletedProcess:
        """`meshlint check PATHS ARGS` in the workspace (memoised: each format runs once)."""
        key = (args, paths, stdin)
        if key not in self._runs:
            self._runs[key] = self.run("check", *paths, *args, input=stdin, cwd=self.root)
        return self._runs[key]


@pytest.fixture(scope="session")
def workspace(tmp_path_factory, root, run) -> Workspace:
    path = tmp_path_factory.mktemp("mixed")
    shutil.copytree(root / "examples", path / "examples", ignore=shutil.ignore_patterns("*.md"))
    (path / "mixed.yaml").write_text(MIXED)
    (path / ODD_NAME).parent.mkdir()
    (path / ODD_NAME).write_text(ODD)
    (path / ".meshlint.yaml").write_text(CONFIG)
    return Workspace(path, run)
