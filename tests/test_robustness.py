"""The fuzz suite: whatever the input, meshlint ends with exit code 0, 1 or 2 (never a
traceback, nor an internal error), and its time and memory grow linearly with the input.

Hypothesis generates, per category:

- type confusion: a field of a real document (every rule fixture, examples/) replaced, at
  any path, by a value of another type;
- huge numbers: a number anywhere replaced by a 4,000-digit integer, an infinity, NaN, 2^63,
  a negative or a zero;
- bad unicode: names, hosts and labels with lone surrogates (JSON escapes), control
  characters, bidi marks and astral characters; bytes that are no text at all;
- documents held in strings (the istio ConfigMap's mesh config, proxy.istio.io/config):
  bad tags, aliases, deep nesting, huge numbers;
- resource exhaustion: many references to one host, one Gateway, one name, one Service's
  pods, many kinds, many namespaces: the report and the time must grow linearly with them;
- bad configuration files: YAML and TOML with wrong types, dates, huge and non-finite numbers,
  deep nesting, and garbage;
- bad command-line option values;
- dense call graphs for `simulate`: the run is refused before any work, or it makes no more
  tries than the bound that let it start.

`make test` runs the same examples every time (derandomized), in under a minute; `make fuzz`
(MESHLINT_FUZZ=N) runs N times as many, new ones every run: a failure prints the
`@reproduce_failure` blob that replays it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import os
import signal
import time
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from meshlint import cli, engine, rules
from meshlint.config import Config, ConfigError
from meshlint.configfile import load_config
from meshlint.engine import Inputs, Storm, check_loaded
from meshlint.graph.render import RENDERERS as GRAPH_FORMATS
from meshlint.load import Loaded
from meshlint.load.objects import add_value
from meshlint.mesh.callgraph import Edge, Graph
from meshlint.mesh.retries import effective
from meshlint.report import FORMATS, RenderOptions, renderer
from meshlint.resource import Document, FileOrigin, Source
from meshlint.simulate import run as simulation
from meshlint.simulate.model import FIXES, STATUSES, requests

ROOT = Path(__file__).resolve().parent.parent
FUZZ = int(os.environ.get("MESHLINT_FUZZ", "0"))


def fuzzing(examples: int) -> settings:
    """`examples` in `make test`, always the same ones; MESHLINT_FUZZ times as many, new ones,
    in `make fuzz`."""
    return settings(max_examples=examples * max(FUZZ, 1), derandomize=not FUZZ, database=None, deadline=None,
                    print_blob=bool(FUZZ),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


class _Hung(BaseException):
    """An example ran for longer than EXAMPLE_SECONDS (a BaseException, so that no `except
    Exception` of meshlint's takes it for an error of its own)."""


EXAMPLE_SECONDS = 30  # each example takes well under a second: longer is a hang


def bounded(test):
    """Fail an example that hangs instead of hanging the suite: Hypothesis checks a deadline
    only when the example returns."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        def expired(signum, frame):
            raise _Hung(f"an example ran for more than {EXAMPLE_SECONDS} s")

        previous = signal.signal(signal.SIGALRM, expired)
        signal.setitimer(signal.ITIMER_REAL, EXAMPLE_SECONDS)
        try:
            return test(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    return run


def _load_docs() -> list[dict]:
    out = []
    for path in sorted((ROOT / "tests" / "rules").glob("*.yaml")) + sorted((ROOT / "examples").rglob("*.yaml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue  # the ML001 fixture
        out += [d for d in docs if isinstance(d, dict)]
    return out


DOCS = _load_docs()


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _mutate(doc: dict, path: tuple, value) -> dict:
    doc = copy.deepcopy(doc)
    if not path:
        return doc
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return doc


def _check_everything(data: bytes, name: str = "fuzz.yaml") -> None:
    """`check` in every format, and `graph` in every format, of `data` given on stdin as
    `name`: no internal error, and every report is UTF-8."""
    result = engine.check(Inputs(["-"], stdin=io.BytesIO(data)), Config())
    assert not result.internal_errors, result.internal_errors
    for fmt in FORMATS:
        renderer(fmt)(result, RenderOptions()).decode("utf-8")
    view = engine.graph(Inputs(["-"], stdin=io.BytesIO(data)), Config())
    for render in GRAPH_FORMATS.values():
        render(view).encode("utf-8")


# --- type confusion at every field --------------------------------------------------------------

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.floats(allow_nan=False),
                    st.text(max_size=8), st.sampled_from(["*", "mesh", "STRICT", "5xx", "true", "v1"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)


@fuzzing(150)
@given(data=st.data())
@bounded
def test_rules_never_raise_on_wrong_types(data):
    """Wrong types anywhere become ML002, never an internal error: one field of one document
    replaced, among others so that cross-resource rules see it."""
    doc = data.draw(st.sampled_from(DOCS))
    path = data.draw(st.sampled_from([p for p in _paths(doc) if p]))
    mutated = _mutate(doc, path, data.draw(VALUES))
    others = [d for d in DOCS if d is not doc][:40]
    text = yaml.safe_dump_all([mutated, *others], sort_keys=False)
    source = Source("fuzz.yaml", text)
    loaded = Loaded(sources=[source])
    for i, item in enumerate(yaml.safe_load_all(text)):
        add_value(loaded, item, FileOrigin(Document(source, 0, len(text), 1, i)), "default")
    result = check_loaded(loaded, Config())
    assert not result.internal_errors, result.internal_errors


# --- huge numbers ----------------------------------------------------------------------------------

# Stands for an integer of 6,000 digits, which YAML reads from hex (Python's 4,300-digit limit on
# int() holds for decimal only) but no dumper writes: put in the text after dumping.
LONG_HEX = "LONG-HEX-INTEGER"
HUGE = st.one_of(st.sampled_from([10**4000, -(10**4000), 2**31, 2**31 - 1, 2**63, 2**64 + 1, -1, 0, 10**308,
                                  10**309, float("inf"), float("-inf"), float("nan"), 1e-320, -0.0, LONG_HEX]),
                 st.integers(min_value=-(10**4200), max_value=10**4200))


def _with_long_hex(text: str) -> str:
    return text.replace(f'"{LONG_HEX}"', LONG_HEX).replace(LONG_HEX, "0x" + "f" * 5000)
ODD_DURATIONS = st.sampled_from(["9" * 400 + "s", "1e400s", "0s", "0.0000001ns", "-1s", "1h1h", "", "inf", "1.5",
                                 "2147483648s", "0.001ms"])

# A call chain with everything a number or a duration can change: retries (of routes, and the
# mesh's default), timeouts, a retry budget, maxRetries, outlier detection, ports.
CHAIN = yaml.safe_load_all("""\
apiVersion: v1
kind: Namespace
metadata: {name: chain, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: chain}
spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: chain}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {port: 8080, path: /ready}}
        env: [{name: API, value: "http://api:80"}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: chain}
