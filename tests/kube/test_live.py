"""`meshlint check --kube` (and graph, simulate) as a user runs it: the official client over real
HTTP against the API emulator (`apiserver.py`), serving the realistic cluster of
`cluster.yaml`: what it finds there, where it says it is, what it reads and how, what it does
when it may not read something, and the files that overlay the cluster."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def findings(proc) -> dict[tuple[str, str, str], dict]:
    """(code, variant, `Kind ns/name`) -> the JSON finding."""
    out = {}
    for f in json.loads(proc.stdout)["findings"]:
        r = f["resource"]
        where = f"{r['namespace']}/{r['name']}" if r["namespace"] else r["name"]
        out[(f["code"], f["variant"], f"{r['kind']} {where}")] = f
    return out


@pytest.fixture
def served(apiserver, cluster_objects):
    apiserver.serve(cluster_objects)
    return apiserver


def test_live_facts_are_found_where_only_the_cluster_shows_them(served, run):
    proc = run("check", "--kube", "--kubeconfig", str(served.kubeconfig()), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    found = findings(proc)
    # ML401: the Job's container ended five hours ago, its proxy still runs
    stuck = found[("ML401", "stuck-job", "Job shop/migrate-2024-06")]
    assert stuck["severity"] == "error"
    assert stuck["message"] == ("pod migrate-2024-06-h7x9d of Job migrate-2024-06 has run istio-proxy for 5h since "
                                "its containers exited: the Job never completes")
    # ML201: legacy-api's template would be injected now, but its running pod has no sidecar
    assert "its running pod legacy-api-55d4c8b6d-m4n8p has no istio-proxy container" in \
        found[("ML201", "in-strict-scope", "Deployment shop/legacy-api")]["message"]
    # ML402 (c): the proxy the injector really gave cart's pods
    assert found[("ML402", "live-pod-without-requests", "Deployment shop/cart")]["message"] == \
        "the istio-proxy container of its running pod cart-7d9c5b7f4-x2kqp has no memory or cpu request"
    # ML410: cart was never restarted after the in-place upgrade to 1.22.3
    assert "runs istio-proxy docker.io/istio/proxyv2:1.21.2, not docker.io/istio/proxyv2:1.22.3, which the " \
        "injector of revision default gives new pods (and 1 more pod)" in \
        found[("ML410", "outdated-proxy", "Deployment shop/cart")]["message"]
    # ML403: namespace labels, injector webhooks and the revision tag
    ml403 = [f for (code, _, _), f in found.items() if code == "ML403"]
    assert [f["variant"] for f in ml403] == ["legacy-label-with-revisions"]
    assert "webhook istio-revision-tag-prod-stable" in ml403[0]["message"]
    # ML203: the mesh config is the cluster's istio ConfigMap, so it is a warning, not an assumption
    assert "(ConfigMap istio-system/istio)" in found[("ML203", "gateway-headers", "Gateway istio-system/public")][
        "message"]
    # what must not be found: ledger follows the prod-stable tag to revision 1-23, whose injector
    # gives 1.23.1; the CronJob has a native sidecar; the frontend pods are current; kube-system
    # is never reported on
    assert not [key for key in found if key[2] in ("Deployment payments/ledger", "CronJob shop/nightly-report",
                                                   "Deployment shop/frontend")]
    assert not [key for key in found if "kube-system" in key[2]]
    # a live object has no file, line or column
    assert {(f["file"], f["line"], f["column"]) for f in found.values()} == {(None, None, None)}
    summary = json.loads(proc.stdout)["summary"]
    assert summary["cluster"] == "emulator" and summary["files"] == 0
    assert summary["resources"] == 40  # all but the Secret, the app's ConfigMap and the finished Pod


def test_text_names_the_object_and_its_cluster(served, run):
    proc = run("check", "--kube", "--kubeconfig", str(served.kubeconfig()), "--select", "ML401")
    assert proc.stdout.splitlines()[0] == (
        "Job shop/migrate-2024-06 (cluster emulator): ML401 [error] pod migrate-2024-06-h7x9d of Job "
        "migrate-2024-06 has run istio-proxy for 5h since its containers exited: the Job never completes")
    assert proc.stdout.splitlines()[-1] == "1 finding (1 error, 0 warning, 0 info) in cluster emulator, 30 resources"


def test_sarif_gives_live_objects_a_logical_location_and_validates(served, run, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "out.sarif"
    proc = run("check", "--kube", "--kubeconfig", str(served.kubeconfig()), "--format", "sarif", "--output", str(out))
    assert proc.returncode == 1, proc.stderr
    log = json.loads(out.read_text())
    schema = json.loads((ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    stuck = next(r for r in results if r["ruleId"] == "ML401")
    assert stuck["locations"] == [{"logicalLocations": [
        {"name": "shop/migrate-2024-06", "kind": "resource", "fullyQualifiedName": "Job/shop/migrate-2024-06"}]}]
    assert stuck["message"]["text"].startswith("Job shop/migrate-2024-06 (cluster emulator): pod ")
    assert all("physicalLocation" not in location for r in results for location in r["locations"])


def test_github_and_junit_name_the_live_object(served, run, tmp_path):
    kubeconfig = str(served.kubeconfig())
    proc = run("check", "--kube", "--kubeconfig", kubeconfig, "--select", "ML401", "--format", "github")
    assert proc.stdout.startswith("::error title=ML401 job-sidecar-injected::Job shop/migrate-2024-06 "
                                  "(cluster emulator): pod migrate-2024-06-h7x9d")
    proc = run("check", "--kube", "--kubeconfig", kubeconfig, "--select", "ML401", "--format", "junit")
    assert '<testcase classname="ML401 job-sidecar-injected" name="Job shop/migrate-2024-06">' in proc.stdout
    assert "Job shop/migrate-2024-06 (cluster emulator): ML401 [error]" in proc.stdout


def test_reads_with_get_only_exactly_the_kinds_the_rules_declare(served, run):
    """Read-only: every request is a GET, Secrets are never asked for, ConfigMaps only in the
    root namespace, finished Pods filtered out by the server, every list paged; and the lists
    are exactly the kinds the selected rules declare as inputs."""
    from meshlint import rules

    proc = run("check", "--kube", "--kubeconfig", str(served.kubeconfig()), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    requests = served.requests()
    assert requests and {r["method"] for r in requests} == {"GET"}
    assert all(r["authorization"] == "Bearer meshlint-e2e-token" for r in requests)
    assert not [r for r in requests if "secrets" in r["path"]]
    lists = [r for r in requests if r["path"].rsplit("/", 1)[-1].islower() and "limit" in r["query"]]
    assert all(r["query"]["limit"] == "500" for r in lists)
    assert [r["path"] for r in lists if r["path"].endswith("/configmaps")] == [
        "/api/v1/namespaces/istio-system/configmaps"]
    assert [r["query"].get("fieldSelector") for r in lists if r["path"].endswith("/pods")] == [
        "status.phase!=Succeeded,status.phase!=Failed"]
    # each list is of a kind some rule reads, and each kind the rules read is listed once
    plural = {"Namespace": "namespaces", "Pod": "pods", "Service": "services", "ConfigMap": "configmaps",
              "Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets",
              "ReplicaSet": "replicasets", "Job": "jobs", "CronJob": "cronjobs",
              "MutatingWebhookConfiguration": "mutatingwebhookconfigurations", "VirtualService": "virtualservices",
              "DestinationRule": "destinationrules", "Gateway": "gateways", "ServiceEntry": "serviceentries",
              "Sidecar": "sidecars", "EnvoyFilter": "envoyfilters", "PeerAuthentication": "peerauthentications",
              "AuthorizationPolicy": "authorizationpolicies", "RequestAuthentication": "requestauthentications",
              "Telemetry": "telemetries", "WasmPlugin": "wasmplugins", "IstioOperator": "istiooperators",
              "gateway.networking.k8s.io/Gateway": "gateways", "HTTPRoute": "httproutes", "GRPCRoute": "grpcroutes",
              "TCPRoute": "tcproutes", "TLSRoute": "tlsroutes", "UDPRoute": "udproutes",
              "ReferenceGrant": "referencegrants", "Rollout": "rollouts"}
    declared = {kind for rule in rules.ALL for kind in rule.inputs}
    assert sorted(r["path"].rsplit("/", 1)[-1] for r in lists) == sorted(plural[k] for k in declared)


def test_selected_rules_read_only_their_inputs(served, run):
    proc = run("check", "--kube", "--kubeconfig", str(served.kubeconfig()), "--select", "ML403", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    listed = sorted(r["path"] for r in served.requests() if "limit" in r["query"])
    assert listed == ["/api/v1/namespaces", "/api/v1/namespaces/istio-system/configmaps",
                      "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
                      "/apis/install.istio.io/v1alpha1/istiooperators"]


def test_lists_are_read_across_pages_and_an_expired_token_restarts_the_list(apiserver, run):
    services = [{"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": f"svc-{i:04d}", "namespace": f"team-{i % 7}"},
                 "spec": {"selector": {"app": f"svc-{i:04d}"}, "ports": [{"name": "web", "port": 80}]}}
                for i in range(1234)]
    apiserver.serve(services)
    kubeconfig = str(apiserver.kubeconfig())
    proc = run("check", "--kube", "--kubeconfig", kubeconfig, "--select", "ML101", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert len(json.loads(proc.stdout)["findings"]) == 1234
    pages = [r["query"] for r in apiserver.requests() if r["path"] == "/api/v1/services"]
    assert len(pages) == 3 and "continue" not in pages[0] and all("continue" in q for q in pages[1:])

    apiserver.serve(services, expire_continue=["services"])
    proc = run("check", "--kube", "--kubeconfig", kubeconfig, "--select", "ML101", "--format", "json")
    assert len(json.loads(proc.stdout)["findings"]) == 1234, proc.stderr
    pages = [r["query"] for r in apiserver.requests() if r["path"] == "/api/v1/services"]
    # the second page's token expired (410): the list is read again in one page
    assert len(pages) == 3 and "limit" not in pages[2] and "continue" not in pages[2]


def test_a_forbidden_kind_is_one_note_naming_the_rules_that_lose_facts(apiserver, cluster_objects, run):
    apiserver.serve(cluster_objects, forbidden=[{"resource": "pods"}])
    proc = run("check", "--kube", "--kubeconfig", str(apiserver.kubeconfig()), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "not allowed" in line]
    assert len(notes) == 1
    assert notes[0].startswith("meshlint: note: context emulator: not allowed to list Pod (pods is forbidden: User "
                               '"system:serviceaccount:meshlint:meshlint" cannot list resource "pods" in API group "" '
                               "at the cluster scope): ML101, ")
    assert "ML401" in notes[0] and "ML410" in notes[0] and notes[0].endswith(
        "lose the facts they read there; deploy/rbac.yaml grants what meshlint reads")
    found = findings(proc)
    assert ("ML101", "sniffed", "Service shop/frontend") in found  # the rest is still read
    assert not [key for key in found if key[0] == "ML410"]  # no pods: no proxy image to compare

    # with --namespace, a kind forbidden cluster-wide is read in that namespace
    apiserver.serve(cluster_objects, forbidden=[{"resource": "pods", "namespaces": ["shop"]}])
    proc = run("check", "--kube", "--kubeconfig", str(apiserver.kubeconfig()), "-n", "shop", "--format", "json")
    assert "context emulator: Pod read in namespace shop only (not allowed to list them in every namespace)" in \
        proc.stderr
    assert ("ML410", "outdated-proxy", "Deployment shop/cart") in findings(proc)


def test_a_crd_not_installed_is_one_note(apiserver, cluster_objects, run):
    apiserver.serve(cluster_objects, not_installed=["gateway.networking.k8s.io", "argoproj.io"])
    proc = run("check", "--kube", "--kubeconfig", str(apiserver.kubeconfig()), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "does not serve" in line]
    assert notes == ["meshlint: note: context emulator: the cluster does not serve Gateway, GRPCRoute, HTTPRoute, "
                     "ReferenceGrant, Rollout, TCPRoute, TLSRoute, UDPRoute (not installed): ML101, ML102, ML103, "
                     "ML107, ML110, ML111, ML113, ML114, ML115, ML116, ML117, ML201, ML202, ML203, ML204, ML205, "
                     "ML207, ML301, ML302, ML303, ML304, ML401, ML402, ML405, ML406, ML409, ML410 see none"]
    assert ("ML401", "stuck-job", "Job shop/migrate-2024-06") in findings(proc)


def test_an_unreachable_cluster_exits_2_with_one_line_quickly(apiserver, closed_port, run):
    kubeconfig = apiserver.kubeconfig("down", server=f"http://127.0.0.1:{closed_port}")
    started = time.monotonic()
    proc = run("check", "--kube", "--kubeconfig", str(kubeconfig))
    assert time.monotonic() - started < 20
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"meshlint: error: cannot reach the cluster of context emulator at "
                           f"http://127.0.0.1:{closed_port}: connection refused\n")


def test_a_cluster_that_does_not_answer_exits_2_within_the_timeout(apiserver, run):
    """A server that takes the connection and never answers (a hung API server, a proxy that
    swallows requests): one line and exit 2 once the discovery timeout is over, not a hang."""
    import socket

    from meshlint.load.kube import DISCOVERY_TIMEOUT

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nothing ever reads or answers
        port = silent.getsockname()[1]
        kubeconfig = apiserver.kubeconfig("silent", server=f"http://127.0.0.1:{port}")
        started = time.monotonic()
        proc = run("check", "--kube", "--kubeconfig", str(kubeconfig))
        took = time.monotonic() - started
    assert DISCOVERY_TIMEOUT <= took < DISCOVERY_TIMEOUT + 15
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"meshlint: error: cannot reach the cluster of context emulator at "
                           f"http://127.0.0.1:{port}: no answer within {DISCOVERY_TIMEOUT:g} s\n")


def test_a_list_the_server_fails_ends_the_run_with_one_line(apiserver, cluster_objects, run):
    """A 500 is not a kind to report around: its facts would be silently missing. The run
    exits 2 naming the request and the server's message, and the lists not yet sent are not
    sent (`Executor.map` cancels them)."""
    apiserver.serve(cluster_objects, failing=["deployments"])
    proc = run("check", "--kube", "--kubeconfig", str(apiserver.kubeconfig()))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"meshlint: error: the cluster of context emulator at {apiserver.url} answered 500 to "
                           "GET /apis/apps/v1/deployments: Internal error occurred: etcdserver: request timed out\n")
    lists = [r["path"] for r in apiserver.requests() if "limit" in r["query"]]
    assert "/apis/apps/v1/deployments" in lists and len(lists) < 30


def test_refused_credentials_exit_2(served, run):
    proc = run("check", "--kube", "--kubeconfig", str(served.kubeconfig("bad-token", token="expired")))
    assert proc.returncode == 2
    assert proc.stderr == (f"meshlint: error: the cluster of context emulator at {served.url} refused the "
                           "credentials (401 Unauthorized)\n")


def test_kubeconfig_is_found_and_merged_as_kubectl_does(served, run, tmp_path):
    first = served.kubeconfig("first", context="emulator")
    second = served.kubeconfig("second", context="elsewhere", server="http://127.0.0.1:9", current="elsewhere")
    env = {"KUBECONFIG": os.pathsep.join([str(tmp_path / "missing"), str(first), str(second)])}
    # the first current-context wins; a file that does not exist is skipped
    proc = run_with_env(run, env, "check", "--kube", "--select", "ML401")
    assert "(cluster emulator)" in proc.stdout, proc.stderr
    # a context of the second file is found; it points nowhere here
    proc = run_with_env(run, env, "check", "--kube", "--context", "elsewhere")
    assert proc.returncode == 2 and "cannot reach the cluster of context elsewhere" in proc.stderr
    proc = run_with_env(run, env, "check", "--kube", "--context", "prod")
    assert proc.stderr == ("meshlint: error: context prod is not in kubeconfig the 2 files of KUBECONFIG "
                           "(contexts: elsewhere, emulator)\n")
    proc = run("check", "--kube", "--kubeconfig", str(tmp_path / "nope"))
    assert proc.stderr == f"meshlint: error: --kubeconfig {tmp_path / 'nope'}: no such file\n"
    proc = run("check", "--context", "emulator", str(tmp_path))
    assert (proc.returncode, proc.stderr) == (2, "meshlint: error: --context needs --kube\n")


def test_kubeconfig_files_are_merged_entry_by_entry_as_kubectl_does(served, run, tmp_path, closed_port):
    """A context may name the cluster and user of another file of KUBECONFIG; for a name that
    several files define, the first file wins; an empty file is passed over."""
    import yaml

    whole = yaml.safe_load(served.kubeconfig().read_text())
    credentials = tmp_path / "credentials"  # the cluster and the user, no context
    credentials.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": whole["clusters"],
                                           "users": whole["users"]}))
    empty = tmp_path / "empty"
    empty.write_text("")
    down = [{"name": c["name"], "cluster": {"server": f"http://127.0.0.1:{closed_port}"}} for c in whole["clusters"]]
    contexts = tmp_path / "contexts"  # the context, and the same cluster name pointing at nothing
    contexts.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "clusters": down, "current-context": "work",
        "contexts": [{"name": "work", "context": {**whole["contexts"][0]["context"], "namespace": "shop"}}]}))
    env = {"KUBECONFIG": os.pathsep.join(map(str, [credentials, empty, contexts]))}
    proc = run_with_env(run, env, "check", "--kube", "--select", "ML401")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("Job shop/migrate-2024-06 (cluster work): ML401 [error]")
    # the other way round, the cluster of the contexts' file comes first, and is down
    env = {"KUBECONFIG": os.pathsep.join(map(str, [contexts, credentials]))}
    proc = run_with_env(run, env, "check", "--kube", "--select", "ML401")
    assert (proc.returncode, proc.stderr) == (2, f"meshlint: error: cannot reach the cluster of context work at "
                                                 f"http://127.0.0.1:{closed_port}: connection refused\n")
    proc = run("check", "--kube", "--kubeconfig", str(empty))
    assert (proc.returncode, proc.stderr) == (2, f"meshlint: error: --kubeconfig {empty}: the file is empty\n")


def test_namespace_scopes_the_report_not_what_is_read(served, run):
    """-n NS reports on NS only, from an analysis of the whole cluster (the same lists are
    read); -A is the default."""
    kubeconfig = str(served.kubeconfig())
    everything = run("check", "--kube", "--kubeconfig", kubeconfig, "--format", "json")
    read_for_all = sorted((r["path"], sorted(r["query"].items())) for r in served.requests())
    shop = run("check", "--kube", "--kubeconfig", kubeconfig, "-n", "shop", "--format", "json")
    read_for_shop = sorted((r["path"], sorted(r["query"].items())) for r in served.requests()[len(read_for_all):])
    assert read_for_shop == read_for_all
    in_shop = {key for key in findings(everything)
               if key[2].split(" ", 1)[1].startswith("shop/") or key[2] == "Namespace shop"}
    assert in_shop and in_shop != set(findings(everything))
    assert set(findings(shop)) == in_shop
    every = run("check", "--kube", "--kubeconfig", kubeconfig, "-A", "--format", "json")
    assert findings(every) == findings(everything)


def run_with_env(run, env, *args):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return run(*args)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# --- files over the cluster -------------------------------------------------------------------

ROUTE_TO_LIVE_GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: checkout, namespace: shop}
spec:
  hosts: [checkout.example.com]
  gateways: [istio-system/public]
  http:
  - route:
    - destination: {host: cart}
"""

