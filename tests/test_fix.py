"""`meshlint fix` through its command line (SPEC §1, §5 Fixes, §6; issue 17): safe fixes in
place, unsafe ones on request, `--diff` that `git apply` accepts, stdin, exit codes, the
layouts an edit must keep, files it must never touch, and fixes it must refuse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from meshlint import cli
from meshlint.finding import Applicability, Edit, Fix

MESH = """\
# the cart service and its routes
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: {app: cart}
  ports:
  - port: 80        # the HTTP API
    targetPort: 8080
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: cart
  namespace: shop
spec:
  hosts: ["cart"]
  http:
  - route:
    - destination: {host: cart}
    retries:
      attempts: 5
      retryOn: 'connect-failure,refused-stream'
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: cart
  namespace: shop
spec:
  host: cart
  # keep the pool small
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 100}
"""

# the safe fixes: port 80 is HTTP (ML101); the retries get a circuit breaker (ML303)
MESH_SAFE = MESH.replace("""\
    targetPort: 8080
""", """\
    targetPort: 8080
    name: http
""").replace("""\
      tcp: {maxConnections: 100}
""", """\
      tcp: {maxConnections: 100}
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
""")
# and the unsafe one: fewer retries (ML301)
MESH_UNSAFE = MESH_SAFE.replace("attempts: 5", "attempts: 3")


def test_safe_fixes_in_place_the_unsafe_ones_on_request_and_a_second_run_changes_nothing(files, run):
    path = files("mesh.yaml", MESH)
    proc = run("fix", str(path))
    assert path.read_text() == MESH_SAFE
    # ML301 (a warning) is left: exit 1, as ruff's --fix with something left
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"{path}:25:7: ML301 [warning] VirtualService shop/cart: route http[0] retries up to 5")
    assert "  unsafe fix (meshlint fix --unsafe): lowers attempts from 5 to 3: fewer retries of a failing request" \
        in lines
    assert lines[-1] == "2 fixed, 1 left (1 more fixable with --unsafe)"

    again = run("fix", str(path))
    assert path.read_text() == MESH_SAFE and again.stdout.splitlines()[-1] == "0 fixed, 1 left (1 more fixable " \
        "with --unsafe)"

    proc = run("fix", "--unsafe-fixes", str(path))  # ruff's spelling of --unsafe
    assert (proc.returncode, proc.stdout) == (0, "1 fixed, 0 left\n")
    assert path.read_text() == MESH_UNSAFE
    proc = run("fix", "--unsafe", str(path))
    assert (proc.returncode, proc.stdout, path.read_text()) == (0, "0 fixed, 0 left\n", MESH_UNSAFE)


def test_exit_codes_follow_fail_on_and_select(files, run):
    path = files("mesh.yaml", MESH)
    # what is left is a warning: nothing at or above error
    assert run("fix", str(path), "--fail-on", "error").returncode == 0
    path.write_text(MESH)
    proc = run("fix", str(path), "--select", "ML101")  # only ML101 is fixed, and only ML101 counts
    assert proc.returncode == 0 and proc.stdout == "1 fixed, 0 left\n"
    assert "outlierDetection" not in path.read_text() and "name: http" in path.read_text()
    assert run("fix", str(path), "--select", "ML9").returncode == 2  # a prefix naming no rule: usage error
    assert run("fix", str(tmp_missing := path.with_name("missing.yaml"))).returncode == 2, tmp_missing


def test_diff_changes_nothing_and_git_apply_gives_the_in_place_result(files, run, tmp_path):
    path = files("deploy/mesh.yaml", MESH)
    proc = run("fix", "--diff", "deploy/mesh.yaml", cwd=tmp_path)
    assert proc.returncode == 1  # it would change something
    assert path.read_text() == MESH
    assert proc.stdout.startswith("diff --git a/deploy/mesh.yaml b/deploy/mesh.yaml\n"
                                  "--- a/deploy/mesh.yaml\n+++ b/deploy/mesh.yaml\n@@ -9,6 +9,7 @@\n")
    assert proc.stderr.splitlines()[-1] == "2 would be fixed, 1 left (1 more fixable with --unsafe)"
    for unsafe in ((), ("--unsafe",)):
        path.write_text(MESH)
        diff = run("fix", "--diff", *unsafe, "deploy/mesh.yaml", cwd=tmp_path).stdout
        _git_apply(diff, tmp_path)
        applied = path.read_bytes()
        path.write_text(MESH)
        run("fix", *unsafe, "deploy/mesh.yaml", cwd=tmp_path)
        assert applied == path.read_bytes() == (MESH_UNSAFE if unsafe else MESH_SAFE).encode()
    clean = run("fix", "--diff", "--unsafe", "deploy/mesh.yaml", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, "")


def _git_apply(diff: str, cwd) -> None:
    """`git apply` (or, without git, `patch -p1`) of a diff in `cwd`."""
    git = shutil.which("git")
    if git is not None:
        subprocess.run([git, "apply", "--unsafe-paths", "-"], input=diff.encode(), cwd=cwd, check=True,
                       capture_output=True)
        return
    patch = shutil.which("patch")
    if patch is None:  # pragma: no cover - Debian has both
        pytest.skip("neither git nor patch is installed")
    subprocess.run([patch, "-p1", "--quiet"], input=diff.encode(), cwd=cwd, check=True, capture_output=True)


HELM_STREAM = """\
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: cart
  labels:
    helm.sh/chart: shop-0.1.0
