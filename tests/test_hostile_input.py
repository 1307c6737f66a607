"""Hostile input (issue #13): each case an audit found, as a user meets it. Whatever the input,
meshlint exits 0, 1 or 2 (2 for an internal error too), or 130 on Ctrl-C, never with a
traceback, and in time and memory that grow linearly with the input. (The `run` fixture fails
a test on any traceback.) The properties behind these cases are fuzzed in test_robustness.py.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from meshlint import cli, rules


def test_a_bug_is_one_line_and_exit_code_2(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("the index is inconsistent\nsecond line")

    monkeypatch.setattr("meshlint.engine.check", broken)
    monkeypatch.delenv("MESHLINT_DEBUG", raising=False)
    assert cli.main(["check", os.devnull]) == 2
    assert capsys.readouterr().err == ("meshlint: internal error: RuntimeError: the index is inconsistent; "
                                       "please report it\n")
    monkeypatch.setenv("MESHLINT_DEBUG", "1")  # tests and bug reports see where
    assert cli.main(["check", os.devnull]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "in broken" in err


def test_a_bug_in_a_rule_is_one_line_per_rule_and_exit_code_2(monkeypatch, capsys, tmp_path, manifests):
    def broken(index, options):
        raise KeyError("spec")

    path = tmp_path / "w.yaml"
    path.write_text(manifests["warning"])
    monkeypatch.setattr("meshlint.rules.ALL", tuple(replace(r, check=broken) if r.code == "ML101" else r
                                                     for r in rules.ALL))
    monkeypatch.delenv("MESHLINT_DEBUG", raising=False)
    assert cli.main(["check", str(path), "--format", "json"]) == 2
    assert capsys.readouterr().err == ("meshlint: internal error in rule ML101 (port-protocol-unset): KeyError: "
                                       "'spec'; please report it\n")


def test_an_environment_variable_that_is_no_number_is_ignored(monkeypatch, capsys, manifests, tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(manifests["warning"])
    monkeypatch.setenv("MESHLINT_PROGRESS_DELAY", "soon")
    assert cli.main(["check", str(path)]) == 1
    assert "ML101" in capsys.readouterr().out


def test_ctrl_c_anywhere_ends_quietly_with_130(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("meshlint.engine.graph", interrupted)
    assert cli.main(["graph", os.devnull]) == 130
    assert capsys.readouterr() == ("", "")


def test_ctrl_c_while_reading_ends_quietly_with_130(tmp_path):
    fifo = tmp_path / "manifests.yaml"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "meshlint", "check", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:  # the writer's end opens once meshlint has opened the FIFO to read it
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
    try:
        while "pipe" not in Path(f"/proc/{proc.pid}/wchan").read_text():  # blocked reading the FIFO
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(writer)
    assert proc.returncode == 130 and out == b"" and err == b""


# --- what the parsers reject: a finding (ML001), or a usage error for a context file ------------

LONG_NUMBER = "9" * 5000  # Python converts at most 4,300 digits (sys.get_int_max_str_digits)


def test_a_json_number_of_5000_digits_is_ml001(files, run):
    path = files("svc.json", '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"},\n'
                             f' "spec": {{"ports": [{{"port": {LONG_NUMBER}}}]}}}}\n')
    proc = run("check", str(path), "--format", "json")
    assert proc.returncode == 1
    (finding,) = json.loads(proc.stdout)["findings"]
    assert (finding["code"], finding["line"]) == ("ML001", 2)
    assert finding["message"] == "invalid JSON: a number of more than 4,300 digits"


def test_a_yaml_number_of_5000_digits_is_a_string_as_the_api_server_reads_it(files, run):
    """go-yaml reads a plain scalar that no 64-bit integer nor float holds as a string."""
    proc = run("check", str(files("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
                                              f"spec: {{ports: [{{port: {LONG_NUMBER}}}]}}\n")))
    assert proc.returncode == 1
    assert 'spec.ports[0].port must be an integer, not the string "9999999999999999999999999999999999999..."' \
        in proc.stdout


@pytest.mark.parametrize("name,text,expect", [
    ("edges.json", f'{{"edges": [{LONG_NUMBER}]}}', "invalid JSON: a number of more than 4,300 digits"),
    ("edges.yaml", f"edges: [{LONG_NUMBER}]", "edge 0 must be {from: host, to: host}"),  # (a string)
])
def test_a_call_graph_number_of_5000_digits_is_a_usage_error(files, run, manifests, name, text, expect):
    proc = run("check", str(files("m.yaml", manifests["clean"])), "--call-graph", str(files(name, text)))
    assert proc.returncode == 2
    assert expect in proc.stderr


@pytest.mark.parametrize("scalar,why", [("!!bool maybe", "'maybe' is not a valid !!bool"),
                                        ('!!float ""', "'' is not a valid !!float"),
                                        ("!!timestamp soon", "'soon' is not a valid !!timestamp"),
                                        ("!!int 0x", "'0x' is not a valid !!int")])
def test_a_scalar_its_tag_cannot_read_is_ml001(files, run, manifests, scalar, why):
    path = files("m.yaml", f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\ndata: {{a: {scalar}}}\n"
                           f"---\n{manifests['warning']}")
    proc = run("check", str(path))
    assert proc.returncode == 1
    assert f"m.yaml:4:11: ML001 [error] invalid YAML: {why}\n" in proc.stdout  # at the scalar
    assert "ML101" in proc.stdout  # the other document is still analysed


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_a_lone_surrogate_in_json_is_read_as_the_api_server_reads_it(files, run, fmt):
    """Go's JSON decoder replaces half a surrogate pair with U+FFFD; a whole pair is a character."""
    path = files("svc.json", '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "cart\\ud800"},\n'
                             ' "spec": {"ports": [{"port": 80, "name": "web\\udc00-\\ud83d\\ude00"}]}}\n')
    proc = run("check", str(path), "--format", fmt)
    assert proc.returncode == 1
    assert "cart\ufffd" in proc.stdout and "web\ufffd-\U0001f600" in proc.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_a_file_name_that_is_not_utf8_is_shown_as_a_terminal_shows_it(tmp_path, run, manifests, fmt):
    (tmp_path / os.fsdecode(b"caf\xe9.yaml")).write_text(manifests["warning"])
    proc = run("check", ".", "--format", fmt, cwd=tmp_path)
    assert proc.returncode == 1
    assert ("caf%EF%BF%BD.yaml" if fmt == "sarif" else "caf\ufffd.yaml") in proc.stdout  # (SARIF: a URI)


