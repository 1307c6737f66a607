"""The command line as a user runs it: a subprocess, real files, exit codes, output shapes (the
`run`, `files` and `manifests` fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

FORMATS = ["text", "json"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_exit_codes_are_identical_in_every_format(files, fmt, run, manifests):
    clean, warn, info, err = (files("c.yaml", manifests["clean"]), files("w.yaml", manifests["warning"]),
                              files("i.yaml", manifests["info_only"]), files("e.yaml", manifests["error"]))
    assert run("check", str(clean), "--format", fmt).returncode == 0
    assert run("check", str(warn), "--format", fmt).returncode == 1
    assert run("check", str(warn), "--format", fmt, "--fail-on", "error").returncode == 0
    assert run("check", str(err), "--format", fmt, "--fail-on", "error").returncode == 1
    assert run("check", str(warn), "--format", fmt, "--fail-on", "never").returncode == 0
    assert run("check", str(info), "--format", fmt).returncode == 0
    assert run("check", str(info), "--format", fmt, "--fail-on", "info").returncode == 1
    assert run("check", "/does/not/exist", "--format", fmt).returncode == 2


def test_text_format_line_and_help(files, run, manifests):
    path = files("w.yaml", manifests["warning"])
    out = run("check", str(path)).stdout.splitlines()
    assert out[0] == (f"{path}:11:5: ML101 [warning] Service shop/cart: port 8080 is named \"web\", which is not "
                      "a protocol prefix, and has no appProtocol; Istio will sniff the protocol, so L7 routing, "
                      "retries and request metrics depend on detection and server-first protocols hang")
    assert out[1].startswith("  help: Name the port http-web") and out[1].endswith("(docs: meshlint rule ML101)")
    # what `fix` would do, as ruff says it (port 8080's protocol is only a guess), then the summary
    assert out[-2] == "1 fixable with `meshlint fix --unsafe`"
    assert out[-1] == "1 finding (0 error, 1 warning, 0 info) in 1 file, 1 resource"


def test_json_shape_is_exactly_the_contract(files, run, manifests):
    path = files("e.yaml", manifests["error"])
    proc = run("check", str(path), "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert set(doc) == {"version", "findings", "summary"}
    assert doc["version"] == "0.1.0"
    # `cluster`: the kube context that --kube read (added with it: keys are added, never removed)
    assert doc["summary"] == {"files": 1, "resources": 2, "findings": {"error": 1, "warning": 0, "info": 0},
                              "suppressed": 0, "skipped": 0, "cluster": None}
    (f,) = doc["findings"]
    assert set(f) == {"code", "name", "variant", "severity", "resource", "file", "line", "column", "message", "fix",
                      "related", "autofix"}
    assert f["code"] == "ML102" and f["name"] == "gateway-not-found" and f["severity"] == "error"
    assert f["variant"] == "missing-gateway"
    assert f["resource"] == {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                             "namespace": "default", "name": "shop"}
    assert f["file"] == str(path) and (f["line"], f["column"]) == (7, 14)  # `public` in `gateways: [public]`
    assert "default/public" in f["message"] and f["fix"].endswith(".")
    assert f["related"] == []
    assert f["autofix"] == "unsafe"  # bind to default/internal, the one Gateway serving the host


def test_related_resources_in_json(files, run):
    path = files("gw.yaml", """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.example.com]
  http:
  - route:
    - destination: {host: frontend}