spec: {selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: chain}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        env: [{name: DB, value: "http://db:80"}, {name: CACHE, value: "cache.chain:6379"}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: chain}
spec: {selector: {app: db}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: cache, namespace: chain}
spec: {selector: {app: cache}, ports: [{name: http-cache, port: 6379}]}
---
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: installed, namespace: istio-system}
spec:
  revision: "1-22"
  meshConfig: {defaultHttpRetryPolicy: {attempts: 4, perTryTimeout: 2s}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: chain}
spec:
  hosts: [api]
  http:
  - retries: {attempts: 3, perTryTimeout: 1s, retryOn: "5xx,503"}
    timeout: 10s
    route: [{destination: {host: api}, weight: 90}, {destination: {host: api, subset: v2}, weight: 10}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: chain}
spec:
  hosts: [db]
  http:
  - retries: {attempts: 2}
    route: [{destination: {host: db, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: chain}
spec:
  host: db
  trafficPolicy:
    retryBudget: {percent: {value: 20}, minRetryConcurrency: 3}
    outlierDetection: {consecutive5xxErrors: 5, baseEjectionTime: 30s}
    connectionPool: {http: {maxRetries: 3}}
""")
CHAIN = list(CHAIN)


@fuzzing(80)
@given(data=st.data())
@bounded
def test_huge_numbers_anywhere(data):
    """A number or a duration of a call chain (or any field of any document) replaced by a huge
    one, or an infinite one: `check`, `graph` and `simulate` as YAML, and as JSON (which writes
    what YAML cannot)."""
    docs = [copy.deepcopy(d) for d in CHAIN]
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.sampled_from(range(len(docs))))
        paths = [p for p in _paths(docs[i]) if p]
        numbers = [p for p in paths if _is_number_or_duration(_at(docs[i], p))]
        path = data.draw(st.sampled_from(numbers if numbers and data.draw(st.integers(0, 3)) else paths))
        old = _at(docs[i], path)
        docs[i] = _mutate(docs[i], path, data.draw(ODD_DURATIONS if isinstance(old, str) else HUGE))
    as_json = data.draw(st.booleans())
    text = _with_long_hex(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}) if as_json else
                          yaml.safe_dump_all(docs, sort_keys=False)).encode()
    _check_everything(text, "fuzz.json" if as_json else "fuzz.yaml")
    with mock.patch.object(simulation, "MAX_TRIES", 20_000):  # (the same refusal, sooner)
        result = engine.simulate(Inputs(["-"], stdin=io.BytesIO(text)), Config(), Storm("db.chain", rps=10,
                                                                                         duration=1))
    assert result.problem or result.current is not None


def _is_number_or_duration(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or \
        isinstance(value, str) and value[:1].isdigit() and value[-1:] in "sm"


def _at(doc, path):
    for step in path:
        doc = doc[step]
    return doc


# --- bad unicode ---------------------------------------------------------------------------------

ODD_TEXT = st.lists(st.one_of(st.characters(codec=None, categories=None), st.sampled_from(
    ["\ud800", "\udfff", "\x00", "\x1b[31m", "\u202e", "\ufeff", "\U0001f600", "\r", "\n", "\x85", "\u2028"])),
    max_size=8).map("".join)


@fuzzing(80)
@given(data=st.data())
@bounded
def test_bad_unicode_in_names_hosts_and_labels(data):
    """Lone surrogates reach the loader through JSON escapes (the standard parser keeps them);
    anything else goes through YAML too."""
    doc = copy.deepcopy(data.draw(st.sampled_from(DOCS)))
    strings = [p for p in _paths(doc) if p and isinstance(_at(doc, p), str)]
    for path in data.draw(st.lists(st.sampled_from(strings), max_size=4)) if strings else ():
        doc = _mutate(doc, path, data.draw(ODD_TEXT))
    if data.draw(st.booleans()):
        labels = doc.setdefault("metadata", {}).setdefault("labels", {})
        if isinstance(labels, dict):
            labels[data.draw(ODD_TEXT)] = data.draw(ODD_TEXT)
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [doc, *DOCS[:20]]}, ensure_ascii=True)
    _check_everything(text.encode(), "fuzz.json")
    clean = json.loads(json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    _check_everything(yaml.safe_dump_all([clean, *DOCS[:20]], allow_unicode=True).encode("utf-8"))


EMBEDDED_PIECES = st.sampled_from(["a: !!bool maybe", "!!float ''", "!!timestamp x", "&a [*a]", "*b", "[" * 3000,
                                   '{"x": "\\ud800"}', "x: 0x" + "f" * 5000, "x: " + "9" * 5000, "defaultConfig:",
                                   "  proxyHeaders: {envoyDebugHeaders: {disabled: true}}", "- 1", "---", "{", "\t",
                                   "holdApplicationUntilProxyStarts: yes", "a: &x {b: *x}",
                                   "b0: &b0 [x, x, x, x, x, x, x, x, x, x]\nb1: &b1 [*b0, *b0, *b0, *b0, *b0, *b0]\n"
                                   "b2: [*b1, *b1, *b1, *b1, *b1, *b1, *b1, *b1, *b1]"])


@fuzzing(60)
@given(mesh=st.lists(EMBEDDED_PIECES, max_size=4).map("\n".join),
       proxy=st.lists(EMBEDDED_PIECES, max_size=3).map("\n".join))
@bounded
def test_documents_held_in_strings(mesh, proxy):
    """The mesh config in the istio ConfigMap and the proxy.istio.io/config annotation are YAML
    inside a string: read as a document is, with the same limits."""
    docs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
             "data": {"mesh": mesh}},
            {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
             "metadata": {"name": "edge", "namespace": "shop"},
             "spec": {"selector": {"istio": "ingressgateway"},
                      "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ingress", "namespace": "shop"},
             "spec": {"template": {"metadata": {"labels": {"istio": "ingressgateway"},
                                                "annotations": {"proxy.istio.io/config": proxy}},
                                   "spec": {"containers": [{"name": "istio-proxy"}]}}}}]
    _check_everything(yaml.safe_dump_all(docs).encode())


@fuzzing(60)
@given(data=st.binary(max_size=300), prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]))
@bounded
def test_bytes_that_are_no_text(data, prefix):
    _check_everything(prefix + data)
    _check_everything(prefix + b"apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n" + data)


# --- resource exhaustion: many references to one thing --------------------------------------------

def _vs(i: int, spec: str) -> str:
    return f"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: vs{i}, namespace: shop}}\n" \
           f"spec:\n{spec}"


GROWING = {
    # VirtualServices with retries and a canary split to one host, DestinationRules for it
    "routes to one host": lambda i: _vs(i, "  hosts: [cart]\n  http:\n  - retries: {attempts: 3}\n    route:\n"
                                        f"    - destination: {{host: cart, subset: v{i}}}\n      weight: 90\n"
                                        "    - destination: {host: cart, subset: c}\n      weight: 10\n")
    + f"---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: dr{i}, namespace: shop}}\n"
      f"spec:\n  host: cart\n  subsets: [{{name: s{i}, labels: {{v: s{i}}}}}]\n",
    # VirtualServices bound to one Gateway whose hosts grow with them, none matching
    "bindings to one gateway": lambda i: _vs(i, f"  hosts: [v{i}.example.com]\n  gateways: [edge]\n"
                                                "  http:\n  - route:\n    - destination: {host: web}\n")
    + "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: shop}\n"
      f"spec:\n  servers:\n  - port: {{number: 80, name: http, protocol: HTTP}}\n    hosts: [h{i}.example.com]\n"
    if i == 0 else _vs(i, f"  hosts: [v{i}.example.com]\n  gateways: [edge]\n  http:\n  - route:\n"
                          "    - destination: {host: web}\n"),
    # references to a Gateway name that exists only in other namespaces
    "a name elsewhere": lambda i: _vs(i, "  hosts: [a.example.com]\n  gateways: [public]\n  http:\n"
                                         "  - route:\n    - destination: {host: web}\n")
    + f"---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {{name: public, namespace: ns{i}}}\n"
      "spec:\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n",
    # mesh-only VirtualServices for an external host that Gateways serve
    "gateways serving a host": lambda i: _vs(i, "  hosts: [shop.example.com]\n  http:\n"
                                                "  - route:\n    - destination: {host: web}\n")
    + f"---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {{name: gw{i}, namespace: shop}}\n"
      "spec:\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [shop.example.com]\n",
    # namespaces with the legacy label, and installed revisions
    "namespaces and revisions": lambda i: f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{i}, "
                                          "labels: {istio-injection: enabled}}\n---\n"
                                          "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n"
                                          f"metadata: {{name: op{i}, namespace: istio-system}}\n"
                                          f"spec: {{revision: r{i}}}\n",
    # workloads calling one host
    "callers of one host": lambda i: "apiVersion: apps/v1\nkind: Deployment\n"
                                     f"metadata: {{name: c{i}, namespace: shop}}\nspec:\n  template:\n"
                                     f"    metadata: {{labels: {{app: c{i}}}}}\n    spec:\n      containers:\n"
                                     "      - name: app\n        env: [{name: CART, value: 'http://cart:80'}]\n",
    # documents of distinct kinds
    "distinct kinds": lambda i: f"apiVersion: example.com/v1\nkind: Kind{i}\nmetadata: {{name: a{i}}}\n",
    # callers outside the mesh of a Service behind STRICT mTLS, Gateways selecting its pods,
    # which skip probe rewriting: every one of them is selected by every Gateway and the Service
    "workloads behind one service": lambda i: (
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: legacy, labels: {istio-injection: disabled}}\n---\n"
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: shop}\n"
        "spec: {mtls: {mode: STRICT}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\n"
        "spec: {type: LoadBalancer, selector: {app: db}, ports: [{name: http, port: 80}]}\n---\n" if i == 0 else "")
    + f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: db{i}, namespace: shop}}\nspec:\n  template:\n"
      "    metadata: {labels: {app: db}, annotations: {sidecar.istio.io/rewriteAppHTTPProbers: 'false'}}\n"
      "    spec: {containers: [{name: db, readinessProbe: {httpGet: {port: 8080}}}]}\n---\n"
      f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: c{i}, namespace: legacy}}\nspec:\n  template:\n"
      f"    metadata: {{labels: {{app: c{i}}}}}\n"
      "    spec: {containers: [{name: c, env: [{name: DB, value: 'http://db.shop:80'}]}]}\n---\n"
      f"apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {{name: gw{i}, namespace: shop}}\n"
      "spec: {selector: {app: db}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]}\n",
}


@fuzzing(12)
@given(kinds=st.lists(st.sampled_from(sorted(GROWING)), min_size=1, max_size=3, unique=True),
       n=st.integers(20, 60))
@bounded
def test_the_report_grows_linearly_with_references_to_one_thing(kinds, n):
    """The same shape at n and 4n: the report (JSON, SARIF) grows 4x, not 16x."""
    def report(count: int, fmt: str) -> int:
        text = "---\n".join(GROWING[k](i) for k in kinds for i in range(count))
        result = engine.check(Inputs(["-"], stdin=io.BytesIO(text.encode())), Config())
        assert not result.internal_errors
        return len(renderer(fmt)(result, RenderOptions()))

    for fmt in ("json", "sarif"):
        small, large = report(n, fmt), report(4 * n, fmt)
        assert large <= 4.5 * small + 5000, (fmt, small, large)


@pytest.mark.parametrize("kind", sorted(GROWING))
def test_the_time_grows_linearly_with_references_to_one_thing(kind):
    """The same shape at n and 4n takes at most about 4x the CPU time, not 16x (after a warm-up,
    the better of two runs; the margin absorbs a noisy machine)."""
    def seconds(count: int) -> float:
        text = "---\n".join(GROWING[kind](i) for i in range(count)).encode()
        started = time.process_time()
        engine.check(Inputs(["-"], stdin=io.BytesIO(text)), Config())
        engine.graph(Inputs(["-"], stdin=io.BytesIO(text)), Config())
        return time.process_time() - started

    seconds(50)
    small, large = min(seconds(300) for _ in range(2)), min(seconds(1200) for _ in range(2))
    assert large < 8 * small + 0.05, (small, large)


# --- bad configuration files -----------------------------------------------------------------------

CONFIG_KEYS = sorted({"select", "ignore", "severity", "fail-on", "default-namespace", "ignore-resources",
                      "root-namespace", "injected-namespaces", "uninjected-namespaces", "known-gateways",
                      "known-hosts", "native-sidecars", "istio-version", "retry-amplification",
                      "aggressive-retries", "nonsense"})
ODD_SCALARS = st.one_of(HUGE, ODD_TEXT, st.booleans(), st.none(), st.dates(),
                        st.sampled_from(["ML1", "ML999", "all", "never", "ML101,ML2", "warning", ""]))
ODD_VALUES = st.recursive(ODD_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(st.sampled_from(["max-amplification", "max-attempts",
                                                                           "ML101", "code", "resource"]),
                                                         st.text(max_size=5)), inner, max_size=3)),
    max_leaves=5)
TOML_VALUES = st.sampled_from(["1", "-1", "nan", "inf", "-inf", "1e999", "9" * 5000, "2001-13-01", "2001-12-01",
                               "true", '"ML1"', "[1, [2]]", "{a = 1}", "[" * 3000 + "]" * 3000, "'\\ud800'",
                               '"\\ud800"', "0x" + "f" * 5000, "1979-05-27T07:32:00Z", "", '"""', "{"])


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("configs")


def _config_or_error(path: Path) -> None:
    """A configuration, or a usage error that names the file: nothing else."""
    try:
        assert isinstance(load_config(str(path), rules.BY_CODE), Config)
    except ConfigError as exc:
        assert str(exc).startswith(str(path)), exc


@fuzzing(120)
@given(data=st.data())
@bounded
def test_a_config_file_is_a_config_or_a_usage_error(config_dir, data):
    settings_ = data.draw(st.dictionaries(st.sampled_from(CONFIG_KEYS), ODD_VALUES, max_size=4))
    path = config_dir / ".meshlint.yaml"
    try:
        path.write_text(_with_long_hex(yaml.safe_dump(settings_, allow_unicode=True)), encoding="utf-8",
                        errors="surrogatepass")
    except (yaml.YAMLError, ValueError):  # (a value YAML cannot write)
        assume(False)
    _config_or_error(path)
    lines = [f"{data.draw(st.sampled_from(CONFIG_KEYS + ['retry-amplification.max-amplification']))} = "
             f"{data.draw(TOML_VALUES)}" for _ in range(data.draw(st.integers(0, 3)))]
    path = config_dir / "pyproject.toml"
    path.write_text(data.draw(st.sampled_from(["[tool.meshlint]\n", "tool = 1\n", "[tool]\nmeshlint = 2\n", ""]))
                    + "\n".join(lines) + "\n")
    _config_or_error(path)
    path.write_bytes(data.draw(st.binary(max_size=200)))
    _config_or_error(path)


# --- bad command-line option values ------------------------------------------------------------------

ODD_OPTION_VALUES = st.one_of(st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e-320", "1e308", "9" * 5000, "",
                                               " ", "--", "-", "ML", "ML9", "all", "text", "json", "sarif", "2G",
                                               "1.5G", "0.5", "3601", "1e3", "5", "shop", "web", "api.shop",
                                               "\x00", "é", "\u202e"]),
                              st.text(max_size=6))