spec:
  ports:
    - port: 80
      targetPort: http
  selector:
    app: cart
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
spec:
  selector:
    matchLabels:
      app: cart
  template:
    metadata:
      labels:
        app: cart
    spec:
      containers:
        - name: cart
          image: "shop/cart:1.0"
          ports:
            - name: http
              containerPort: 8080
"""


def test_stdin_a_rendered_helm_stream_is_fixed_to_stdout(run):
    proc = run("fix", "-", input=HELM_STREAM)
    # the container port's name says HTTP: safe; the indented sequence keeps its indentation
    assert proc.stdout == HELM_STREAM.replace("      targetPort: http\n", "      targetPort: http\n      name: http\n")
    assert proc.returncode == 0 and proc.stderr.splitlines()[-1] == "1 fixed, 0 left"
    diff = run("fix", "-", "--diff", "--stdin-filename", "rendered.yaml", input=HELM_STREAM)
    assert diff.returncode == 1 and diff.stdout == """\
diff --git a/rendered.yaml b/rendered.yaml
--- a/rendered.yaml
+++ b/rendered.yaml
@@ -10,6 +10,7 @@
   ports:
     - port: 80
       targetPort: http
+      name: http
   selector:
     app: cart
 ---
"""


FLOW_AND_FOUR_SPACES = """\
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
    selector: {app: db}
    ports: [{port: 5432, targetPort: 5432}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
    hosts: [reviews]
    http:
        -   route:
                -   destination: {host: reviews, subset: v1}
                    weight: 90
                -   destination: {host: reviews, subset: v2}
                    weight: 10
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
    host: reviews
    subsets:
        -   name: v1
            labels: {version: v1}
            trafficPolicy:
                outlierDetection: {consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 1m}
        -   name: v2
            labels: {version: v2}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
    selector: {app: reviews}
    ports: [{name: http, port: 9080}]
"""


def test_flow_style_four_space_indentation_and_outlier_detection_in_one_subset(files, run):
    """A flow mapping gets its entry in flow style; the canary's DestinationRule, whose subset
    v1 has outlierDetection and v2 has none, gets a `trafficPolicy` at the top, indented as the
    document is (four spaces), after the subsets."""
    path = files("flow.yaml", FLOW_AND_FOUR_SPACES)
    proc = run("fix", "--diff", str(path.name), cwd=path.parent)
    assert proc.stdout == """\
diff --git a/flow.yaml b/flow.yaml
--- a/flow.yaml
+++ b/flow.yaml
@@ -3,7 +3,7 @@
 metadata: {name: db, namespace: shop}
 spec:
     selector: {app: db}
-    ports: [{port: 5432, targetPort: 5432}]
+    ports: [{port: 5432, targetPort: 5432, name: tcp}]
 ---
 apiVersion: networking.istio.io/v1
 kind: VirtualService
@@ -29,6 +29,11 @@
                 outlierDetection: {consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 1m}
         -   name: v2
             labels: {version: v2}
+    trafficPolicy:
+        outlierDetection:
+            consecutive5xxErrors: 5
+            interval: 10s
+            baseEjectionTime: 30s
 ---
 apiVersion: v1
 kind: Service
"""


GATEWAY_PODS = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public
  namespace: edge
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "shop.example.com"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingressgateway
  namespace: edge
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  template:
    metadata:
      labels:
        istio: ingressgateway
    spec:
      containers:
      - name: istio-proxy
        image: docker.io/istio/proxyv2:1.24.2
"""


def test_a_pod_template_without_annotations_gets_them(files, run):
    """ML203: the gateway pods' proxy config, as YAML in a new `annotations` of the template."""
    path = files("gw.yaml", GATEWAY_PODS)
    run("fix", str(path))
    assert path.read_text() == GATEWAY_PODS.replace("""\
        istio: ingressgateway
    spec:
""", """\
        istio: ingressgateway
      annotations:
        proxy.istio.io/config: |
          proxyHeaders:
            envoyDebugHeaders:
              disabled: true
    spec:
""")
    assert run("check", str(path), "--select", "ML203").returncode == 0


def test_crlf_bom_comments_anchors_and_document_markers_stay_and_cr_alone_is_refused(files, run):
    crlf = "\ufeffapiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: db\r\n  namespace: shop\r\nspec:\r\n" \
           "  ports:\r\n  - port: 5432\r\n"
    path = files("crlf.yaml", crlf.encode("utf-8"))
    run("fix", str(path))
    assert path.read_bytes() == (crlf + "    name: tcp\r\n").encode("utf-8")

    # a CR alone is read as a line break, so the text could not be written back as it was
    cr_only = b"apiVersion: v1\rkind: Service\rmetadata:\r  name: db\r  namespace: shop\rspec:\r  ports:\r" \
              b"  - port: 5432\r"
    path = files("cr.yaml", cr_only)
    proc = run("fix", str(path))
    assert path.read_bytes() == cr_only and proc.returncode == 1
    assert f"  fix not applied: {path} has line breaks that are a CR alone (not CRLF): it is never edited" \
        in proc.stdout.splitlines()

    anchored = """\
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: shop
  labels: &labels
    app: db
spec:
  selector: *labels
  ports:
  - port: 5432   # postgres
...
---
# the next document keeps its comment and its end marker
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: "fast"}
...
"""
    path = files("anchored.yaml", anchored)
    assert run("fix", str(path)).returncode == 0
    assert path.read_text() == anchored.replace("  - port: 5432   # postgres\n",
                                                "  - port: 5432   # postgres\n    name: tcp\n")


def test_templates_and_non_manifests_are_never_edited(files, run, tmp_path):
    template = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  ports:\n  - port: 5432\n"
    # a manifest with an Argo parameter in a value is analysed (it is not a Helm template), and
    # never edited: the placeholder is filled in as text
    placeholder = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: shop\n  annotations:\n"
                   "    owner: '{{args.owner}}'\nspec:\n  ports:\n  - port: 5432\n")
    values = "replicaCount: 1\nservice:\n  port: 5432\n"
    paths = [files("chart/templates/svc.yaml", template), files("rendered/svc.yaml", placeholder),
             files("chart/values.yaml", values)]
    before = [p.read_bytes() for p in paths]
    proc = run("fix", str(tmp_path))
    assert [p.read_bytes() for p in paths] == before
    assert proc.returncode == 1
    assert (f"  fix not applied: {paths[1]} holds template placeholders ({{{{ }}}} or {{%): it is never edited"
            in proc.stdout.splitlines())
    assert proc.stdout.splitlines()[-1] == "0 fixed, 1 left"


