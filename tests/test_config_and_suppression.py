"""Configuration files, suppression, scope and terminal habits (issue #5), through the CLI."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys

import pytest
import yaml


@pytest.fixture
def findings(run):
    """`findings(*args, cwd=None)`: `meshlint check ARGS --format json` as (document, exit code)."""
    def check(*args, cwd=None):
        proc = run("check", *args, "--format", "json", cwd=cwd)
        return json.loads(proc.stdout), proc.returncode
    return check


# --- configuration ---------------------------------------------------------------------------

def test_config_is_found_in_a_parent_directory(tmp_path, findings, manifests):
    (tmp_path / ".meshlint.yaml").write_text("ignore: [ML101]\n")
    sub = tmp_path / "deploy" / "shop"
    sub.mkdir(parents=True)
    (sub / "svc.yaml").write_text(manifests["warning"])
    doc, code = findings("svc.yaml", cwd=sub)
    assert code == 0 and doc["findings"] == []


def test_pyproject_tool_table(tmp_path, findings, manifests):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.meshlint]\nfail-on = "error"\n')
    (tmp_path / "svc.yaml").write_text(manifests["warning"])
    doc, code = findings("svc.yaml", cwd=tmp_path)
    assert code == 0 and [f["code"] for f in doc["findings"]] == ["ML101"]


def test_explicit_config_and_options_and_severity(tmp_path, findings, manifests):
    cfg = tmp_path / "ci.yaml"
    cfg.write_text("severity: {ML101: error}\naggressive-retries: {max-attempts: 1}\nfail-on: error\n")
    (tmp_path / "svc.yaml").write_text(manifests["warning"])
    doc, code = findings(str(tmp_path / "svc.yaml"), "--config", str(cfg))
    assert code == 1 and doc["findings"][0]["severity"] == "error"


@pytest.mark.parametrize("content,expect", [
    ("bogus: 1\n", "bogus: unknown key"),
    ("select: 5\n", "select: expected rule codes"),
    ("select: [ML999]\n", "unknown rule code ML999"),
    ("ignore: [XY1]\n", "is not a rule code or prefix"),
    ("severity: {ML101: fatal}\n", "severity.ML101: unknown severity 'fatal'"),
    ("severity: {ML999: error}\n", "severity: unknown rule code 'ML999'"),
    ("severity: [ML101]\n", "severity: expected a mapping"),
    ("fail-on: sometimes\n", "fail-on: expected info, warning, error or never"),
    ("known-gateways: edge\n", "known-gateways: expected a list of strings"),
    ("known-gateways: [edge]\n", "'edge' is not of the form namespace/name"),
    ("native-sidecars: yes please\n", "native-sidecars: expected true or false"),
    ("istio-cni: enabled\n", "istio-cni: expected true or false"),
    ("retry-amplification: {max-paths: 3}\n", "retry-amplification.max-paths: unknown option for ML302"),
    ("retry-amplification: {max-amplification: lots}\n", "max-amplification: expected float"),
    ("ignore-resources: [{resource: nope}]\n", "ignore-resources[0].resource"),
    ("ignore-resources: [{code: ML101}]\n", "ignore-resources[0]: expected"),
    ("- a list\n", "expected a mapping of settings"),
    ("select: [unclosed\n", "invalid YAML"),
])
def test_configuration_errors_name_the_file_and_key(tmp_path, content, expect, run, manifests):
    (tmp_path / ".meshlint.yaml").write_text(content)
    (tmp_path / "svc.yaml").write_text(manifests["clean"])
    proc = run("check", "svc.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert ".meshlint.yaml" in proc.stderr and expect in proc.stderr, proc.stderr


def test_missing_config_file_is_exit_2(tmp_path, run, manifests):
    (tmp_path / "svc.yaml").write_text(manifests["clean"])
    proc = run("check", "svc.yaml", "--config", "nope.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and "nope.yaml: no such configuration file" in proc.stderr


def test_show_config_prints_a_configuration_that_reads_back(tmp_path, run, manifests):
    """--show-config prints every setting in effect as a configuration file, and what is not a
    setting (its source, --namespace, which rules run) as comments; read back, it is the same
    configuration."""
    (tmp_path / ".meshlint.yaml").write_text("ignore: [ML104]\nknown-gateways: [edge/public]\n"
                                             "retry-amplification: {max-amplification: 5}\n")
    proc = run("check", "--show-config", "--namespace", "shop", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    comments = [line for line in proc.stdout.splitlines() if line.startswith("#")]
    assert "# read from: .meshlint.yaml" in comments and "# --namespace: shop" in comments
    assert "# rules that do not run: ML104" in comments
    shown = yaml.safe_load(proc.stdout)
    assert shown["ignore"] == ["ML104"] and shown["known-gateways"] == ["edge/public"]
    assert shown["retry-amplification"] == {"max-amplification": 5}
    assert shown["aggressive-retries"] == {"max-attempts": 3}
    assert "istio-version" not in shown and "# istio-version: not set" in comments

    (tmp_path / "shown.yaml").write_text(proc.stdout)
    again = run("check", "--config", "shown.yaml", "--show-config", "--namespace", "shop", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == proc.stdout.replace("# read from: .meshlint.yaml", "# read from: shown.yaml")
    (tmp_path / "svc.yaml").write_text(manifests["warning"])
    assert run("check", "--config", "shown.yaml", "svc.yaml", cwd=tmp_path).returncode == 1


@pytest.mark.parametrize("content,expect", [
    ("max-attempts: 5\n", "max-attempts: unknown key; options are keyed by their rule's name: "
                          "write `aggressive-retries: {max-attempts: 5}`"),
    ("rules: {ML301: {max-attempts: 5}}\n",
     "rules: unknown key; options are keyed by the rule's name at the top level, not under rules: "
     "write `aggressive-retries: {max-attempts: 5}`"),
    ("rules: {retry-amplification: {max-amplification: 4}}\n",
     "write `retry-amplification: {max-amplification: 4}`"),
    ("ML301: {max-attempts: 5}\n", "ML301: unknown key; options are keyed by the rule's name, not its code: "
                                   "write `aggressive-retries: {max-attempts: 5}`"),
    ("ignores: [ML101]\n", "ignores: unknown key; did you mean ignore?"),
    ("aggresive-retries: {max-attempts: 2}\n", "did you mean aggressive-retries?"),
])
def test_an_unknown_key_says_what_to_write_instead(tmp_path, content, expect, run, manifests):
    (tmp_path / ".meshlint.yaml").write_text(content)
    (tmp_path / "svc.yaml").write_text(manifests["clean"])
    proc = run("check", "svc.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and expect in proc.stderr, proc.stderr
    # and what it suggests is accepted
    suggestion = proc.stderr.split("`")[1] if "`" in proc.stderr else None
    if suggestion:
        (tmp_path / ".meshlint.yaml").write_text(suggestion + "\n")
        assert run("check", "svc.yaml", cwd=tmp_path).returncode == 0


# --- suppression ---------------------------------------------------------------------------------

@pytest.fixture
def annotated(manifests):
    """`annotated(value, key="meshlint.io/ignore")`: the warning manifest with that annotation."""
    def annotate(value: str, key: str = "meshlint.io/ignore") -> str:
        return manifests["warning"].replace("  namespace: shop\n",
                                            f"  namespace: shop\n  annotations:\n    {key}: \"{value}\"\n")
    return annotate


@pytest.mark.parametrize("value,suppressed", [
    ("ML101", True), (" ML104 , ml101 ", True), ("*", True), ("ML104", False), ("ML10", False),
])
def test_meshlint_ignore_annotation(tmp_path, value, suppressed, findings, annotated):
    (tmp_path / "svc.yaml").write_text(annotated(value))
    doc, code = findings(str(tmp_path / "svc.yaml"))
    assert (doc["findings"] == []) is suppressed
    assert doc["summary"]["suppressed"] == (1 if suppressed else 0)
    assert code == (0 if suppressed else 1)


@pytest.mark.parametrize("value,suppressed", [("IST0118", True), ("IST0101,IST0118", True), ("*", True),
                                              ("IST0132", False)])
def test_istioctl_suppress_annotation_maps_codes(tmp_path, value, suppressed, findings, annotated):
    (tmp_path / "svc.yaml").write_text(annotated(value, "galley.istio.io/analyze-suppress"))
    doc, _ = findings(str(tmp_path / "svc.yaml"))
    assert (doc["findings"] == []) is suppressed


def test_istioctl_ist0101_maps_to_missing_gateways_and_subsets(tmp_path, findings, manifests):
    vs = manifests["error"].replace(
        "  name: shop\n", "  name: shop\n  annotations:\n    galley.istio.io/analyze-suppress: IST0101\n")
    (tmp_path / "vs.yaml").write_text(vs)
    doc, code = findings(str(tmp_path / "vs.yaml"), "--select", "ML102")
    assert doc["findings"] == [] and doc["summary"]["suppressed"] == 1 and code == 0


def test_ignore_resources_globs(tmp_path, run, findings, manifests):
    (tmp_path / ".meshlint.yaml").write_text(
        'ignore-resources:\n- {code: ML1, resource: "Service shop/ca*"}\n- {resource: "VirtualService */shop"}\n')
    (tmp_path / "a.yaml").write_text(manifests["warning"] + "---\n" + manifests["error"])
    doc, code = findings("a.yaml", cwd=tmp_path)
    assert doc["findings"] == [] and doc["summary"]["suppressed"] == 2 and code == 0
    text = run("check", "a.yaml", cwd=tmp_path).stdout
    assert text.splitlines()[-1].startswith("0 findings (0 error, 0 warning, 0 info, 2 suppressed)")


# --- scope ---------------------------------------------------------------------------------------

def test_namespace_scope_keeps_analysis_global(tmp_path, run, findings):
    gateway = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["shop/*.example.com"]
    tls: {mode: SIMPLE, credentialName: cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [edge/public]
  http: [{route: [{destination: {host: frontend}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pay, namespace: payments}
spec:
  hosts: [pay.example.com]
  gateways: [edge/public]
  http: [{route: [{destination: {host: payment}}]}]
---
apiVersion: v1
kind: Namespace
metadata: {name: payments, labels: {istio-injection: enabled, istio.io/rev: canary}}
"""
    (tmp_path / "m.yaml").write_text(gateway)
    everything, _ = findings(str(tmp_path / "m.yaml"), "-A")
    shop, _ = findings(str(tmp_path / "m.yaml"), "--namespace", "shop")
    payments, _ = findings(str(tmp_path / "m.yaml"), "-n", "payments")

    def codes(d):
        return sorted((f["code"], (f["resource"] or {}).get("namespace")) for f in d["findings"])

    assert ("ML103", "payments") in codes(everything)
    # the Gateway in edge was analysed (shop's VS binds fine) but is not reported on
    assert all(ns in ("shop", None) for _, ns in codes(shop))
    assert ("ML103", "payments") in codes(payments) and ("ML403", None) in codes(payments)
    assert all(ns in ("payments", None) for _, ns in codes(payments))
    # another team's Namespace object is not this one's (issue #13: -n isolates a team)
    assert ("ML403", None) not in codes(shop)
    assert run("check", str(tmp_path / "m.yaml"), "-n", "x", "-A").returncode == 2


