"""The loader's seams: what a problem is (its kind, not a rule's code)."""

from __future__ import annotations

import pytest

from meshlint import rules
from meshlint.load import ProblemKind


def test_every_kind_of_problem_is_reported_by_the_rule_that_declares_it():
    assert set(rules.FOR_PROBLEM) == set(ProblemKind)
    for kind, rule in rules.FOR_PROBLEM.items():
        assert not kind.value.startswith("ML"), kind  # the loader knows no rule codes
        assert rules.BY_CODE[rule.code] is rule


# --- objects.py: parsed objects + origin -> resources or problems, no text needed -------------

def _service(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"}, "spec": spec}


def test_objects_from_a_live_cluster_need_no_text():
    """A live source (a kube context, no file) hands parsed objects to the same code the files
    use: an API list response's items get the List's kind and apiVersion, invalid objects are
    problems, and findings on a live resource have no file and line."""
    from meshlint.config import Config
    from meshlint.engine import check_loaded
    from meshlint.load import Loaded, ProblemKind
    from meshlint.load.objects import add_value
    from meshlint.resource import LiveOrigin

    live = LiveOrigin("kind-dev")
    cart = _service("cart", selector={"app": "cart"}, ports=[{"port": 8080}])
    del cart["apiVersion"], cart["kind"]  # as the API lists them: the List names the kind
    response = {"apiVersion": "v1", "kind": "ServiceList", "items": [cart, "junk", _service("bad", ports="80")]}
    loaded = Loaded()
    add_value(loaded, response, live, "default")

    assert loaded.count == 3
    (resource,) = loaded.resources
    assert (resource.ref.kind, resource.ref.namespace, resource.name) == ("Service", "shop", "cart")
    assert resource.origin is live and resource.document is None and resource.prefix == () and resource.file == ""
    junk, bad = loaded.problems
    assert (junk.kind, junk.origin, junk.document, junk.path) == (ProblemKind.INVALID_OBJECT, live, None, ())
    assert junk.message == 'list item is the string "junk", not a Kubernetes object'
    assert (bad.kind, bad.path, bad.resource.name) == (ProblemKind.INVALID_OBJECT, ("spec", "ports"), "bad")

    findings = [f for f in check_loaded(loaded, Config()).findings if f.resource is resource]
    assert findings and all((f.file, f.line) == ("", 0) for f in findings)


def test_objects_of_a_file_list_without_item_documents_are_at_items_i():
    """A List whose layout the slicing does not follow (a flow sequence, compact JSON): each
    item is `("items", i)` inside the List's own document, and so are its problems' paths."""
    from meshlint.load import Loaded
    from meshlint.load.objects import add_value
    from meshlint.resource import Document, FileOrigin, Source

    document = Document(Source("dump.yaml", "kind: List\nitems: [...]\n"), 0, 24, 1, 0)
    loaded = Loaded()
    add_value(loaded, {"apiVersion": "v1", "kind": "List", "items": [_service("a"), 7]}, FileOrigin(document), "x")
    (resource,) = loaded.resources
    assert resource.origin == FileOrigin(document, ("items", 0)) and resource.document is document
    (problem,) = loaded.problems
    assert (problem.origin, problem.path) == (FileOrigin(document, ("items", 1)), ("items", 1))


# --- documents that are not Kubernetes objects are skipped, not invalid ------------------------

NOT_OBJECTS = {
    "ansible tasks": ([{"name": "install", "command": "istioctl install -y"}], "the document is a list"),
    "a scalar": ("just text", 'the document is the string "just text"'),
    "chart values": ({"replicaCount": 2, "image": {"tag": "1.0"}}, "no apiVersion or kind"),
    "docker-compose": ({"version": "3.8", "services": {"web": {"image": "nginx"}}}, "no apiVersion or kind"),
    "Chart.yaml": ({"apiVersion": "v2", "name": "cart", "version": "1.4.0"}, "Helm chart metadata"),
    "Helm 2 Chart.yaml": ({"apiVersion": "v1", "name": "cart", "version": "0.1.0"}, "Helm chart metadata"),
    "kustomization": ({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                       "resources": ["a.yaml"]}, "a kustomize Kustomization"),
    "kustomize component": ({"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
                             "patches": []}, "a kustomize Component"),
    "skaffold": ({"apiVersion": "skaffold/v4beta6", "kind": "Config", "build": {}}, "a skaffold configuration"),
    "kind cluster": ({"apiVersion": "kind.x-k8s.io/v1alpha4", "kind": "Cluster", "nodes": []},
                     "a kind cluster configuration"),
    "kubeconfig": ({"apiVersion": "v1", "kind": "Config", "clusters": []}, "a kubeconfig"),
    "kubeadm": ({"apiVersion": "kubeadm.k8s.io/v1beta3", "kind": "ClusterConfiguration"},
                "a kubeadm configuration"),
}


@pytest.mark.parametrize("name", sorted(NOT_OBJECTS))
def test_documents_that_are_not_objects_are_skipped_with_their_reason(name):
    from meshlint.load import Loaded
    from meshlint.load.objects import add_value
    from meshlint.resource import Document, FileOrigin, Source

    value, reason = NOT_OBJECTS[name]
    origin = FileOrigin(Document(Source("repo/x.yaml", "x: 1\n"), 0, 5, 1, 0))
    loaded = Loaded()
    add_value(loaded, value, origin, "default")
    assert (loaded.resources, loaded.problems, loaded.count) == ([], [], 0)
    (skipped,) = loaded.skipped
    assert skipped.origin is origin and skipped.reason.startswith(reason), skipped.reason
    assert skipped.where() == "repo/x.yaml:1"


@pytest.mark.parametrize(("value", "message"), [
    ({"apiVersion": "v1", "metadata": {"namespace": "shop"}}, "document has no kind, metadata.name"),
    # named as kubectl names it (issue #13), so the broken object can be found
    ({"kind": "Service", "metadata": {"name": "cart"}}, "Service cart has no apiVersion"),
    ({"kind": "Service", "metadata": {"name": "cart", "namespace": "shop"}}, "Service shop/cart has no apiVersion"),
    ({"apiVersion": "v2", "name": "cart", "metadata": {"name": "cart"}}, "document cart has no kind"),
    ({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization"}, "Kustomization has no metadata.name"),
])
def test_documents_that_claim_to_be_objects_are_still_held_to_the_object_rules(value, message):
    """Flux's Kustomization is a real object (another API group than kustomize's own)."""
    from meshlint.load import Loaded
    from meshlint.load.objects import add_value
    from meshlint.resource import LiveOrigin

    loaded = Loaded()
    add_value(loaded, value, LiveOrigin("ctx"), "default")
    (problem,) = loaded.problems
    assert problem.message == message and not loaded.skipped


@pytest.mark.parametrize(("spec", "name"), [({"revision": "1-22"}, "installed-state-1-22"),
                                            ({"profile": "demo"}, "installed-state"), (None, "installed-state")])
def test_an_istio_operator_without_a_name_is_read_as_installation_config(spec, name):
    """`istioctl install -f iop.yaml` needs no metadata.name: the IstioOperator is still loaded (the
    index reads its revision, values and meshConfig), named as istioctl names its saved copy."""
    from meshlint.load import Loaded
    from meshlint.load.objects import add_value
    from meshlint.resource import LiveOrigin

    loaded = Loaded()
    value = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "spec": spec}
    add_value(loaded, value, LiveOrigin("ctx"), "istio-system")
    (resource,) = loaded.resources
    assert (resource.kind, resource.namespace, resource.name) == ("IstioOperator", "istio-system", name)
    assert resource.metadata == {} and not loaded.problems and not loaded.skipped


# --- kustomize patches are partial objects (load/kustomize.py) ---------------------------------

def test_the_patch_files_of_a_kustomization_are_found_but_not_its_resources(tmp_path, monkeypatch):
    from meshlint.load.kustomize import key, patch_files

    overlay = tmp_path / "overlays" / "prod"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
- extra-service.yaml
patches:
- path: replicas.yaml
- path: ../shared/retries.yaml
  target: {kind: VirtualService}
- patch: |-
    - op: replace
      path: /spec/replicas
      value: 3
patchesStrategicMerge:
- sidecar.yaml
- |-
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: inline}
patchesJson6902:
- path: hosts.yaml
  target: {kind: VirtualService, name: cart}
components:
- ../../components/mtls
""")
    component = tmp_path / "components" / "mtls"
    component.mkdir(parents=True)
    (component / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: [{path: probes.yaml}]\n")
    unused = tmp_path / "components" / "unused"
    unused.mkdir(parents=True)
    (unused / "kustomization.yaml").write_text("kind: Component\npatchesStrategicMerge: [a.yaml]\n")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text("patches: [{path: x.yaml\n")
    monkeypatch.chdir(tmp_path)
    walked = ["overlays/prod/kustomization.yaml", "overlays/prod/extra-service.yaml", "components/mtls/a.yaml",
              "components/mtls/kustomization.yaml"]
    found = patch_files(walked, ["components/unused/a.yaml", "broken/x.yaml"])
    expected = ["overlays/prod/replicas.yaml", "overlays/shared/retries.yaml", "overlays/prod/sidecar.yaml",
                "overlays/prod/hosts.yaml", "components/mtls/probes.yaml"]
    # a Component is built through the kustomization that uses it; "" when none is in the input
    assert found == {**{key(path): "overlays/prod" for path in expected}, key("components/unused/a.yaml"): ""}


# --- rendered Helm output keeps its origin (load/rendered.py) ----------------------------------

def test_documents_under_a_source_comment_belong_to_their_template():
    from meshlint.load.parse import iter_documents
    from meshlint.resource import Source

    stream = ("# a comment helm did not write\r\nkind: Namespace\r\n"
              "---\r\n# Source: shop/templates/svc.yaml  \r\n# Another comment\r\nkind: Service\r\n"
              "---\n# Source: shop/templates/vs.yaml\napiVersion: v1\nkind: [broken\n"
              "---\nkind: ConfigMap\n# Source: not/an/origin.yaml\n")
    parsed = list(iter_documents(Source("-", stream), as_json=False, helm_origins=True))
    origins = [(d.source.name, d.line, d.text.split("\n", 1)[0]) for d, _, _, _ in parsed]
    assert origins == [("-", 1, "# a comment helm did not write\r"),
                       ("shop/templates/svc.yaml", 1, "# Another comment\r"),
                       ("shop/templates/vs.yaml", 1, "apiVersion: v1"), ("-", 11, "---")]
    assert [v for _, v, _, _ in parsed][1] == {"kind": "Service"}
    error = parsed[2][2]
    assert error is not None and (error.document.source.name, error.line) == ("shop/templates/vs.yaml", 3)
    assert all(d.source.text is stream for d, _, _, _ in parsed)  # one text, no copies