def _patched_priority_fix(monkeypatch, fix: Fix) -> None:
    from meshlint.rules import envoyfilter_unpinned

    monkeypatch.setattr(envoyfilter_unpinned, "PRIORITY_FIX", fix)


ENVOY_FILTER = """\
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: lua
  namespace: istio-system
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      proxy:
        proxyVersion: '^1\\.24.*'
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.lua
"""


def test_a_fix_that_would_bring_a_new_finding_is_refused_with_the_reason(files, monkeypatch, capsys):
    """The engine applies any rule's edits and judges them by checking again: here a fix that
    also writes an unknown code into the suppression annotation (ML003) is not applied."""
    _patched_priority_fix(monkeypatch, Fix((Edit(("spec", "priority"), 10),
                                            Edit(("metadata", "annotations", "meshlint.io/ignore"), "ML999")),
                                           Applicability.SAFE))
    path = files("filter.yaml", ENVOY_FILTER)
    assert cli.main(["fix", str(path)]) == 1
    assert path.read_text() == ENVOY_FILTER
    out = capsys.readouterr().out.splitlines()
    assert ("  fix not applied: it would bring a new finding (ML003 on EnvoyFilter istio-system/lua: "
            "meshlint.io/ignore names ML999, which is no rule code: it suppresses nothing)") in out, out