FRONTEND_FIXED = """\
apiVersion: v1
kind: Service
metadata: {name: frontend, labels: {app: frontend}}
spec:
  selector: {app: frontend}
  ports:
  - {name: http-web, port: 80, protocol: TCP, targetPort: 8080}
"""

CART_RESTARTED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop, labels: {app: cart}}
spec:
  replicas: 2
  selector: {matchLabels: {app: cart}}
  template:
    metadata:
      labels: {app: cart, version: v3}
      annotations:
        sidecar.istio.io/proxyCPULimit: "1"
    spec:
      containers:
      - name: cart
        image: ghcr.io/example/cart:3.2.0
"""


def test_files_overlay_the_live_objects_of_the_same_kind_namespace_and_name(served, run, files):
    kubeconfig = str(served.kubeconfig(namespace="shop"))
    before = findings(run("check", "--kube", "--kubeconfig", kubeconfig, "--format", "json"))
    route = files("route.yaml", ROUTE_TO_LIVE_GATEWAY)
    fixed = files("frontend.yaml", FRONTEND_FIXED)
    cart = files("cart.yaml", CART_RESTARTED)
    proc = run("check", "--kube", "--kubeconfig", kubeconfig, str(route), str(fixed), str(cart), "--format", "json")
    after = findings(proc)
    # a VirtualService bound to a Gateway that only the cluster holds: bound, no ML102/ML103
    assert not [key for key in after if key[2] == "VirtualService shop/checkout"]
    # the file fixes the live Service (its namespace is the context's, as kubectl apply would put it)
    assert ("ML101", "sniffed", "Service shop/frontend") in before
    assert not [key for key in after if key[2] == "Service shop/frontend"]
    # the file's Deployment is what would be applied: the running pods, created from the old
    # template, no longer speak for it; its own finding keeps its file and line
    assert not [key for key in after if key[2] == "Deployment shop/cart" and key[0] in ("ML402", "ML410")
                and key[1] != "partial-annotations"]
    partial = after[("ML402", "partial-annotations", "Deployment shop/cart")]
    assert (partial["file"], partial["line"], partial["column"]) == (str(cart), 11, 9)
    # the live findings stay live
    assert after[("ML401", "stuck-job", "Job shop/migrate-2024-06")]["file"] is None
    summary = json.loads(proc.stdout)["summary"]
    assert (summary["files"], summary["resources"]) == (3, 41)  # two replaced, one added
    text = run("check", "--kube", "--kubeconfig", kubeconfig, str(cart), "--select", "ML402")
    # [*]: `meshlint fix` adds the missing request to the file
    assert text.stdout.splitlines()[0].startswith(f"{cart}:11:9: ML402 [*] [warning] Deployment shop/cart: ")
    assert text.stdout.splitlines()[-1].endswith("in cluster emulator and 1 file, 30 resources")


def test_graph_and_simulate_read_the_cluster(served, run):
    kubeconfig = str(served.kubeconfig())
    proc = run("graph", "--kube", "--kubeconfig", kubeconfig, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    graph = json.loads(proc.stdout)
    assert {(e["from"], e["to"]) for e in graph["edges"]} == {
        ("frontend.shop.svc.cluster.local", "cart.shop.svc.cluster.local")}, graph
    assert {r["path"].rsplit("/", 1)[-1] for r in served.requests() if "limit" in r["query"]} >= {
        "services", "deployments", "virtualservices", "destinationrules"}
    proc = run("simulate", "--kube", "--kubeconfig", kubeconfig, "--fail", "cart.shop", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    storm = json.loads(proc.stdout)  # into frontend, the caller of the failing cart
    rows = {s["host"]: s for s in storm["services"]}
    assert set(rows) == {"frontend.shop.svc.cluster.local", "cart.shop.svc.cluster.local"}
    assert storm["entry_rps"] == rows["frontend.shop.svc.cluster.local"]["rps"] == 100
    assert {r["method"] for r in served.requests()} == {"GET"}


CART_RETRIES = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart]
  http:
  - route:
    - destination: {host: cart}
    retries: {attempts: 4, retryOn: 5xx}
"""