@pytest.mark.parametrize("mesh,why", [("a: !!bool maybe", "'maybe' is not a valid !!bool"),
                                      ("[" * 5000, "exceeded maximum nesting depth")])
def test_a_mesh_config_held_in_a_configmap_is_read_as_a_document_is(files, run, mesh, why):
    configmap = yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "istio", "namespace": "istio-system"}, "data": {"mesh": mesh}})
    proc = run("check", str(files("m.yaml", configmap)))
    assert proc.returncode == 1 and f"data.mesh is not valid YAML/JSON: {why}" in proc.stdout
    proc = run("check", os.devnull, "--mesh-config", str(files("istio.yaml", configmap)))
    assert proc.returncode == 2 and f"data.mesh is not valid YAML: {why}" in proc.stderr


@pytest.mark.parametrize("where", ["spec:\n  configPatches: &x\n  - patch: {operation: MERGE, value: {a: *x}}\n",
                                   "metadata: &x {name: ef, namespace: shop, labels: {a: *x}}\n"])
def test_an_alias_inside_its_own_anchor_is_ml001(files, run, manifests, where):
    """The document would be infinite (Kubernetes refuses it): walking it never ended."""
    head = "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\n"
    path = files("m.yaml", head + ("metadata: {name: ef, namespace: shop}\n" if "spec" in where else "") + where
                 + f"---\n{manifests['warning']}")
    proc = run("check", str(path))
    assert proc.returncode == 1
    assert "m.yaml:1:1: ML001 [error] document expands to more than 1,000,000 nodes through YAML aliases" in proc.stdout
    assert "ML101" in proc.stdout