def test_a_fix_whose_text_would_not_read_back_is_refused(files, monkeypatch, capsys):
    """Every edit is parsed again before it is written: a value the text cannot hold as meant
    (NaN is written as a string that reads back as one) is refused."""
    _patched_priority_fix(monkeypatch, Fix((Edit(("spec", "priority"), float("nan")),), Applicability.SAFE))
    path = files("filter.yaml", ENVOY_FILTER)
    assert cli.main(["fix", str(path)]) == 1
    assert path.read_text() == ENVOY_FILTER
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"  fix not applied: {path} cannot be edited safely: the edited document would "
                               "differ from the original beyond the fix") for line in out), out


def test_check_does_not_import_the_fix_engine(root):
    """`meshlint check one.yaml` starts fast: neither ruamel.yaml nor the fix engine is imported
    (the rules import only the edit builders they share)."""
    code = ("import sys; from meshlint import cli; cli.main(['check', '-', '--fail-on', 'never']); "
            "print(sorted(m for m in sys.modules if m.startswith(('ruamel', 'meshlint.fix.'))))")
    proc = subprocess.run([sys.executable, "-c", code], input=MESH.encode(), capture_output=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(root / "src")})
    assert proc.stdout.decode().splitlines()[-1] == "['meshlint.fix.edits']"


TWO_ROUTES = """\
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec:
  selector: {app: ratings}
  ports:
  - {name: http, port: 9080}
  - {name: metrics, port: 9090}
  - {port: 7000}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: shop}
spec:
  hosts: [ratings]
  http:
  - match: [{headers: {x-canary: {exact: "1"}}}]
    route: [{destination: {host: ratings}}]
    retries: {attempts: 3, retryOn: connect-failure}
  - route: [{destination: {host: ratings.shop.svc.cluster.local}}]
    retries: {attempts: 2, retryOn: connect-failure}
"""


def test_fixes_converge_a_guess_says_so_and_an_unknown_protocol_has_no_fix(files, run):
    """Two routes without a circuit breaker to one host: one DestinationRule is created for
    both (unsafe: one may exist outside the input). Port 9090 named `metrics` is HTTP only by
    a guess (unsafe, and said to be one); port 7000 cannot be known: no fix, and why."""
    path = files("ratings.yaml", TWO_ROUTES)
    proc = run("fix", str(path))
    assert path.read_text() == TWO_ROUTES
    out = proc.stdout.splitlines()
    assert "  unsafe fix (meshlint fix --unsafe): names the port http-metrics: a guess from the name \"metrics\"; " \
           "check that port 9090 serves HTTP" in out
    assert "  no automatic fix: the protocol of port 7000 cannot be known from the Service, its pods or the port " \
           "number: name the port for what it serves" in out
    assert out[-1] == "0 fixed, 4 left (3 more fixable with --unsafe)"

    proc = run("fix", "--unsafe", str(path))
    assert proc.stdout.splitlines()[-1] == "3 fixed, 1 left"
    assert path.read_text() == TWO_ROUTES.replace("{name: metrics,", "{name: http-metrics,") + """\
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ratings
  namespace: shop
spec:
  host: ratings
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
"""
    assert run("fix", "--unsafe", "--diff", str(path)).stdout == ""


def test_the_readme_shows_a_real_diff(root, run):
    readme = (root / "README.md").read_text()
    shown = readme.split("## Fixing: `meshlint fix`", 1)[1].split("```diff\n", 1)[1].split("```", 1)[0]
    proc = run("fix", "examples", "--diff", cwd=root)
    for section in shown.split("diff --git ")[1:]:
        assert "diff --git " + section in proc.stdout
    assert proc.stderr.splitlines()[-1] == "5 would be fixed, 14 left (8 more fixable with --unsafe)"
    assert "`5 would be fixed, 14 left (8 more fixable with --unsafe)`" in readme
