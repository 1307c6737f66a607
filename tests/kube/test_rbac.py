"""deploy/rbac.yaml grants exactly what `meshlint check --kube` reads: `list` on the resources
it lists in every namespace (ClusterRole), on ConfigMaps in the root namespace only (Role), and
nothing else; no Secrets. Proved against the requests a full run sends to the emulator."""

from __future__ import annotations

from pathlib import Path

import yaml

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac.yaml"


def _grants(kind: str) -> dict[tuple[str, str], set[str]]:
    """(API group, resource) -> verbs, over every rule of the ClusterRoles or Roles of the file."""
    out: dict[tuple[str, str], set[str]] = {}
    for doc in yaml.safe_load_all(RBAC.read_text(encoding="utf-8")):
        if doc and doc["kind"] == kind:
            for rule in doc["rules"]:
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        out.setdefault((group, resource), set()).update(rule["verbs"])
    return out


def _listed(path: str) -> tuple[str, str, str | None]:
    """/api/v1/pods -> ("", "pods", None); /apis/g/v/namespaces/ns/x -> ("g", "x", "ns")."""
    parts = path.strip("/").split("/")
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    if rest[0] == "namespaces" and len(rest) == 3:
        return group, rest[2], rest[1]
    return group, rest[0], None


def test_the_role_grants_exactly_what_a_run_lists(apiserver, cluster_objects, run):
    apiserver.serve(cluster_objects)
    proc = run("check", "--kube", "--kubeconfig", str(apiserver.kubeconfig()), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    lists = {_listed(r["path"]) for r in apiserver.requests() if "limit" in r["query"]}
    cluster_wide = {(group, resource) for group, resource, namespace in lists if namespace is None}
    in_root = {(group, resource) for group, resource, namespace in lists if namespace == "istio-system"}
    assert {namespace for _, _, namespace in lists} == {None, "istio-system"}

    cluster_role, role = _grants("ClusterRole"), _grants("Role")
    assert set(cluster_role) == cluster_wide
    assert set(role) == in_root == {("", "configmaps")}
    assert {verb for verbs in [*cluster_role.values(), *role.values()] for verb in verbs} == {"list"}
    assert not [key for key in [*cluster_role, *role] if key[1] == "secrets"]


def test_the_bindings_give_the_roles_to_meshlints_service_account():
    docs = [d for d in yaml.safe_load_all(RBAC.read_text(encoding="utf-8")) if d]
    account = next(d for d in docs if d["kind"] == "ServiceAccount")["metadata"]
    for binding in (d for d in docs if d["kind"].endswith("Binding")):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["name"],
                                        "namespace": account["namespace"]}]
        role = next(d for d in docs if d["kind"] == binding["roleRef"]["kind"]
                    and d["metadata"]["name"] == binding["roleRef"]["name"])
        assert role["metadata"].get("namespace") == binding["metadata"].get("namespace")