def _alias_bomb(levels: int) -> str:
    """10^levels nodes through aliases, in a few hundred bytes."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("aliases", [_alias_bomb(9), "a: &x {b: *x}\n"], ids=["bomb", "recursive"])
def test_a_bad_scalar_among_aliases_is_found_in_linear_time(files, run, aliases):
    """Finding the line of `!!bool maybe` walked every path through the aliases: 10^9 of them
    in a bomb, without end in a recursive alias."""
    proc = run("check", str(files("m.yaml", aliases + "z: !!bool maybe\n")))
    assert proc.returncode == 1 and "ML001 [error] invalid YAML: 'maybe' is not a valid !!bool" in proc.stdout


def test_a_kustomization_with_a_bad_tag_is_ml001_not_an_internal_error(files, run, tmp_path):
    files("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                                "resources: [a.yaml]\nx: !!bool maybe\n")
    files("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
    proc = run("check", ".", cwd=tmp_path)
    assert proc.returncode == 1
    assert "kustomization.yaml:4:4: ML001 [error] invalid YAML: 'maybe' is not a valid !!bool" in proc.stdout


def test_annotation_values_of_5000_digits_are_out_of_range(files, run):
    annotations = {"status.sidecar.istio.io/port": LONG_NUMBER, "proxy.istio.io/config": _alias_bomb(9),
                   "traffic.sidecar.istio.io/excludeOutboundIPRanges": f"10.0.0.0/{LONG_NUMBER}"}
    pod = yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "annotations": annotations},
                          "spec": {"containers": [{"name": "app"}]}})
    proc = run("check", str(files("pod.yaml", pod)), "--select", "ML405")
    assert "value out of range: '9999999999" in proc.stdout and "bad bits" not in proc.stdout
    assert "proxy.istio.io/config" in proc.stdout and "Exceeds" not in proc.stdout


# --- configuration files ---------------------------------------------------------------------

DEEP_DOTTED_KEY = "severity.ML101" + ".a" * 5000 + " = 1"  # TOML reads it; printing it recurses


@pytest.mark.parametrize("name,text,expect", [
    # (dates, and numbers beyond 64 bits, are strings to go-yaml)
    (".meshlint.yaml", "fail-on: 2001-13-01\n", "fail-on: expected info, warning, error or never, got '2001-13-01'"),
    (".meshlint.yaml", f"retry-amplification: {{max-amplification: {LONG_NUMBER}}}\n",
     "max-amplification: expected float, got '9999999999999999999999999999999999999"),
    (".meshlint.yaml", "fail-on: !!timestamp 2001-13-01\n", ".meshlint.yaml:1: invalid YAML: month must be in 1..12"),
    (".meshlint.yaml", f"fail-on: !!int {LONG_NUMBER}\n",
     ".meshlint.yaml:1: invalid YAML: 9999999999999999999999999999999999999... has more than 4,300 digits"),
    ("pyproject.toml", "[tool.meshlint]\nretry-amplification.max-amplification = 1" + "0" * 400 + "\n",
     "max-amplification: expected a finite number, got 1000"),
    (".meshlint.yaml", "retry-amplification: {max-amplification: .nan}\n", "expected a finite number, got nan"),
    (".meshlint.yaml", "[" * 5000, ".meshlint.yaml:1: invalid YAML: exceeded maximum nesting depth"),
    (".meshlint.yaml", "fail-on: !!bool maybe\n", ".meshlint.yaml:1: invalid YAML: 'maybe' is not a valid !!bool"),
    ("pyproject.toml", f"[tool.meshlint]\nretry-amplification.max-amplification = {LONG_NUMBER}\n",
     "pyproject.toml: invalid TOML: a number of more than 4,300 digits"),
    ("pyproject.toml", "[tool.meshlint]\nretry-amplification.max-amplification = inf\n",
     "expected a finite number, got inf"),
    ("pyproject.toml", "[tool.meshlint]\nselect = " + "[" * 5000, "pyproject.toml: invalid TOML: nesting is too deep"),
    ("pyproject.toml", f"[tool.meshlint]\n{DEEP_DOTTED_KEY}\n", "pyproject.toml: a value is nested too deep"),
    ("pyproject.toml", "tool = 1\n", "pyproject.toml: no [tool.meshlint] table"),
    # TOML reads hex whatever its length (Python limits decimal only), and no message could print it
    ("pyproject.toml", f"[tool.meshlint]\nfail-on = 0x{'f' * 5000}\n",
     "fail-on: expected info, warning, error or never, got a number too long to write"),
    ("pyproject.toml", f"[tool.meshlint]\nseverity = {{ML101 = 0x{'f' * 5000}}}\n",
     "severity.ML101: expected info, warning or error, got a number too long to write"),
    ("pyproject.toml", f"[tool.meshlint]\nselect = [0x{'f' * 5000}]\n",
     "select: expected rule codes, got a number too long to write"),
    (".meshlint.yaml", f"severity: {{ML101: 0x{'f' * 5000}}}\n",
     "severity.ML101: unknown severity '0xffffffffffffffffffffffffffffffffffffffffffffffffffffff..."),
])
def test_a_hostile_config_file_is_a_usage_error(files, run, manifests, name, text, expect):
    config = files(name, text)
    proc = run("check", str(files("m.yaml", manifests["clean"])), "--config", str(config))
    assert proc.returncode == 2
    assert proc.stderr.startswith("meshlint: error: ") and expect in proc.stderr


@pytest.mark.parametrize("text", ["tool = 1\n", "[tool]\nmeshlint = 1\n", "a = " + "[" * 5000,
                                  f"a = {LONG_NUMBER}\n"])
def test_a_pyproject_toml_without_a_meshlint_table_is_not_a_config(files, run, manifests, tmp_path, text):
    files("pyproject.toml", text)
    files("m.yaml", manifests["warning"])
    assert run("check", "m.yaml", cwd=tmp_path).returncode == 1  # (found, and not a config)


# --- inputs without end ------------------------------------------------------------------------


def test_an_endless_file_is_refused_at_the_size_limit(run):
    proc = run("check", "/dev/zero", "--max-file-size", "4M")
    assert proc.returncode == 2
    assert proc.stderr == "meshlint: error: cannot read /dev/zero: over the 4 MiB limit (set it with --max-file-size)\n"


def test_stdin_and_context_files_have_the_size_limit_too(files, run, manifests):
    proc = run("check", "-", "--max-file-size", "1K", input=manifests["warning"] * 10)
    assert proc.returncode == 2 and "cannot read -: over the 1 KiB limit" in proc.stderr
    assert run("check", "-", "--max-file-size", "1K", input=manifests["warning"]).returncode == 1
    proc = run("graph", str(files("m.yaml", manifests["clean"])), "--call-graph", "/dev/zero", "--max-file-size", "1M")
    assert proc.returncode == 2 and "--call-graph: cannot read /dev/zero: over the 1 MiB limit" in proc.stderr


@pytest.mark.parametrize("expected", [0, 1024, 5])  # unknown, exact, and a file that grew
def test_the_size_limit_is_inclusive(expected):
    from meshlint.load.bounded import TooLarge, read_within

    assert read_within(io.BytesIO(b"x" * 1024), 1024, expected) == b"x" * 1024
    with pytest.raises(TooLarge):
        read_within(io.BytesIO(b"x" * 1025), 1024, expected)


@pytest.mark.parametrize("size", ["0", "1.5G", "-1", "big", "1" + "0" * 20])
def test_a_size_that_is_none_is_a_usage_error(run, size):
    proc = run("check", "/dev/null", f"--max-file-size={size}")
    assert proc.returncode == 2 and "argument --max-file-size" in proc.stderr


def test_the_default_size_limit_is_what_the_help_says(run):
    from meshlint.load.bounded import DEFAULT_MAX_FILE_SIZE, parse_size

    assert "(default: 512M)" in " ".join(run("check", "--help").stdout.split())
    assert parse_size("512M") == DEFAULT_MAX_FILE_SIZE


# --- simulate: option values, and graphs with more paths than any run can follow ------------------


@pytest.mark.parametrize("option", ["--rps", "--duration"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "ten"])
def test_a_rate_or_duration_that_is_no_positive_number_is_a_usage_error(files, run, mesh_yaml, option, value):
    path = files("m.yaml", mesh_yaml({"web": ["api:80"]}))
    proc = run("simulate", str(path), "--fail", "api", f"{option}={value}")
    assert proc.returncode == 2 and f"argument {option}: " in proc.stderr


@pytest.mark.parametrize("args,expect", [
    (["--duration", "3601"], "argument --duration: '3601' is more than 3600 seconds"),
    (["--rps", "0.01"], "--rps 0.01 for --duration 10s is less than one request"),
    (["--rps", "1e300", "--duration", "3600"], "could make over 1,000,000 tries, the most a run simulates: "
                                               "lower --rps or --duration"),
])
def test_a_run_out_of_bounds_is_refused_before_any_work(files, run, mesh_yaml, args, expect):
    path = files("m.yaml", mesh_yaml({"web": ["api:80"]}))
    started = time.monotonic()
    proc = run("simulate", str(path), "--fail", "api", *args)
    assert proc.returncode == 2 and expect in proc.stderr
    assert time.monotonic() - started < 10


def _complete(n: int) -> dict[str, list[str]]:
    """n services, each calling every other one."""
    names = [f"s{i}" for i in range(n)]
    return {a: [f"{b}:80" for b in names if b != a] for a in names}


def _lattice(columns: int) -> dict[str, list[str]]:
    """Two rows of services, each calling both services of the next column: 2^columns paths."""
    return {f"r{r}c{c}": [f"r0c{c + 1}:80", f"r1c{c + 1}:80"] for r in range(2) for c in range(columns - 1)}


@pytest.mark.parametrize("calls,failing", [(_complete(60), "s59"), (_lattice(40), "r0c39")],
                         ids=["complete", "lattice"])
def test_a_graph_with_too_many_paths_is_refused_at_once(files, run, mesh_yaml, calls, failing):
    path = files("m.yaml", mesh_yaml(calls))
    started = time.monotonic()
    proc = run("simulate", str(path), "--fail", failing, "--duration", "2")
    assert proc.returncode == 2
    assert proc.stderr.endswith("meshlint: error: one request could make over 1,000,000 tries (retries multiply "
                                "along every path from the entry): too many to simulate\n")
    assert time.monotonic() - started < 15


# --- cost linear in the input ----------------------------------------------------------------------


def test_kinds_without_a_shape_share_one_validator():
    """A validator is compiled code (~0.3 ms and 8 KB each): 100,000 distinct kinds took 34 s."""
    from meshlint.load import schema

    for i in range(2000):
        assert schema.check(f"Widget{i}", {"metadata": {"name": "a"}, "spec": {"ports": {}}}) is None
    assert schema.check("Widget", {"metadata": {"name": 5}}) == (("metadata", "name"), "a string")
    assert len(schema._validators) <= len(schema.OBJECTS) + 1


def _routes_to_one_host(n: int) -> str:
    """n VirtualServices retrying on a canary split of one host, and n DestinationRules for it
    that protect nothing and define other subsets: ML303, ML304 and ML105 on every route."""
    docs = []
    for i in range(n):
        docs.append(f"""\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: vs{i}, namespace: shop}}
