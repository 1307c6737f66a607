"""mesh.workloads.run_as_user: Kubernetes `SecurityContext` semantics (k8s.io/api core/v1
`SecurityContext.RunAsUser`: "If set in both SecurityContext and PodSecurityContext, the value
specified in SecurityContext takes precedence")."""

from __future__ import annotations

from meshlint.mesh.workloads import pod_template, run_as_user
from meshlint.resource import Document, FileOrigin, Ref, Resource, Source


def deployment(pod_spec: dict):
    raw = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app", "namespace": "shop"},
           "spec": {"template": {"metadata": {"labels": {"app": "app"}}, "spec": pod_spec}}}
    w = pod_template(Resource(raw, Ref("Deployment", "shop", "app"), "apps/v1",
                              FileOrigin(Document(Source("t.yaml", ""), 0, 0, 1, 0)), "Deployment", raw["metadata"]))
    assert w is not None
    return w


def test_the_container_wins_over_the_pod():
    w = deployment({"securityContext": {"runAsUser": 1337},
                    "containers": [{"name": "a", "securityContext": {"runAsUser": 1000}}, {"name": "b"}],
                    "initContainers": [{"name": "init"}]})
    (i, a), (j, b) = w.containers()
    assert run_as_user(w, i, a) == (1000, ("spec", "template", "spec", "containers", 0, "securityContext", "runAsUser"))
    assert run_as_user(w, j, b) == (1337, ("spec", "template", "spec", "securityContext", "runAsUser"))
    (k, init), = w.containers(init=True)
    assert run_as_user(w, k, init, init=True)[0] == 1337


def test_no_uid_set_or_not_a_number():
    w = deployment({"containers": [{"name": "a", "securityContext": {"runAsUser": "1337"}}],
                    "securityContext": {"runAsUser": True}})
    (i, a), = w.containers()
    assert run_as_user(w, i, a) == (None, ())