OPTIONS = {
    "check": ["--fail-on", "--select", "--ignore", "--format", "--namespace", "--default-namespace",
              "--max-file-size", "--color", "--config"],
    "graph": ["--format", "--default-namespace", "--max-file-size"],
    "simulate": ["--fail", "--entry", "--status", "--rps", "--duration", "--format", "--max-file-size"],
    "rule": [],
}


@pytest.fixture(scope="module")
def small_mesh(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mesh") / "mesh.yaml"
    path.write_text((ROOT / "tests" / "rules" / "ML302_retry_amplification.yaml").read_text())
    return path


@fuzzing(150)
@given(data=st.data())
@bounded
def test_odd_option_values_are_usage_errors_or_results(small_mesh, data):
    command = data.draw(st.sampled_from(sorted(OPTIONS)))
    argv = [command, data.draw(ODD_OPTION_VALUES)] if command == "rule" else [command, str(small_mesh)]
    for option in data.draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=3)) if OPTIONS[command] else ():
        argv += [option, data.draw(ODD_OPTION_VALUES)]
    if command == "simulate":  # (keep each run small: the simulation's own bound allows ~25 s)
        argv += ["--fail", "postgres.chain", "--duration", "0.5"]
        assume(all(argv[i + 1] not in ("1e3", "1e308", "9" * 5000) for i, a in enumerate(argv) if a == "--rps"))
    stdout, stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    with mock.patch.dict(os.environ, {"MESHLINT_DEBUG": ""}), contextlib.redirect_stdout(stdout), \
            contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse: a usage error, or --help
            code = exc.code
    assert code in (0, 1, 2), (argv, code)
    assert "internal error" not in stderr.getvalue() and "Traceback" not in stderr.getvalue(), argv


