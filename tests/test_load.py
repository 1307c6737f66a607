"""The loader's seams: what a problem is (its kind, not a rule's code)."""

from __future__ import annotations

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