def test_a_namespace_the_input_does_not_hold_is_warned_about(tmp_path, run):
    (tmp_path / "m.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n")
    proc = run("check", str(tmp_path / "m.yaml"), "-n", "shpo")
    assert proc.returncode == 0
    assert ("meshlint: warning: --namespace shpo: nothing of that namespace is in the input, so nothing is "
            "reported") in proc.stderr
    assert "warning" not in run("check", str(tmp_path / "m.yaml"), "-n", "shop").stderr


# --- terminal habits -----------------------------------------------------------------------------

@pytest.fixture
def run_on_tty(root):
    """`run_on_tty(args, env_extra=None, timeout=60)`: run the CLI in the repository with stdout and
    stderr on a pseudo-terminal; return everything it printed."""
    def run_tty(args, env_extra=None, timeout=60) -> bytes:
        master, slave = pty.openpty()
        env = {**os.environ, "PYTHONPATH": str(root / "src"), **(env_extra or {})}
        env.pop("NO_COLOR", None) if "NO_COLOR" not in (env_extra or {}) else None
        proc = subprocess.Popen([sys.executable, "-m", "meshlint", *args], stdout=slave, stderr=slave,
                                stdin=subprocess.DEVNULL, env=env, cwd=root)
        os.close(slave)
        out = b""
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        proc.wait(timeout=timeout)
        os.close(master)
        return out
    return run_tty