def test_graph_and_simulate_take_files_over_the_cluster(served, run, files):
    """What-if for the call graph: a VirtualService of a file sets the tries of the live
    frontend -> cart hop, and the storm follows."""
    kubeconfig = str(served.kubeconfig())
    route = str(files("cart-vs.yaml", CART_RETRIES))
    before = json.loads(run("graph", "--kube", "--kubeconfig", kubeconfig, "--format", "json").stdout)
    after = json.loads(run("graph", "--kube", "--kubeconfig", kubeconfig, route, "--format", "json").stdout)
    hop = ("frontend.shop.svc.cluster.local", "cart.shop.svc.cluster.local")
    tries = {when: {(e["from"], e["to"]): e["tries"] for e in graph["edges"]}[hop]
             for when, graph in (("before", before), ("after", after))}
    assert tries["after"] == 5 and tries["before"] != 5, tries
    storm = json.loads(run("simulate", "--kube", "--kubeconfig", kubeconfig, route, "--fail", "cart.shop",
                           "--format", "json").stdout)
    rows = {s["host"]: s for s in storm["services"]}
    assert rows["cart.shop.svc.cluster.local"]["amplification"] == pytest.approx(5)


def test_without_the_client_kube_says_what_to_install(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['kubernetes'] = None; from meshlint.cli import main; "
            "sys.exit(main(['check', '--kube']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert (proc.returncode, proc.stderr) == (
        2, "meshlint: error: --kube needs the official Kubernetes client: pip install kubernetes\n")