spec:
  hosts: [cart]
  http:
  - retries: {{attempts: 3}}
    route:
    - destination: {{host: cart, subset: v{i}}}
      weight: 90
    - destination: {{host: cart, subset: canary}}
      weight: 10
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: dr{i:04}, namespace: shop}}
spec:
  host: cart
  subsets: [{{name: s{i:04}, labels: {{version: s{i}}}}}]
""")
    return "---\n".join(docs)


def test_a_finding_names_ten_related_resources_and_counts_the_others(files, run):
    path = files("m.yaml", _routes_to_one_host(30))
    findings = [f for f in json.loads(run("check", str(path), "--format", "json").stdout)["findings"]
                if f["code"] in ("ML105", "ML303", "ML304")]
    assert {f["code"] for f in findings} == {"ML105", "ML303", "ML304"}
    for f in findings:
        assert f["related"] == [{"kind": "DestinationRule", "namespace": "shop", "name": f"dr{i:04}"}
                                for i in range(10)]
        assert f["related_omitted"] == 20
    missing = next(f["message"] for f in findings if f["code"] == "ML105")
    assert "(DestinationRule shop/dr0000 defines s0000, s0001, s0002, s0003, s0004, s0005, s0006, s0007, s0008, " \
           "s0009 and 20 more)" in missing
    results = [r for r in json.loads(run("check", str(path), "--format", "sarif").stdout)["runs"][0]["results"]
               if r["ruleId"] in ("ML105", "ML303", "ML304")]
    assert results and all(len(r["relatedLocations"]) == 10 and r["properties"]["relatedOmitted"] == 20
                           for r in results)


def test_references_to_one_host_make_a_report_linear_in_them(files, run):
    """Every finding named every DestinationRule: 2,000 of each took 66 s and wrote 1.9 GB."""
    sizes = [len(run("check", str(files(f"m{n}.yaml", _routes_to_one_host(n))), "--format", "json").stdout)
             for n in (100, 400)]
    assert sizes[1] < 4.5 * sizes[0]


def test_locating_lines_holds_one_document_at_a_time():
    """A 200,000-item List with a finding per item peaked at 1.45 GB: the locator kept every
    item's lines."""
    import tracemalloc

    from meshlint.load import lists
    from meshlint.locate import Locator
    from meshlint.resource import Document, Source

    items = "".join(f"- apiVersion: v1\n  kind: Service\n  metadata: {{name: s{i}}}\n  spec:\n"
                    f"    ports: [{{name: web, port: 80}}]\n" for i in range(5000))
    text = f"apiVersion: v1\nkind: List\nitems:\n{items}"
    documents = lists.item_documents(Document(Source("list.yaml", text), 0, len(text), 1, 0))
    locator = Locator()
    tracemalloc.start()
    try:
        positions = [locator.position(item, (0, "spec", "ports", 0)) for item in documents]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # (each port at its first key: `    ports: [{name: ...`)
    assert positions[:2] == [(8, 14), (13, 14)] and positions[-1] == (5 * 5000 + 3, 14)
    assert held < 1_000_000  # (every item's lines: 10 MB)