def test_colour_on_a_terminal_and_never_with_no_color(run, run_on_tty):
    coloured = run_on_tty(["check", "examples", "--select", "ML101"])
    assert b"\x1b[33m[warning]\x1b[0m" in coloured
    plain = run_on_tty(["check", "examples", "--select", "ML101"], {"NO_COLOR": "1"})
    assert b"\x1b[" not in plain and b"[warning]" in plain
    piped = run("check", "examples", "--select", "ML101").stdout
    assert "\x1b[" not in piped


def test_findings_fit_the_terminal_with_their_continuations_indented(run, run_on_tty):
    """Issue #13: on an 80-column terminal a long finding wraps at word boundaries, and its
    continuation lines are indented under it; piped, every finding stays on one line."""
    shown = run_on_tty(["check", "examples", "--color", "never"], {"COLUMNS": "80"}).decode()
    lines = [line for line in shown.replace("\r", "").splitlines() if line]
    assert max(len(line) for line in lines) <= 80
    continued = [line for line in lines if line.startswith("    ") and not line.startswith("  help:")]
    assert continued, "some finding is longer than 80 columns"
    helps = [i for i, line in enumerate(lines) if line.startswith("  help:")]
    for i in helps:  # a help line follows its finding and the finding's continuations
        assert not lines[i - 1].startswith("  help:")
    piped = run("check", "examples").stdout.splitlines()
    assert all(line.startswith(("examples/", "  help:")) for line in piped[:-2])
    assert piped[-2].startswith("[*] ")  # what `meshlint fix` would fix


