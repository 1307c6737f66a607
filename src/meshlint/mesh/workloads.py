"""Workloads: the pod templates inside Deployments, Jobs, CronJobs, Rollouts... and Pods.

A `Workload` is what Istio sees when it injects a sidecar or selects endpoints: the labels,
annotations and spec of the pod that the controller creates. Resources that a controller in
the input owns (the ReplicaSet of a Deployment, the Pods of a ReplicaSet, in a cluster dump)
are skipped so that one workload is reported once, on the object a user edits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..resource import FieldPath, Resource

# kind key -> path of the pod template inside the resource (() = the resource is the pod)
POD_TEMPLATES: dict[str, tuple] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "Rollout": ("spec", "template"),  # Argo Rollouts
    "Pod": (),
}
WORKLOAD_KINDS = tuple(POD_TEMPLATES)
BATCH_KINDS = ("Job", "CronJob")


@dataclass(frozen=True, eq=False)
class Workload:
    resource: Resource
    path: FieldPath  # path of the pod template in the resource
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    spec: Mapping[str, Any]  # the pod spec

    @property
    def namespace(self) -> str:
        return self.resource.namespace

    @property
    def kind(self) -> str:
        return self.resource.kind

    @property
    def name(self) -> str:
        return self.resource.name

    def display(self) -> str:
        return self.resource.display()

    @property
    def metadata_path(self) -> FieldPath:
        return self.path + ("metadata",)

    @property
    def spec_path(self) -> FieldPath:
        return self.path + ("spec",) if self.path else ("spec",)

    def containers(self, init: bool = False) -> Iterator[tuple[int, Mapping[str, Any]]]:
        for i, c in enumerate(self.spec.get("initContainers" if init else "containers") or ()):
            if isinstance(c, dict):
                yield i, c

    def container_port(self, port: Any) -> int | None:
        """A probe or Service targetPort (number or name) -> the container port number."""
        if isinstance(port, int):
            return port
        if isinstance(port, str):
            if port.isascii() and port.isdigit() and len(port) <= 5:  # a port number, not "٥٠٣" nor 5,000 digits
                return int(port)
            for _, c in self.containers():
                for p in c.get("ports") or ():
                    if isinstance(p, dict) and p.get("name") == port:
                        return p.get("containerPort")
        return None


def _uid(context: Any) -> int | None:
    uid = context.get("runAsUser") if isinstance(context, dict) else None
    return uid if isinstance(uid, int) and not isinstance(uid, bool) else None


def run_as_user(w: Workload, index: int, container: Mapping[str, Any],
                init: bool = False) -> tuple[int | None, FieldPath]:
    """The UID a container runs as when a securityContext says so, and the field that says it:
    the container's `runAsUser` wins over the pod's (Kubernetes `SecurityContext` semantics).
    `(None, ())` when neither sets one (the image decides)."""
    uid = _uid(container.get("securityContext"))
    if uid is not None:
        key = "initContainers" if init else "containers"
        return uid, (*w.spec_path, key, index, "securityContext", "runAsUser")
    uid = _uid(w.spec.get("securityContext"))
    if uid is not None:
        return uid, (*w.spec_path, "securityContext", "runAsUser")
    return None, ()


GATEWAY_LABELS = ("gateway.istio.io/managed", "gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")


def is_gateway(w: Workload) -> bool:
    """An Istio ingress/egress gateway: it receives traffic from outside the mesh by design."""
    istio = w.labels.get("istio")
    if isinstance(istio, str) and istio.endswith("gateway"):
        return True
    if any(k in w.labels for k in GATEWAY_LABELS):
        return True
    templates = w.annotations.get("inject.istio.io/templates")
    if isinstance(templates, str) and "gateway" in templates:
        return True
    for _, c in w.containers():
        args = c.get("args") or []
        if c.get("name") == "istio-proxy" and "router" in args:
            return True
    return False


def pod_template(resource: Resource) -> Workload | None:
    path = POD_TEMPLATES.get(resource.kind)
    if path is None:
        return None
    if not path:  # a Pod
        return Workload(resource, (), resource.labels, resource.annotations, resource.spec)
    node: Any = resource.raw
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None  # e.g. a Rollout with workloadRef: no template of its own
    meta: Mapping[str, Any] = node["metadata"] if isinstance(node.get("metadata"), dict) else {}
    spec: Mapping[str, Any] = node["spec"] if isinstance(node.get("spec"), dict) else {}
    return Workload(resource, path, meta.get("labels") or {}, meta.get("annotations") or {}, spec)


def is_owned_by_input(resource: Resource, present: set[tuple[str, str, str]]) -> bool:
    """True when an ownerReference points at a workload that is itself in the input."""
    for owner in resource.metadata.get("ownerReferences") or ():
        if isinstance(owner, dict) and (owner.get("kind"), resource.namespace, owner.get("name")) in present:
            return True
    return False


def top_owner(resource: Resource, present: Mapping[tuple[str, str, str], Resource]) -> Resource:
    """The workload at the top of a resource's chain of owners among `present` ((kind,
    namespace, name) -> resource): a Pod's Deployment through its ReplicaSet, a CronJob
    through its Job; the resource itself when nothing present owns it."""
    current = resource
    for _ in range(4):  # Pod <- ReplicaSet <- Deployment, Pod <- Job <- CronJob: never deeper
        owner = None
        for ref in current.metadata.get("ownerReferences") or ():
            if isinstance(ref, dict):
                owner = present.get((str(ref.get("kind")), current.namespace, str(ref.get("name"))))
                if owner is not None:
                    break
        if owner is None or owner is current:
            break
        current = owner
    return current


def label_selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions); empty matches nothing here,
    as Istio's injector ignores empty selectors."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return False
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in expressions:
        if not isinstance(expr, dict):
            return False
        key, op, values = str(expr.get("key")), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True