# --- numbers no API would accept, and products no float holds --------------------------------------


def _chain(n: int) -> dict[str, list[str]]:
    """n services in a row: s0 calls s1, which calls s2 ..."""
    return {f"s{i}": [f"s{i + 1}:80"] for i in range(n - 1)}


def _with_routes(yaml_text: str, n: int, attempts: object, percent: object = 20) -> str:
    """`yaml_text` (a chain of n) with a VirtualService retrying each hop `attempts` times, and a
    retry budget of `percent` on s1."""
    routes = [f"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: s{i}, namespace: shop}}\n"
              f"spec:\n  hosts: [s{i}]\n  http:\n  - retries: {{attempts: {attempts}}}\n"
              f"    route: [{{destination: {{host: s{i}}}}}]\n" for i in range(1, n)]
    rule = ("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: s1, namespace: shop}\n"
            f"spec:\n  host: s1\n  trafficPolicy: {{retryBudget: {{percent: {percent}}}}}\n")
    return "---\n".join([yaml_text, *routes, rule])


@pytest.mark.parametrize("attempts,shown", [(2**31, "the number 2147483648"),
                                            (-(2**31) - 1, "the number -2147483649"),
                                            (2**63, "the number 9223372036854775808")])
def test_retry_attempts_beyond_32_bits_are_ml002(files, run, mesh_yaml, attempts, shown):
    path = files("m.yaml", _with_routes(mesh_yaml(_chain(3)), 3, attempts))
    findings = json.loads(run("check", str(path), "--format", "json").stdout)["findings"]
    assert {f["message"] for f in findings if f["code"] == "ML002"} == {
        f"spec.http[0].retries.attempts must be a 32-bit integer, not {shown}"}