def test_progress_moves_through_one_big_file(tmp_path, run_on_tty):
    """Issue #13: a single large dump (or stdin) read in silence; progress is in bytes now."""
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: shop}}\ndata: {{k: '{pad}'}}\n---\n"
    big = tmp_path / "dump.yaml"
    big.write_text("".join(doc.format(i=i, pad="x" * 200) for i in range(15000)))  # ~4 MB
    shown = run_on_tty(["check", str(big), "--fail-on", "never"], {"MESHLINT_PROGRESS_DELAY": "0"})
    assert b"meshlint: reading" in shown and b"MB" in shown


def test_progress_bar_only_on_a_terminal(run, run_on_tty):
    shown = run_on_tty(["check", "examples", "--fail-on", "never"], {"MESHLINT_PROGRESS_DELAY": "0"})
    assert b"meshlint: reading" in shown
    piped = run("check", "examples", "--fail-on", "never")
    assert "meshlint: reading" not in piped.stderr


# --- habits: the pre-commit hook and the CI recipes -----------------------------------------------

def test_pre_commit_hooks_file(root):
    hooks = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert by_id["meshlint"]["entry"] == "meshlint check --context-dir ." and by_id["meshlint"]["language"] == "python"
    assert set(by_id["meshlint"]["types_or"]) == {"yaml", "json"}
    assert by_id["meshlint-repo"]["pass_filenames"] is False


def test_ci_recipes_use_real_options(root):
    text = (root / "docs" / "ci.md").read_text()
    for needle in ("upload-sarif", "--format sarif --output meshlint.sarif", "--format github",
                   "reports:\n      junit: meshlint-junit.xml", "--format junit --output meshlint-junit.xml"):
        assert needle in text
    for block in text.split("```yaml")[1:]:
        yaml.safe_load(block.split("```")[0])  # every YAML recipe parses