def test_a_check_without_kube_imports_no_client(tmp_path, files):
    """`meshlint check one.yaml` starts fast: the client is imported only with --kube."""
    import subprocess
    import sys

    path = files("svc.yaml", FRONTEND_FIXED)
    code = ("import sys; from meshlint.cli import main; main(['check', sys.argv[1]]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'urllib3') "
            "or m == 'meshlint.load.kube'))")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.stdout.splitlines()[-1] == "[]", proc.stderr


def test_the_source_sends_get_and_nothing_else():
    """What one run sends is recorded above; this is the rest of the proof: in all of meshlint,
    the client is imported by load/kube.py only, which builds requests in one place, `_get`,
    always as GET, and never uses the client's API classes (whose methods also write)."""
    import ast

    src = ROOT / "src" / "meshlint"
    importers = set()
    built: list[tuple[str, str]] = []
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {id(n): f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) for n in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kubernetes" or \
                    isinstance(node, ast.Import) and any(a.name.split(".")[0] == "kubernetes" for a in node.names):
                importers.add(path.relative_to(src).as_posix())
            if isinstance(node, ast.Attribute) and (node.attr.endswith("Api") or node.attr in (
                    "call_api", "param_serialize", "request", "rest_client")):
                built.append((functions.get(id(node), ""), node.attr))
    assert importers == {"load/kube.py"}
    assert sorted(built) == [("_get", "call_api"), ("_get", "param_serialize")]
    call = next(c for c in ast.walk(ast.parse((src / "load" / "kube.py").read_text(encoding="utf-8")))
                if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "param_serialize")
    assert isinstance(call.args[0], ast.Constant) and call.args[0].value == "GET"


@pytest.mark.parametrize("ci", ["", "true"])
def test_without_the_client_the_live_tests_skip_with_the_reason_and_fail_under_ci(ci):
    """`make test` installs the client; a machine without it skips the live tests, saying
    why, unless it is the CI, where a skip would hide that nothing was tested."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['kubernetes'] = None; import pytest; "
            "sys.exit(pytest.main(sys.argv[1:]))")
    test = f"{Path(__file__).parent / 'test_rbac.py'}::test_the_role_grants_exactly_what_a_run_lists"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CI": ci}
    proc = subprocess.run([sys.executable, "-c", code, test, "-q", "-rs", "-p", "no:cacheprovider"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    if ci:
        assert proc.returncode == 1, proc.stdout
        assert "Failed: the kubernetes client is not installed (make test installs it)" in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout
        assert "1 skipped" in proc.stdout
        assert "the kubernetes client is not installed: pip install -e '.[kube]'" in proc.stdout