""")
    doc = json.loads(run("check", str(path), "--format", "json", "--select", "ML104").stdout)
    (f,) = doc["findings"]
    assert f["code"] == "ML104" and f["line"] == 14
    assert f["related"] == [{"kind": "Gateway", "namespace": "istio-system", "name": "public"}]


def test_stdin_is_read_and_named_dash(run, manifests):
    proc = run("check", "-", "--format", "json", input=manifests["warning"])
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["findings"][0]["file"] == "-" and doc["findings"][0]["line"] == 11


def test_malformed_file_gives_findings_not_a_traceback(files, run, manifests):
    other = manifests["clean"].replace("cart", "other")
    path = files("bad.yaml", manifests["warning"] + "---\nkind: [unclosed\n---\n" + other)
    proc = run("check", str(path), "--format", "json")
    assert proc.returncode == 1
    codes = [(f["code"], f["line"]) for f in json.loads(proc.stdout)["findings"]]
    assert ("ML101", 11) in codes
    assert any(code == "ML001" and line in (15, 16) for code, line in codes), codes


@pytest.mark.parametrize("content,expect", [
    (b"\x00\x01\x02binary\x00", "binary file"),
    (b"apiVersion: v1\nkind: Service\nmetadata:\n  name: caf\xe9\n", "not valid UTF-8"),
])
def test_undecodable_files_are_findings(files, content, expect, run):
    path = files("odd.yaml", content)
    proc = run("check", str(path), "--format", "json")
    assert proc.returncode == 1
    (f,) = json.loads(proc.stdout)["findings"]
    assert f["code"] == "ML001" and expect in f["message"]


def test_non_utf8_document_does_not_hide_the_others(files, run, manifests):
    path = files("mixed.yaml", manifests["warning"].encode() + b"---\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n")
    doc = json.loads(run("check", str(path), "--format", "json").stdout)
    assert sorted(f["code"] for f in doc["findings"]) == ["ML001", "ML101"]
    ml001 = next(f for f in doc["findings"] if f["code"] == "ML001")
    assert ml001["line"] == 15


@pytest.mark.parametrize("name,content,where", [
    ("byte.yaml", b"apiVersion: v1\nkind: Service\nmetadata:\n  name: caf\xe9\n", (4, 12)),  # the byte
    ("comma.json", b'{"apiVersion": "v1",\n  "kind": "Service",, "metadata": {}}', (2, 21)),  # the second comma
    ("flow.yaml", b"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {app: a: b}\n", (5, 18)),  # `: b`
])
def test_syntax_errors_are_at_the_parsers_line_and_column(files, run, name, content, where):
    path = files(name, content)
    (f,) = json.loads(run("check", str(path), "--format", "json").stdout)["findings"]
    assert f["code"] == "ML001" and (f["line"], f["column"]) == where
    assert run("check", str(path)).stdout.startswith(f"{path}:{where[0]}:{where[1]}: ML001 [error] ")


def test_utf16_and_bom_are_decoded(files, run, manifests):
    path = files("u16.yaml", manifests["warning"].encode("utf-16"))
    assert run("check", str(path)).returncode == 1
    path = files("bom.yaml", b"\xef\xbb\xbf" + manifests["warning"].encode())
    assert json.loads(run("check", str(path), "--format", "json").stdout)["findings"][0]["line"] == 11


def test_empty_file_is_a_note_not_an_error(files, run):
    path = files("empty.yaml", "")
    proc = run("check", str(path))
    assert proc.returncode == 0
    assert "no documents" in proc.stderr


def test_alias_bomb_is_refused_quickly(files, run, manifests):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n" + "\n".join("  " + line for line in lines)
    path = files("bomb.yaml", bomb + "\n---\n" + manifests["warning"])
    proc = run("check", str(path), "--format", "json")
    codes = sorted(f["code"] for f in json.loads(proc.stdout)["findings"])
    assert codes == ["ML001", "ML101"]
    assert "alias bomb" in proc.stdout


def test_deep_nesting_is_a_finding(files, run):
    path = files("deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n")
    proc = run("check", str(path), "--format", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["findings"][0]["code"] == "ML001"


def test_directory_walk_skips_other_files_and_survives_symlink_loops(files, tmp_path, run, manifests):
    files("deploy/a.yaml", manifests["warning"])
    files("deploy/nested/b.yml", manifests["clean"])
    files("deploy/nested/c.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": []}))
    files("deploy/README.md", "# docs")
    os.symlink(tmp_path / "deploy", tmp_path / "deploy" / "nested" / "loop")
    proc = run("check", str(tmp_path / "deploy"), "--format", "json")
    doc = json.loads(proc.stdout)
    assert doc["summary"]["files"] == 3
    assert "skipped 1 file(s)" in proc.stderr and "README.md" in proc.stderr


def test_kubectl_json_list_dump(files, run):
    dump = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "shop"},
         "spec": {"ports": [{"name": "http", "port": 80}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "shop"},
         "spec": {"ports": [{"name": "web", "port": 80}]}},
    ]}
    path = files("dump.json", json.dumps(dump, indent=4))
    doc = json.loads(run("check", str(path), "--format", "json").stdout)
    (f,) = doc["findings"]
    assert f["resource"]["name"] == "b" and doc["summary"]["resources"] == 2
    assert path.read_text().splitlines()[f["line"] - 1][f["column"] - 1:] == '"name": "web",'


def test_typed_list_items_inherit_kind(files, run):
    path = files("svcs.yaml", """\
