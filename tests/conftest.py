"""What the tests share: the CLI runner, small manifests, the rule fixtures and the end-of-run summary.

Test modules never import one another (nor a helper module through `sys.path`): what a test
uses inside its body is a fixture here; what a decorator needs at collection time comes from
`pytest_generate_tests` (a test taking `rule_fixture` runs once per tests/rules/*.yaml), or is
parametrised over names a fixture resolves (`manifests`).

Rule fixtures: a fixture `tests/rules/ML103_host_not_in_gateway.yaml` is realistic
multi-document YAML. A trailing `# expect: ML103` comment marks a line where a finding must
point; `# expect: ML103 "text"` also requires the text in the message (several markers may
share a line). Lines without a marker must produce no finding of the fixture's rule (nor of any
code the fixture marks). An optional first line `# meshlint-config: {...}` (YAML flow mapping)
configures the run, with the keys of `.meshlint.yaml`. A rule may have more fixtures for cases
that need an input of their own, named `<CODE>_<name>__<variant>.yaml`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# --- the command line ----------------------------------------------------------------------------

Run = Callable[..., subprocess.CompletedProcess]


def _run(*args: str, input: str | bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    data = input.encode() if isinstance(input, str) else input
    # MESHLINT_DEBUG: an internal error prints its traceback, which fails the test below
    proc = subprocess.run([sys.executable, "-m", "meshlint", *args], input=data, capture_output=True, cwd=cwd,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "MESHLINT_DEBUG": "1"})
    proc.stdout = proc.stdout.decode()
    proc.stderr = proc.stderr.decode()
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository: examples/, docs/, src/."""
    return ROOT


@pytest.fixture(scope="session")
def run() -> Run:
    """`run(*args, input=None, cwd=None)`: `python -m meshlint ARGS` as a user runs it, with this
    checkout's src/ first; stdout and stderr decoded, and never a traceback on stderr (nor an
    internal error, whose traceback MESHLINT_DEBUG=1 prints)."""
    return _run


@pytest.fixture
def files(tmp_path) -> Callable[[str, str | bytes], Path]:
    """`files(name, text)`: write text (or bytes) to tmp_path/name, making parent directories."""
    def write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path
    return write


# --- small manifests, one per outcome --------------------------------------------------------------

CLEAN = """\
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: {app: cart}
  ports:
  - name: http
    port: 80
"""

WARNING = """\
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: {app: cart}
  ports:
  - name: http
    port: 80
  - name: web
    port: 8080
"""

INFO_ONLY = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: github
  namespace: shop
spec:
  hosts: [api.github.com]
  http:
  - timeout: 5s
    route:
    - destination: {host: api.github.com}
"""

ERROR = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: shop
spec:
  hosts: [shop.example.com]
  gateways: [public]
  http:
  - redirect:
      uri: /frontend
---
# the input holds the Gateways of namespace default, so a missing one is missing (not merely
# "not in the input"); a TCP server has no debug headers
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: internal
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
"""

MANIFESTS = MappingProxyType({"clean": CLEAN, "warning": WARNING, "info_only": INFO_ONLY, "error": ERROR})


@pytest.fixture(scope="session")
def manifests() -> Mapping[str, str]:
    """Name -> manifest text: `clean` (no finding), `warning` (one ML101 warning, line 11),
    `info_only` (one info finding), `error` (one ML102 error, line 7). Parametrise over the names."""
    return MANIFESTS


# --- a mesh of services calling each other (call graph, simulation) -------------------------------

SERVICE = """\
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{app: {name}}}
  ports: [{{name: http, port: 80}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: app
        image: ghcr.io/example/{name}:1.0.0
        env: [{env}]
"""


def _service_name(target: str) -> str:
    return re.match(r"(?:[a-z]+:/+)?([a-z0-9-]+)", target).group(1)


def _mesh_yaml(calls: dict[str, list[str]], ns: str = "shop") -> str:
    names = sorted(set(calls) | {_service_name(c) for cs in calls.values() for c in cs})
    docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels: {{istio-injection: enabled}}\n"]
    for name in names:
        env = ", ".join(f"{{name: DEP_{i}, value: '{target}'}}" for i, target in enumerate(calls.get(name, [])))
        docs.append(SERVICE.format(name=name, ns=ns, env=env))
    return "---\n".join(docs)


@pytest.fixture(scope="session")
def mesh_yaml() -> Callable[..., str]:
    """`mesh_yaml({"web": ["api:80"]}, ns="shop")`: an injected namespace with a Service and a
    Deployment per name, each calling its targets through environment variables."""
    return _mesh_yaml


# --- rule fixtures (tests/rules/*.yaml; format in the module docstring) ----------------------------

RULES_DIR = Path(__file__).parent / "rules"
MARKER = re.compile(r"#\s*expect:\s*(.*)$")
EXPECT = re.compile(r'(ML\d{3})(?:\s+"((?:[^"\\]|\\.)*)")?')
CONFIG = re.compile(r"^#\s*meshlint-config:\s*(.*)$")


@dataclass(frozen=True)
class Expectation:
    line: int
    code: str
    text: str | None