def test_a_json_integer_of_4000_digits_is_described_by_its_size(files, run):
    retries = f'{{"attempts": {LONG_NUMBER[:4000]}}}'
    path = files("vs.json", '{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", '
                            '"metadata": {"name": "a"}, "spec": {"hosts": ["a"], "http": [{"retries": '
                            f'{retries}, "route": [{{"destination": {{"host": "a"}}}}]}}]}}}}')
    assert "attempts must be a 32-bit integer, not a number of 4,000 digits" in run("check", str(path)).stdout


def test_amplification_beyond_what_a_float_holds(files, run, mesh_yaml):
    """40 hops of 2^31 tries each: 1e373, which no float holds."""
    path = files("m.yaml", _with_routes(mesh_yaml(_chain(40)), 40, 2**31 - 1))
    check = run("check", str(path), "--select", "ML302")
    assert check.returncode == 1
    assert "s0 → s1 → s2 → s3 → s4 → s5 → (28 more) → s34 → s35 → s36 → s37 → s38 → s39: up to >1e308x at s39" \
        in check.stdout
    graph = run("graph", str(path), "--format", "json")
    assert json.loads(graph.stdout)["paths"][0]["amplification"] == sys.float_info.max
    assert ">1e308x  s0 → s1" in run("graph", str(path)).stdout
    assert "too many to simulate" in run("simulate", str(path), "--fail", "s39").stderr


