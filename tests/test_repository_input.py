"""`meshlint check .` on real repositories: manifests beside Helm charts, kustomize bases and
overlays, CI and build files, dashboards, Ansible roles (SPEC §2).

Each tree under tests/trees/ is a repository as users have them. Its manifests carry
`# expect:` markers (as the rule fixtures do) on the lines findings must point to; every other
file is not a manifest and must give no finding. `rendered/helm-template-shop.yaml` is what
`helm template` prints for the chart of `shop-platform` (with `--set` values that add
findings): a stream whose documents keep their `# Source:` template as their file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TREES = Path(__file__).resolve().parent / "trees"

# Per tree: the files that are not Kubernetes manifests (all must be silent), and how many
# documents are skipped (those files' documents, a template or a patch counting its own).
NOT_MANIFESTS = {
    "shop-platform": [
        ".gitlab-ci.yml", "cloudbuild.yaml", "skaffold.yaml", "docker-compose.yml", "package.json",
        "dashboards/istio-mesh.json", "ansible/playbook.yml", "ansible/roles/mesh/tasks/main.yml",
        "ansible/roles/mesh/templates/namespace.yaml", "charts/shop/Chart.yaml", "charts/shop/values.yaml",
        "charts/shop/templates/deployment.yaml", "charts/shop/templates/service.yaml",
        "charts/shop/templates/virtualservice.yaml", "charts/shop/templates/tests/test-connection.yaml",
    ],
    "kustomize-mesh": [
        "base/kustomization.yaml", "overlays/prod/kustomization.yaml", "overlays/prod/replicas.yaml",
        "overlays/prod/retries.yaml", "overlays/prod/sidecar-resources.yaml",
        "components/strict-mtls/kustomization.yaml", "components/strict-mtls/probes.yaml", "skaffold.yaml",
        "kind-cluster.yaml",
    ],
}
# Manifests that hold `{{ }}` inside strings -> their objects: analysed like any other.
WITH_PLACEHOLDERS = {"shop-platform": {"monitoring/prometheus-rules.yaml": 2, "monitoring/alertmanager.yaml": 2,
                                       "argo/canary-check.yaml": 1}}


def _relative(file: str) -> str:
    return file[2:] if file.startswith("./") else file


@pytest.fixture(scope="module")
def checked(run):
    """Tree name -> (JSON report, stderr) of `meshlint check . --verbose` run in the tree."""
    out = {}
    for tree in NOT_MANIFESTS:
        proc = run("check", ".", "--format", "json", "--verbose", "--fail-on", "never", cwd=TREES / tree)
        assert proc.returncode == 0, proc.stderr
        out[tree] = (json.loads(proc.stdout), proc.stderr)
    return out


def _manifests(tree: str) -> list[Path]:
    root = TREES / tree
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")
                  and str(p.relative_to(root)) not in NOT_MANIFESTS[tree] and ".github" not in p.parts)


@pytest.mark.parametrize("tree", sorted(NOT_MANIFESTS))
def test_every_finding_of_the_real_manifests_is_still_there(tree, checked, expect_markers):
    report, _ = checked[tree]
    found = {(_relative(f["file"]), f["line"], f["code"]): f["message"] for f in report["findings"]}
    expected = [(str(path.relative_to(TREES / tree)), e) for path in _manifests(tree) for e in expect_markers(path)]
    assert expected
    for file, e in expected:
        message = found.get((file, e.line, e.code))
        assert message is not None, f"{file}:{e.line}: {e.code} is missing; found {sorted(found)}"
        assert e.text is None or e.text in message, (file, e.line, message)


@pytest.mark.parametrize("tree", sorted(NOT_MANIFESTS))
def test_nothing_that_is_not_a_manifest_gives_a_finding(tree, checked):
    report, _ = checked[tree]
    files = {_relative(f["file"]) for f in report["findings"]}
    assert not files & set(NOT_MANIFESTS[tree])
    assert not [f for f in report["findings"] if f["code"] in ("ML001", "ML002")]


@pytest.mark.parametrize("tree", sorted(NOT_MANIFESTS))
def test_skipped_documents_are_counted_and_listed_with_verbose(tree, checked):
    report, stderr = checked[tree]
    listed = [line for line in stderr.splitlines() if line.startswith("meshlint: note: skipped ./")]
    listed_files = {line.split("skipped ./", 1)[1].split(":", 1)[0] for line in listed}
    assert listed_files == set(NOT_MANIFESTS[tree])
    assert report["summary"]["skipped"] == len(listed)
    manifests = sum(len([d for d in p.read_text().split("\n---") if "kind:" in d]) for p in _manifests(tree))
    assert report["summary"]["resources"] == manifests


@pytest.mark.parametrize(("file", "objects"), sorted(WITH_PLACEHOLDERS["shop-platform"].items()))
def test_manifests_with_placeholders_in_their_strings_are_analysed(run, file, objects):
    proc = run("check", file, "--format", "json", "--fail-on", "never", cwd=TREES / "shop-platform")
    summary = json.loads(proc.stdout)["summary"]
    assert (summary["resources"], summary["skipped"], proc.stderr) == (objects, 0, "")


def test_the_summary_line_counts_what_was_skipped_and_stays_quiet_without_verbose(run):
    proc = run("check", ".", "--fail-on", "never", cwd=TREES / "kustomize-mesh")
    assert proc.stdout.splitlines()[-1] == "4 findings (0 error, 3 warning, 1 info) in 15 files, 8 resources, " \
                                           "9 documents skipped"
    # one note per kustomization whose patches were skipped, and nothing else
    assert proc.stderr == ("meshlint: note: ./overlays/prod: 4 kustomize patch files skipped: "
                           "check `kustomize build ./overlays/prod` instead\n")


def test_each_template_gets_one_note_naming_its_render_command(checked):
    _, stderr = checked["shop-platform"]
    notes = [line for line in stderr.splitlines() if "not a manifest" in line and " skipped " not in line]
    chart = "check `helm template charts/shop` instead"
    assert notes == [
        "meshlint: note: ./ansible/roles/mesh/templates/namespace.yaml: holds template placeholders, not a "
        "manifest: render it first (Jinja, Ansible) and check the result",
        f"meshlint: note: ./charts/shop/templates/deployment.yaml: Helm template, not a manifest: {chart}",
        f"meshlint: note: ./charts/shop/templates/service.yaml: Helm template, not a manifest: {chart}",
        f"meshlint: note: ./charts/shop/templates/virtualservice.yaml: Helm template, not a manifest: {chart}",
        f"meshlint: note: ./charts/shop/templates/tests/test-connection.yaml: Helm template, not a manifest: {chart}",
    ]


@pytest.mark.parametrize("path", [".github/workflows/ci.yml", "charts/shop/values.yaml", "package.json"])
def test_a_non_manifest_named_on_the_command_line_is_skipped_too(run, path):
    """As pre-commit passes the changed files one by one."""
    proc = run("check", path, "--verbose", cwd=TREES / "shop-platform")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.endswith("0 findings (0 error, 0 warning, 0 info) in 1 file, 0 resources, "
                                "1 document skipped\n")
    assert f"meshlint: note: skipped {path}:1: " in proc.stderr


def test_a_kustomize_patch_named_alone_is_recognised_by_its_kustomization(run):
    proc = run("check", "overlays/prod/sidecar-resources.yaml", cwd=TREES / "kustomize-mesh")
    assert proc.returncode == 0 and "ML402" not in proc.stdout
    assert "check `kustomize build overlays/prod` instead" in proc.stderr


# --- a rendered Helm stream on stdin ---------------------------------------------------------

RENDERED = TREES / "rendered" / "helm-template-shop.yaml"
# (file, line inside the rendered document, counted from the line after `# Source:`, column,
# code); other rules may find more, but each finding names its template
RENDERED_FINDINGS = [("shop/templates/service.yaml", 11, 7, "ML101"),
                     ("shop/templates/virtualservice.yaml", 12, 7, "ML303"),
                     ("shop/templates/virtualservice.yaml", 13, 9, "ML301")]
# the same findings at the lines of the stream itself
STREAM_LINES = [13, 64, 65]


def test_a_rendered_helm_stream_keeps_the_template_of_each_document(run):
    proc = run("check", "-", "--format", "json", input=RENDERED.read_text())
    report = json.loads(proc.stdout)
    found = [(f["file"], f["line"], f["column"], f["code"]) for f in report["findings"]]
    assert set(RENDERED_FINDINGS) <= set(found) and all(file.startswith("shop/templates/") for file, *_ in found)
    assert report["summary"]["files"] == 1 and report["summary"]["resources"] == 4
    text = run("check", "-", input=RENDERED.read_text()).stdout
    assert "\nshop/templates/service.yaml:11:7: ML101 [warning] Service default/shop: port 7070" in "\n" + text


def test_github_annotations_of_a_rendered_stream_point_at_the_templates(run):
    proc = run("check", "-", "--format", "github", input=RENDERED.read_text())
    # `::warning file=F,line=N,col=C,title=...::message` -> "file=F,line=N,col=C"
    where = {line.split("::")[1].split(",title=")[0].split(" ")[1] for line in proc.stdout.splitlines()}
    assert {f"file={file},line={line},col={column}" for file, line, column, _ in RENDERED_FINDINGS} <= where
    assert all(w.startswith("file=shop/templates/") for w in where)


def test_stdin_filename_names_stdin_and_keeps_its_own_lines(run):
    proc = run("check", "-", "--stdin-filename", "out/rendered.yaml", "--format", "json", input=RENDERED.read_text())
    report = json.loads(proc.stdout)
    found = {(f["file"], f["line"], f["column"], f["code"]) for f in report["findings"]}
    assert {("out/rendered.yaml", line, column, code)
            for line, (_, _, column, code) in zip(STREAM_LINES, RENDERED_FINDINGS)} <= found
    assert {file for file, *_ in found} == {"out/rendered.yaml"}


def test_stdin_filename_names_stdin_in_graph_and_simulate_too(run):
    broken = "apiVersion: v1\nkind: Service\nmetadata: {namespace: shop}\n"
    for command in (["graph"], ["simulate", "--fail", "cart.shop"]):
        proc = run(*command, "-", "--stdin-filename", "deploy/svc.yaml", input=broken)
        assert "deploy/svc.yaml:1: ML002 Service has no metadata.name" in proc.stderr, proc.stderr


def test_a_template_on_stdin_is_skipped_with_its_note(run):
    template = (TREES / "shop-platform" / "charts" / "shop" / "templates" / "service.yaml").read_text()
    proc = run("check", "-", "--stdin-filename", "charts/shop/templates/service.yaml", input=template,
               cwd=TREES / "shop-platform")
    assert proc.returncode == 0 and "ML001" not in proc.stdout
    assert "charts/shop/templates/service.yaml: Helm template, not a manifest: check " \
           "`helm template charts/shop` instead" in proc.stderr