@pytest.mark.parametrize("codes", ["ML9", "ML5", "ML50", "ML1,ML42"])
def test_a_prefix_that_selects_no_rule_is_a_usage_error(tmp_path, run, codes):
    """SPEC §1: a code or prefix that matches no rule is a usage error, not `0 findings`."""
    (tmp_path / "m.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    for option in ("--select", "--ignore"):
        proc = run("check", str(tmp_path / "m.yaml"), option, codes)
        assert proc.returncode == 2 and "no rule code starts with" in proc.stderr
        assert "(codes: ML001-ML003, ML101-" in proc.stderr


def test_the_local_pre_commit_recipe_runs_the_declared_hook(root):
    """docs/ci.md's `repo: local` hook (for a meshlint installed from a wheel) runs exactly what
    the hook in .pre-commit-hooks.yaml runs."""
    declared = {h["id"]: h for h in yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())}["meshlint"]
    text = (root / "docs" / "ci.md").read_text()
    configs = [yaml.safe_load(block.split("```")[0]) for block in text.split("```yaml")[1:]]
    (local,) = [repo for c in configs if isinstance(c, dict) for repo in c.get("repos", []) if repo["repo"] == "local"]
    (hook,) = local["hooks"]
    assert hook["language"] == "system"
    for key in ("id", "entry", "types_or", "require_serial"):
        assert hook[key] == declared[key], key


ROUTING = """\
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: api
  namespace: shop
  annotations:
    galley.istio.io/analyze-suppress: "%s"
spec:
  hosts: [api]
  http:
  - route:
    - destination: {host: api-v2}
  - route:
    - destination: {host: api}
"""


@pytest.mark.parametrize("value,left", [
    ("IST0101", {"ML109"}),  # the missing host: ML106 shares IST0101 with ML102 and ML105
    ("IST0130", {"ML106"}),  # the rule after a catch-all: ML109
    ("IST0101,IST0130", set()),
    ("IST0149", {"ML106", "ML109"}),
])
def test_istioctl_codes_of_the_routing_rules_suppress_them(tmp_path, findings, value, left):
    (tmp_path / "vs.yaml").write_text(ROUTING % value)
    doc, _ = findings(str(tmp_path / "vs.yaml"), "--select", "ML106,ML109")
    assert {f["code"] for f in doc["findings"]} == left


WORKLOADS = """\
apiVersion: v1
kind: Namespace
metadata: {name: edge}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway
  namespace: edge
  annotations:
    galley.istio.io/analyze-suppress: "%s"
    sidecar.istio.io/inject: "false"
spec:
  selector:
    matchLabels: {istio: gateway}
  template:
    metadata:
      labels: {istio: gateway}
    spec:
      containers:
      - {name: istio-proxy, image: auto}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: limits
  namespace: edge
  annotations:
    galley.istio.io/analyze-suppress: "%s"
spec:
  configPatches:
  - applyTo: CLUSTER
    match: {proxy: {proxyVersion: '^1\\\\.24.*'}}
    patch: {operation: REPLACE, value: {connect_timeout: 2s}}
  - applyTo: HTTP_FILTER
    match: {proxy: {proxyVersion: '^1\\\\.24.*'}}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.lua}}
"""


@pytest.mark.parametrize("deployment,envoyfilter,left", [
    ("", "", {"ML404", "ML405", "ML406", "ML408"}),
    ("IST0107", "IST0152", {"ML404", "ML406"}),  # the misplaced annotation; REPLACE on a CLUSTER
    ("IST0146", "IST0151", {"ML405", "ML408"}),  # image: auto; the relative operation
    ("IST0146,IST0108", "IST0155,IST0154", set()),  # any code of the rule suppresses all of it
])
def test_istioctl_codes_of_the_workload_rules_suppress_them(tmp_path, findings, deployment, envoyfilter, left):
    (tmp_path / "w.yaml").write_text(WORKLOADS % (deployment, envoyfilter))
    doc, _ = findings(str(tmp_path / "w.yaml"), "--select", "ML404,ML405,ML406,ML408")
    assert {f["code"] for f in doc["findings"]} == left