apiVersion: v1
kind: ServiceList
items:
- metadata: {name: a, namespace: shop}
  spec:
    ports:
    - name: web
      port: 80
""")
    doc = json.loads(run("check", str(path), "--format", "json").stdout)
    (f,) = doc["findings"]
    assert f["resource"]["kind"] == "Service" and f["line"] == 7


def test_default_namespace_flag(files, run, manifests):
    path = files("w.yaml", manifests["warning"].replace("  namespace: shop\n", ""))
    doc = json.loads(run("check", str(path), "--format", "json", "--default-namespace", "prod").stdout)
    assert doc["findings"][0]["resource"]["namespace"] == "prod"


def test_select_and_ignore_prefixes(files, run, manifests):
    path = files("both.yaml", manifests["warning"] + "---\n" + manifests["error"])

    def codes(*a):
        return sorted(f["code"] for f in json.loads(run("check", str(path), "-f", "json", *a).stdout)["findings"])

    assert codes() == ["ML101", "ML102"]
    assert codes("--select", "ML101") == ["ML101"]
    assert codes("--ignore", "ML1") == []
    assert codes("--select", "ML1", "--ignore", "ML102") == ["ML101"]
    assert codes("--select", "ML102,ML101") == ["ML101", "ML102"]


@pytest.mark.parametrize("args", [["--select", "ML999"], ["--ignore", "XX1"], ["--fail-on", "fatal"],
                                  ["--format", "yaml"]])
def test_usage_errors_exit_2(files, args, run, manifests):
    proc = run("check", str(files("c.yaml", manifests["clean"])), *args)
    assert proc.returncode == 2 and proc.stderr


def test_several_outputs_in_one_run(files, tmp_path, run, manifests):
    path = files("w.yaml", manifests["warning"])
    out = tmp_path / "report.json"
    proc = run("check", str(path), "--format", "text", "--format", "json", "--output", str(out))
    assert proc.returncode == 1
    assert "ML101 [warning]" in proc.stdout and not proc.stdout.lstrip().startswith("{")
    assert json.loads(out.read_text())["findings"][0]["code"] == "ML101"


def test_rules_and_rule_commands(run):
    proc = run("rules")
    assert proc.returncode == 0
    assert "ML101" in proc.stdout and "port-protocol-unset" in proc.stdout
    page = run("rule", "ML103")
    assert page.returncode == 0
    assert page.stdout.startswith("ML103 host-not-in-gateway [warning]")
    assert "## Why it matters" in page.stdout and "## Fix" in page.stdout
    assert run("rule", "port-protocol-unset").stdout.startswith("ML101")
    assert run("rule", "ML999").returncode == 2
    listed = json.loads(run("rules", "--format", "json").stdout)
    assert [r["code"] for r in listed][:4] == ["ML001", "ML002", "ML003", "ML101"]


def test_rule_shows_the_config_that_sets_each_option(run):
    """`meshlint rule ML301` says how to set max-attempts, and what it shows is a valid setting,
    in .meshlint.yaml and in pyproject.toml."""
    import tomllib

    import yaml

    from meshlint import rules
    from meshlint.config import from_mapping
    from meshlint.docs import option_snippets

    page = run("rule", "ML301").stdout
    assert "`max-attempts` (default `3`). In `.meshlint.yaml`:" in page
    assert "```yaml\naggressive-retries:\n  max-attempts: 3\n```" in page
    assert "```toml\n[tool.meshlint.aggressive-retries]\nmax-attempts = 3\n```" in page
    for rule in rules.ALL:
        for option, default in rule.options.items():
            yaml_text, toml_text = option_snippets(rule, option, default)
            for mapping in (yaml.safe_load(yaml_text), tomllib.loads(toml_text)["tool"]["meshlint"]):
                config = from_mapping(mapping, rules.BY_CODE)
                assert config.options_for(rule)[option] == default


@pytest.mark.parametrize("typed,expect", [
    ("ML1O1", "did you mean ML101 (port-protocol-unset)?"),
    ("strict-mtls", "did you mean ML201 (strict-mtls-without-sidecar)?"),
    ("ml999", "unknown rule 'ml999'"),
    ("IST0999", "no rule mirrors istioctl analyze IST0999 (the codes meshlint mirrors: IST0101, "),
])
def test_an_unknown_rule_suggests_what_was_meant(run, typed, expect):
    proc = run("rule", typed)
    assert proc.returncode == 2 and expect in proc.stderr, proc.stderr
    assert "see `meshlint rules`" in proc.stderr or typed.startswith("IST")


def test_an_istioctl_code_shows_the_rules_that_mirror_it(run):
    """The README maps IST codes to rules; `meshlint rule IST0118` follows that map."""
    one = run("rule", "IST0118")
    assert one.returncode == 0 and one.stdout.startswith("ML101 port-protocol-unset [warning]")
    assert "istioctl analyze IST0118 is mirrored by ML101 port-protocol-unset" in one.stderr
    two = run("rule", "ist0101")
    assert two.returncode == 0
    assert "ML102 gateway-not-found [error]" in two.stdout and "ML105 subset-not-found [error]" in two.stdout


@pytest.mark.parametrize("columns", [80, 60, 200])
def test_rule_pages_and_the_rules_table_fit_the_terminal(columns, monkeypatch, capsys):
    """Wrapped to the terminal, at most 80 columns; only code blocks and words too long for any
    line (URLs) may pass the edge; no word is broken."""
    from meshlint import rules
    from meshlint.cli import main
    from meshlint.docs import rule_page

    monkeypatch.setenv("COLUMNS", str(columns))
    width = min(columns, 80)
    for rule in rules.ALL:
        assert main(["rule", rule.code]) == 0
        page = capsys.readouterr().out
        fenced = False
        for line in page.splitlines():
            fenced = fenced != line.startswith("```")
            if not fenced and not line.startswith("```") and len(line) > width:
                assert len(line.split()) <= 2, f"{rule.code}: {line!r}"  # an item marker and one long word
        assert page.split() == rule_page(rule, 10_000).split(), rule.code
    assert main(["rules"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) > len(rules.ALL) and all(len(line) <= 80 for line in table)
    if columns >= 80:  # grouped by area, under the area titles, in the order of the codes
        assert "ML001  error    invalid-yaml" in table
        titles = [line for line in table if line.endswith("xx)")]
        assert titles == [f"{a.title} (ML{a.digit}xx)" for a in rules.AREAS]
        codes = [line.split()[0] for line in table if line.startswith("ML")]
        assert codes == [r.code for r in rules.ALL]


def test_config_file_is_discovered_and_validated(files, tmp_path, run, manifests):
    path = files("w.yaml", manifests["warning"])
    files(".meshlint.yaml", "ignore: [ML101]\n")
    assert run("check", str(path), cwd=tmp_path).returncode == 0
    files(".meshlint.yaml", "bogus-key: 1\n")
    proc = run("check", str(path), cwd=tmp_path)
    assert proc.returncode == 2 and "bogus-key: unknown key" in proc.stderr


def test_no_command_prints_help_and_exits_2(run):
    proc = run()
    assert proc.returncode == 2 and "check" in proc.stderr


def test_mesh_config_file_overlays_the_installation(files, tmp_path, run):
    gateway = files("gw.yaml", """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