@dataclass(frozen=True)
class Fixture:
    path: Path
    code: str
    expectations: tuple[Expectation, ...]
    config: dict

    @property
    def codes(self) -> set[str]:
        return {self.code} | {e.code for e in self.expectations}

    def compare(self, findings: list) -> list[str]:
        """Differences between expected and actual findings, as readable lines ([] = agree)."""
        problems = []
        relevant = [f for f in findings if f.code in self.codes]
        actual = Counter((f.line, f.code) for f in relevant)
        expected = Counter((e.line, e.code) for e in self.expectations)
        for (line, code), n in (actual - expected).items():
            msgs = [f.message for f in relevant if (f.line, f.code) == (line, code)]
            problems.append(f"line {line}: unexpected {code} x{n}: {msgs}")
        for (line, code), n in (expected - actual).items():
            problems.append(f"line {line}: missing {code} x{n}")
        for e in self.expectations:
            if e.text is None:
                continue
            messages = [f.message for f in relevant if (f.line, f.code) == (e.line, e.code)]
            if messages and not any(e.text in m for m in messages):
                problems.append(f"line {e.line}: {e.code} message lacks {e.text!r}: {messages}")
        return problems


def parse(path: Path) -> Fixture:
    code = path.name.split("_", 1)[0]
    expectations = []
    config: dict = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number == 1 and (m := CONFIG.match(line)):
            config = yaml.safe_load(m.group(1)) or {}
            continue
        m = MARKER.search(line)
        if not m:
            continue
        for e in EXPECT.finditer(m.group(1)):
            text = e.group(2)
            if text is not None:
                text = re.sub(r"\\(.)", r"\1", text)  # \" and \\ escapes
            expectations.append(Expectation(number, e.group(1), text))
    return Fixture(path, code, tuple(expectations), config)


def all_fixtures() -> list[Fixture]:
    return [parse(p) for p in sorted(RULES_DIR.glob("ML*.yaml"))]


def pytest_generate_tests(metafunc):
    """A test taking `rule_fixture` runs once per tests/rules/*.yaml, with the file's stem as id."""
    if "rule_fixture" in metafunc.fixturenames:
        fixtures = all_fixtures()
        metafunc.parametrize("rule_fixture", fixtures, ids=[f.path.stem for f in fixtures])


@pytest.fixture(scope="session")
def rule_fixtures() -> list[Fixture]:
    """Every rule fixture, parsed, in file name order."""
    return all_fixtures()


@pytest.fixture(scope="session")
def expect_markers() -> Callable[[Path], tuple[Expectation, ...]]:
    """`expect_markers(path)`: the `# expect: CODE "text"` markers of any YAML file, written as
    in the rule fixtures (the manifests of the repository trees under tests/trees/)."""
    return lambda path: parse(path).expectations


# --- options ---------------------------------------------------------------------------------------


def pytest_addoption(parser):
    parser.addoption("--screenshot", metavar="PNG", default=None,
                     help="where the screenshot test saves its picture of the HTML report (make screenshot: "
                          "docs/report.png); default: a temporary file")


# --- where a finding points ----------------------------------------------------------------------


def _named_by(value) -> str | None:
    """The text a value starts with in its document, where that is known: a mapping's first key
    (a mapping is located at it), a string; None otherwise (numbers, empty collections)."""
    if isinstance(value, dict):
        return str(next(iter(value))) if value else None
    return value if isinstance(value, str) else None


def _field_at(finding) -> tuple[str, str] | None:
    """(the source text from the finding's line and column, what must start it), or None when
    there is nothing to compare (no resource, or a field whose text is not known: see
    `_named_by`). What must start it: the last key of the longest part of the finding's path
    that the object holds (the closest ancestor present), or the list item there."""
    resource = finding.resource
    if resource is None or resource.source is None:
        return None
    node, token = resource.raw, _named_by(resource.raw)
    for step in finding.path:
        if isinstance(node, dict) and step in node:
            node, token = node[step], str(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            token = _named_by(node)
        else:
            break
    if token is None:
        return None
    line = resource.source.text.split("\n")[finding.line - 1]
    return line[finding.column - 1:], token


@pytest.fixture(scope="session")
def field_at() -> Callable[..., tuple[str, str] | None]:
    """`field_at(finding)`: (the source text from the finding's line and column, the key, quoted
    or not, or list item that must start it), or None when there is nothing to compare."""
    return _field_at


# --- the end-of-run summary ------------------------------------------------------------------------

END_OF_RUN = pytest.StashKey[list[Callable[[], list[str]]]]()


def pytest_configure(config):
    config.stash[END_OF_RUN] = []


@pytest.fixture(scope="session")
def end_of_run_summary(request) -> Callable[[Callable[[], list[str]]], None]:
    """`end_of_run_summary(lines)`: print `lines()` in the terminal summary, after the run."""
    return request.config.stash[END_OF_RUN].append


def pytest_terminal_summary(terminalreporter, config):
    for lines in config.stash.get(END_OF_RUN, []):
        for line in lines():
            terminalreporter.write_line(line)