# --- dense call graphs for simulate --------------------------------------------------------------------

@st.composite
def call_graphs(draw) -> Graph:
    """Up to 8 services calling each other (cycles included), each hop with its retries,
    timeouts, budget, maxRetries and outlier detection."""
    hosts = [f"s{i}" for i in range(draw(st.integers(2, 8)))]
    pairs = [(a, b) for a in hosts for b in hosts if a != b]
    edges = {}
    for a, b in draw(st.lists(st.sampled_from(pairs), min_size=1, unique=True)):
        retries = {"attempts": draw(st.integers(0, 20))}
        if draw(st.booleans()):
            retries["perTryTimeout"] = draw(st.sampled_from(["1ms", "10ms", "100ms", "2s"]))
        policy = effective(retries)
        edges[(a, b)] = Edge(a, b, [], tries=policy.tries, capped_tries=float(policy.tries), policy=policy,
                             timeout=draw(st.sampled_from([None, 0.001, 0.05, 1.0])),
                             budget_percent=draw(st.sampled_from([None, 0.0, 20.0, 100.0])),
                             max_retries=draw(st.sampled_from([None, 0, 1, 3])),
                             outlier=draw(st.sampled_from([None, {}, {"consecutive5xxErrors": 1}])))
    return Graph({h: None for h in hosts}, edges)


@fuzzing(150)
@given(graph=call_graphs(), data=st.data())
@bounded
def test_a_simulation_is_refused_before_any_work_or_stays_within_its_bound(graph, data):
    hosts = sorted(graph.nodes)
    entry, failed = data.draw(st.sampled_from(hosts)), data.draw(st.sampled_from(hosts))
    rps, duration = data.draw(st.sampled_from([1.0, 5.0, 20.0])), data.draw(st.sampled_from([0.5, 1.0]))
    status = data.draw(st.sampled_from(STATUSES))
    for fixes in (None, FIXES):
        run = simulation.Simulation(graph, entry, failed, status, rps, duration, fixes)
        # a small limit keeps every run short; the bound is the same arithmetic at any limit
        with mock.patch.object(simulation, "MAX_TRIES", 20_000):
            bound = simulation.tries_per_request(graph, run.hops, entry, failed, 20_000)
            try:
                result = run.run()
            except simulation.TooLarge:
                assert not run.tries  # refused before any work
                assert bound * requests(rps, duration) > 20_000
                continue
        assert sum(result.tries.values()) <= bound * result.requests