""")

    def findings(*a):
        return json.loads(run("check", str(gateway), "-f", "json", "--select", "ML2,ML4", *a).stdout)["findings"]

    (default,) = findings()
    assert default["code"] == "ML203" and default["severity"] == "info"
    exposed = files("exposed.yaml", "defaultConfig:\n  proxyHeaders:\n    server: {disabled: true}\n")
    (warned,) = findings("--mesh-config", str(exposed))
    assert warned["severity"] == "warning" and str(exposed) in warned["message"]
    values = files("values.yaml", """\
revision: 1-24
global:
  proxy:
    resources:
      limits: {cpu: "1", memory: 512Mi}
meshConfig:
  defaultConfig:
    proxyHeaders:
      envoyDebugHeaders: {disabled: true}
""")
    (resources,) = findings("--mesh-config", str(values))
    assert resources["code"] == "ML402" and resources["file"] == str(values) and resources["line"] == 4
    assert resources["resource"] is None


@pytest.mark.parametrize("content,expect", [
    ("- a list\n", "expected a mapping"),
    ("a: [unclosed\n", "invalid YAML"),
    ("", "empty"),
    # a file that holds no installation config is no silent no-op (issue #13)
    ("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "holds no IstioOperator, istio ConfigMap, MeshConfig"),
    ("kind: ConfigMap\ndata: {mesh: '[unclosed'}\n", "data.mesh is not valid YAML"),
    # a value istiod's proto reader refuses (pkg/config/mesh/mesh.go ApplyMeshConfig), in each form
    ("defaultConfig:\n  proxyHeaders:\n    envoyDebugHeaders:\n      disabled: fals\n",
     'mesh.yaml:4:7: defaultConfig.proxyHeaders.envoyDebugHeaders.disabled must be true or false, '
     'not the string "fals"'),
    ("meshConfig:\n  enableAutoMtls: 'yes'\n",
     'mesh.yaml:2:3: meshConfig.enableAutoMtls must be true or false, not the string "yes"'),
    ("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  meshConfig:\n    rootNamespace: 7\n",
     "mesh.yaml:5:5: spec.meshConfig.rootNamespace must be a string, not the number 7"),
    ("kind: ConfigMap\ndata:\n  mesh: |\n    defaultConfig: {holdApplicationUntilProxyStarts: 1}\n",
     "mesh.yaml:3:3: data.mesh: defaultConfig.holdApplicationUntilProxyStarts must be true or false, not the number 1"),
])
def test_bad_mesh_config_is_a_configuration_error(files, content, expect, run, manifests):
    path = files("c.yaml", manifests["clean"])
    mesh = files("mesh.yaml", content)
    proc = run("check", str(path), "--mesh-config", str(mesh))
    assert proc.returncode == 2 and expect in proc.stderr


def test_a_mesh_config_in_the_input_that_istiod_refuses_is_ml002_and_not_applied(files, run):
    # istio/istio pkg/config/mesh/mesh.go ApplyMeshConfig: a mistyped value refuses the whole
    # mesh config, so its `disabled: fals` disables nothing and ML203 still sees the default.
    mesh = files("istio.yaml", """\
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    defaultConfig:
      proxyHeaders:
        envoyDebugHeaders:
          disabled: fals
