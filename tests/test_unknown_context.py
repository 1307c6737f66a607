"""Unknown is not "no" (SPEC §2): on real samples that hold no Namespace objects, meshlint
assumes what a careful engineer would, says so, and never reports an error on an assumption.

Inputs are taken as a user would run them: Istio's bookinfo sample and Google's online-boutique
from `../shared/corpus`, and this repository's `examples/`, whole and one file at a time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
MESHED_DEFAULT = ("assuming namespace default is meshed: its Namespace is not in the input and "
                  "VirtualService default/frontend-ingress targets it; set injected-namespaces or "
                  "uninjected-namespaces")


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail("../shared/corpus is missing: CI must run with shared/ beside the clone")
        pytest.skip("../shared/corpus is not beside the project")
    return CORPUS


def findings(run, *args: str, cwd: Path | None = None) -> list[dict]:
    proc = run("check", *args, "--format", "json", "--fail-on", "never", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["findings"]


def test_bookinfo_gets_no_mtls_error_and_no_advice_to_disable_mtls(run, corpus):
    """bookinfo's DestinationRules (ISTIO_MUTUAL) target namespace default, whose Namespace is
    not in the sample: it is assumed meshed, as bookinfo's docs label it for injection."""
    found = findings(run, str(corpus / "istio-samples/samples/bookinfo"))
    assert found, "the sample has real findings (weighted canaries, EnvoyFilters)"
    assert not [f for f in found if f["code"] == "ML201"]
    assert not [f for f in found if f["severity"] == "error"]
    assert not [f for f in found if "DISABLE" in f["fix"] or "DISABLE" in f["message"]]


def test_online_boutique_amplification_appears_with_the_assumption_it_rests_on(run, corpus):
    boutique = str(corpus / "online-boutique")
    (amplification,) = [f for f in findings(run, boutique) if f["code"] == "ML302"]
    assert amplification["variant"] == "amplification-assumed" and amplification["severity"] == "warning"
    assert amplification["message"].startswith(
        "Deployment/default/loadgenerator → frontend → checkoutservice → cartservice → redis-cart: up to 27x")
    assert amplification["message"].endswith(f"({MESHED_DEFAULT})")


def test_configuration_settles_what_was_assumed(run, corpus, tmp_path):
    boutique = str(corpus / "online-boutique")
    (tmp_path / "on.yaml").write_text("injected-namespaces: [default]\n")
    (known,) = [f for f in findings(run, boutique, "--config", str(tmp_path / "on.yaml")) if f["code"] == "ML302"]
    assert known["variant"] == "amplification" and "assuming" not in known["message"]
    (tmp_path / "off.yaml").write_text("uninjected-namespaces: [default]\n")
    assert not [f for f in findings(run, boutique, "--config", str(tmp_path / "off.yaml")) if f["code"] == "ML302"]


def test_the_manifests_alone_assume_nothing_is_meshed(run, corpus):
    """Without istio-manifests/, nothing in the input targets namespace default: it is assumed
    outside the mesh, so no hop retries and nothing amplifies."""
    assert not findings(run, str(corpus / "online-boutique/kubernetes-manifests"))


def test_one_file_of_examples_gives_no_error_the_whole_tree_does_not(run, root):
    def errors(*paths: str) -> set[tuple[str, int, str, str]]:
        return {(f["file"], f["line"], f["code"], f["message"]) for f in findings(run, *paths, cwd=root)
                if f["severity"] == "error"}

    whole = errors("examples")
    assert whole, "examples/ has real errors"
    for path in sorted((root / "examples").rglob("*.yaml")):
        alone = errors(str(path.relative_to(root)))
        assert alone <= whole, (path, alone - whole)


def test_a_gateway_of_a_namespace_the_input_does_not_hold_is_not_in_the_input(run, root):
    """examples/shop/ingress.yaml alone: istio-system is not in the input, so its Gateway is
    "not in the input" (a warning), and the help never repeats what the file already says."""
    (first, *_) = [f for f in findings(run, "examples/shop/ingress.yaml", cwd=root) if f["code"] == "ML102"]
    assert first["severity"] == "warning" and first["variant"] == "gateway-not-in-input"
    assert "which is not in the input" in first["message"]
    assert "Reference the Gateway as istio-system/public-gateway" not in first["fix"]


def test_the_changed_files_hook_gives_the_whole_repository_answer_for_each_file(run, root):
    """`.pre-commit-hooks.yaml`'s `meshlint` hook: `check --context-dir . FILE...` reads the
    repository for context and reports on the changed files only, exactly what a run on the
    whole repository reports on them (issue #12, item 6)."""
    import yaml

    (hook,) = [h for h in yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text()) if h["id"] == "meshlint"]
    entry = hook["entry"].split()
    assert entry[:2] == ["meshlint", "check"] and hook.get("pass_filenames", True)

    def keyed(found: list[dict]) -> set[tuple]:  # ("./a.yaml" from the walk of ".", "a.yaml" as given)
        return {(os.path.normpath(f["file"]), f["line"], f["code"], f["severity"], f["message"]) for f in found}

    examples = root / "examples"
    whole = keyed(findings(run, ".", cwd=examples))
    changed = ["shop/ingress.yaml", "payments/payment.yaml"]
    hooked = keyed(findings(run, *entry[2:], *changed, cwd=examples))
    assert hooked == {f for f in whole if f[0] in changed}
    assert {f[0] for f in hooked} == set(changed)


def test_verbose_lists_what_was_assumed(run, corpus):
    proc = run("check", str(corpus / "online-boutique"), "--verbose", "--fail-on", "never")
    assert f"meshlint: note: {MESHED_DEFAULT}" in proc.stderr
    quiet = run("check", str(corpus / "online-boutique"), "--fail-on", "never")
    assert "assuming namespace" not in quiet.stderr  # the findings that rest on it say so themselves