@pytest.mark.parametrize("percent", [LONG_NUMBER[:4000], ".nan", ".inf", "-5", "{value: 1e999}", "many"])
def test_a_retry_budget_is_a_percentage(files, run, mesh_yaml, percent):
    path = files("m.yaml", _with_routes(mesh_yaml(_chain(3)), 3, 2, percent))
    proc = run("graph", str(path), "--format", "json")
    assert proc.returncode == 0
    (edge,) = [e for e in json.loads(proc.stdout)["edges"] if e["to"].startswith("s1.")]
    assert 1.0 <= edge["capped_tries"] <= 2.0  # 1 + percent/100, the percent from 0 to 100


@pytest.mark.parametrize("port", ["²", "٥٠٣", LONG_NUMBER])
def test_a_port_that_is_no_ascii_number_names_no_port(files, run, mesh_yaml, port):
    path = files("m.yaml", mesh_yaml({"web": [f"api:{port}"]}))
    assert run("graph", str(path)).returncode == 0


# --- no document is lost because of its neighbour -----------------------------------------------

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {{name: {}}}\nspec: {{ports: [{{port: 80}}]}}\n"


def test_a_nul_byte_in_the_first_8_kib_costs_only_its_own_document(files, run):
    path = files("nul.yaml", (SERVICE.format("a") + "---\nx: \x00\n---\n" + SERVICE.format("b")).encode())
    findings = json.loads(run("check", str(path), "--format", "json").stdout)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("ML101", 4), ("ML001", 6), ("ML101", 11)]


def test_a_file_of_nul_bytes_or_not_utf8_with_nuls_is_binary(files, run):
    for content in (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"a: b\n" + b"\x00" * 10):
        findings = json.loads(run("check", str(files("img.yaml", content)), "--format", "json").stdout)["findings"]
        assert [f["message"] for f in findings] == ["binary file: not YAML or JSON text"]


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_every_yaml_line_break_splits_documents_and_counts_lines(files, run, newline):
    text = (SERVICE.format("a") + "---\n" + SERVICE.format("b")).replace("\n", newline)
    findings = json.loads(run("check", str(files("eol.yaml", text.encode())), "--format", "json").stdout)["findings"]
    assert [(f["code"], f["line"], f["resource"]["name"]) for f in findings] == [("ML101", 4, "a"), ("ML101", 9, "b")]


def test_a_control_character_in_json_is_named():
    from meshlint.load.parse import parse_json
    from meshlint.resource import Document, Source

    text = '{"apiVersion": "v1",\n "kind": "Service\x07"}'
    _, error, _ = parse_json(Document(Source("s.json", text), 0, len(text), 1, 0))
    assert (error.line, error.message) == (2, "invalid JSON: control character U+0007 in a string (write it as "
                                              "\\u0007)")