""")
    gateway = files("gw.yaml", """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
""")
    proc = run("check", str(mesh), str(gateway), "--format", "json")
    found = {(f["code"], f["line"]): f["message"] for f in json.loads(proc.stdout)["findings"]}
    assert found[("ML002", 5)] == (
        'data.mesh: defaultConfig.proxyHeaders.envoyDebugHeaders.disabled must be '
        'true or false, not the string "fals" (istiod refuses the whole mesh config)')
    assert ("ML203", 7) in found


def test_the_istio_configmap_as_kubectl_prints_it_is_a_mesh_config(files, run):
    gateway = files("gw.yaml", """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
""")
    dump = files("istio-cm.yaml", """\
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    defaultConfig:
      proxyHeaders:
        envoyDebugHeaders: {disabled: true}
""")
    proc = run("check", str(gateway), "--mesh-config", str(dump), "-f", "json", "--select", "ML203")
    assert proc.returncode == 0 and json.loads(proc.stdout)["findings"] == []


def test_a_call_graph_host_nothing_defines_is_warned_about(files, run, manifests):
    path = files("c.yaml", manifests["clean"])
    edges = files("edges.yaml", "edges:\n- {from: cart.shop, to: kart.shop}\n")
    for command in ("check", "graph"):
        proc = run(command, str(path), "--call-graph", str(edges))
        assert proc.returncode == 0, proc.stderr
        assert ("meshlint: warning: --call-graph: kart.shop.svc.cluster.local (edge cart.shop → kart.shop) is no "
                "Service or ServiceEntry host of the input, nor in known-hosts") in proc.stderr
        assert "cart.shop.svc.cluster.local (edge" not in proc.stderr  # the clean manifest's Service


@pytest.mark.parametrize("args,expect", [
    (("-f", "json", "-f", "sarif"), "--format json and --format sarif would both go to stdout"),
    (("-f", "json", "-o", "a.json", "-o", "b.json"), "--output b.json follows no --format of its own"),
])
def test_output_options_that_would_lose_a_report_are_usage_errors(files, run, manifests, tmp_path, args, expect):
    """Issue #13: two reports on stdout would be unparsable; a second --output would silently
    get text."""
    path = files("c.yaml", manifests["warning"])
    proc = run("check", str(path), *args, cwd=tmp_path)
    assert proc.returncode == 2 and expect in proc.stderr
    assert not (tmp_path / "b.json").exists()


def test_a_lone_output_writes_the_text_report(files, run, manifests, tmp_path):
    path = files("c.yaml", manifests["warning"])
    assert run("check", str(path), "-o", "out.txt", cwd=tmp_path).returncode == 1
    assert "ML101 [warning]" in (tmp_path / "out.txt").read_text()


# --- flags people expect (issue #13): quiet, statistics, exit-zero, completion, baselines --------

def test_quiet_prints_the_findings_and_nothing_else(files, run, manifests):
    path = files("c.yaml", manifests["warning"])
    proc = run("check", str(path), "-q")
    assert proc.returncode == 1 and proc.stderr == ""
    assert proc.stdout.splitlines()[0].startswith(f"{path}:11:5: ML101 [warning]")
    assert "finding" not in proc.stdout.splitlines()[-1]  # no summary line
    assert run("check", str(files("clean.yaml", manifests["clean"])), "-q").stdout == ""


def test_statistics_count_findings_per_rule(run, root):
    proc = run("check", "examples", "--statistics", cwd=root)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1
    assert lines[0].split() == ["3", "ML202", "probe-blocked-by-mtls", "error"]
    assert lines[-1].startswith("19 findings (7 error, 12 warning, 0 info)")
    assert not any(": ML" in line for line in lines)  # no finding is listed
    assert run("check", "examples", "--statistics", "-f", "json", cwd=root).returncode == 2


def test_exit_zero_is_fail_on_never(files, run, manifests):
    path = files("e.yaml", manifests["error"])
    assert run("check", str(path)).returncode == 1
    proc = run("check", str(path), "--exit-zero")
    assert proc.returncode == 0 and "ML102 [error]" in proc.stdout


@pytest.mark.parametrize("shell,marker", [("bash", "complete "), ("zsh", "compdef"), ("fish", "complete ")])
def test_completion_prints_a_script_for_the_shell(run, shell, marker):
    proc = run("completion", shell)
    assert proc.returncode == 0 and marker in proc.stdout and "meshlint" in proc.stdout


def test_completion_completes_options(tmp_path, root):
    """What the script does on <TAB>: argcomplete runs meshlint with the command line so far."""
    out = tmp_path / "completions"
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "_ARGCOMPLETE": "1", "_ARGCOMPLETE_SHELL": "bash",
           "COMP_LINE": "meshlint check --sta", "COMP_POINT": "20", "_ARGCOMPLETE_STDOUT_FILENAME": str(out)}
    subprocess.run([sys.executable, "-m", "meshlint"], env=env, check=True, timeout=60)
    assert out.read_text().split() == ["--statistics"]


def test_a_baseline_reports_only_new_findings(files, run, manifests, tmp_path):
    base = tmp_path / "baseline.json"
    path = files("m.yaml", manifests["warning"])
    proc = run("check", str(path), "--write-baseline", str(base))
    assert proc.returncode == 0 and "1 finding(s) recorded in" in proc.stderr
    recorded = json.loads(base.read_text())
    assert recorded["meshlint-baseline"] == 1 and [f["code"] for f in recorded["findings"]] == ["ML101"]
    assert "line" not in recorded["findings"][0]  # matched by what it is, not where

    # the same finding, moved down by an edit: still the baseline's; a new one is reported
    path.write_text("# a comment that moves every line\n" + manifests["warning"] + "---\n" + manifests["error"])
    proc = run("check", str(path), "--baseline", str(base), "-f", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and [f["code"] for f in doc["findings"]] == ["ML102"]
    assert doc["summary"]["suppressed"] == 1

    path.write_text(manifests["clean"])  # fixed since: the baseline says it is stale
    proc = run("check", str(path), "--baseline", str(base))
    assert proc.returncode == 0 and "1 finding(s) of baseline" in proc.stderr


@pytest.mark.parametrize("content,expect", [
    ("{not json", "is not valid JSON"),
    ('{"findings": []}', "is not a meshlint baseline"),
    ('{"meshlint-baseline": 1, "findings": [{"code": 1}]}', "entry 0 must have the string fields"),
])
def test_a_broken_baseline_is_a_usage_error(files, run, manifests, content, expect):
    path = files("m.yaml", manifests["warning"])
    proc = run("check", str(path), "--baseline", str(files("b.json", content)))
    assert proc.returncode == 2 and expect in proc.stderr


def test_an_input_with_nothing_to_check_says_so(tmp_path, run):
    """Issue #13: `0 findings in 0 files` with no word was a silent mistake (a wrong path)."""
    (tmp_path / "empty").mkdir()
    proc = run("check", str(tmp_path / "empty"))
    assert proc.returncode == 0
    assert "meshlint: warning: nothing to check: no .yaml, .yml or .json file in the input" in proc.stderr
