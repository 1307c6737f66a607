"""Parsed objects -> Resources, Problems or Skipped documents, whatever the source.

A source (the files today, a live cluster later) hands over each parsed value with its origin
(`resource.FileOrigin`, `resource.LiveOrigin`); no text is needed from here on. A value is a
Kubernetes object, a `*List` of them (`kubectl get -o yaml|json`, or an API list response),
or not a Kubernetes object at all: a repository holds chart values, CI and compose files,
dashboards, kustomizations. A document that names neither apiVersion nor kind (or is a list or
a scalar) is skipped, and so are build inputs that name both but never reach the API server;
only a document that claims to be an object and is broken is an INVALID_OBJECT problem. Every
object is checked: apiVersion, kind and metadata.name present, the fields rules read of the
type they expect (`schema.py`), and the YAML/JSON that Istio's own ConfigMaps hold as text
parsable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..resource import CLUSTER_SCOPED, FieldPath, FileOrigin, Origin, Ref, Resource, api_group, kind_key
from . import schema
from .result import Loaded, Problem, ProblemKind, Skipped

# Documents that name an apiVersion and a kind but are read by a build or install tool and
# never sent to the API server: (API group, kind) -> what they are. They are skipped, not
# held to the object rules (a Kustomization needs no metadata.name). IstioOperator is not
# here: it is `istioctl install` input too, but the rules read it as the installation's
# configuration (`_istioctl_name`).
BUILD_INPUTS: dict[tuple[str, str], str] = {
    ("kustomize.config.k8s.io", "Kustomization"): "a kustomize Kustomization (input of kustomize build)",
    ("kustomize.config.k8s.io", "Component"): "a kustomize Component (input of kustomize build)",
    ("skaffold", "Config"): "a skaffold configuration",
    ("kind.x-k8s.io", "Cluster"): "a kind cluster configuration",
    ("", "Config"): "a kubeconfig",
    ("kubeadm.k8s.io", "ClusterConfiguration"): "a kubeadm configuration",
    ("kubeadm.k8s.io", "InitConfiguration"): "a kubeadm configuration",
    ("kubeadm.k8s.io", "JoinConfiguration"): "a kubeadm configuration",
    ("kubelet.config.k8s.io", "KubeletConfiguration"): "a kubelet configuration",
}
_BUILD_KINDS = frozenset(kind for _, kind in BUILD_INPUTS)


def add_value(out: Loaded, value: Any, origin: Origin, default_namespace: str,
              item_origins: Sequence[Origin] | None = None) -> None:
    """Add one parsed document (or API response) to `out`: its object, or each object of a
    `*List`, as a resource or a problem. `item_origins`: where each item of a List is, when
    the source knows (a file cut into item documents); else item i is `("items", i)` inside
    `origin`."""
    if value is None:
        return  # empty, or comments only
    kind = value.get("kind") if value.__class__ is dict else None
    if kind.__class__ is not str or kind in _BUILD_KINDS:  # (one test for nearly every document)
        not_an_object = _not_an_object(value)
        if not_an_object:
            out.skipped.append(Skipped(origin, not_an_object))
            return
    if isinstance(kind, str) and kind.endswith("List") and "items" in value:
        items = value.get("items")
        if items is None:
            return
        if not isinstance(items, list):
            out.problems.append(Problem(ProblemKind.INVALID_OBJECT, origin,
                                        f"{kind} items must be a list, not {schema.describe(items)}",
                                        path=_prefix(origin) + ("items",)))
            return
        list_version = value.get("apiVersion")
        item_kind = kind[:-4] if kind != "List" else None
        if item_origins is None or len(item_origins) != len(items):
            item_origins = [_inside(origin, ("items", i)) for i in range(len(items))]
        for item, item_origin in zip(items, item_origins):
            # typed lists (`ServiceList`) from the API omit each item's kind and apiVersion
            if (isinstance(item, dict) and item_kind and isinstance(list_version, str)
                    and ("kind" not in item or "apiVersion" not in item)):
                item = {"apiVersion": list_version, "kind": item_kind, **item}
            add_object(out, item, item_origin, default_namespace)
        return
    add_object(out, value, origin, default_namespace)


def _not_an_object(value: Any) -> str:
    """Why a document is not a Kubernetes object to analyse, or "" when it claims to be one."""
    if not isinstance(value, dict):
        return f"the document is {schema.describe(value)}, not a Kubernetes object"
    api_version, kind = value.get("apiVersion"), value.get("kind")
    if kind is None:
        if api_version is None:
            return "no apiVersion or kind: not a Kubernetes object"
        # Helm's Chart.yaml reuses `apiVersion` for the chart API (v1: Helm 2, v2: Helm 3) and
        # keeps `name` at the top, where an object has `metadata`: chart metadata for helm.
        if api_version in ("v1", "v2") and "name" in value and "metadata" not in value:
            return "Helm chart metadata (Chart.yaml): not a Kubernetes object"
    if isinstance(api_version, str) and isinstance(kind, str):
        group = api_group(api_version)
        build_input = BUILD_INPUTS.get((group, kind))
        if build_input:
            return f"{build_input}: never sent to the API server"
    return ""


def add_object(out: Loaded, obj: Any, origin: Origin, default_namespace: str) -> None:
    """Add one object to `out`: a resource, or the problem that keeps it out of the index."""
    out.count += 1
    prefix = _prefix(origin)
    if not isinstance(obj, dict):
        out.problems.append(Problem(ProblemKind.INVALID_OBJECT, origin,
                                    f"list item is {schema.describe(obj)}, not a Kubernetes object", path=prefix))
        return
    missing = [f for f in ("apiVersion", "kind") if not isinstance(obj.get(f), str) or not obj.get(f)]
    meta: Any = obj.get("metadata")  # parsed data: a mapping once an object has a name
    name: Any = meta.get("name") or meta.get("generateName") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        name = _istioctl_name(obj)
        if not name:
            missing.append("metadata.name")
    if missing:
        kind = obj.get("kind")
        label: str = kind if isinstance(kind, str) and kind else "document"
        if isinstance(name, str) and name:  # named as kubectl would name it, so it can be found
            namespace = meta.get("namespace") if isinstance(meta, dict) else None
            label += f" {namespace}/{name}" if isinstance(namespace, str) and namespace else f" {name}"
        where = prefix + (("metadata",) if "metadata.name" in missing and isinstance(meta, dict) else ())
        out.problems.append(Problem(ProblemKind.INVALID_OBJECT, origin, f"{label} has no {', '.join(missing)}",
                                    path=where, missing=tuple(missing)))
        return
    api_version, kind = obj["apiVersion"], obj["kind"]
    key = kind_key(api_version, kind)
    if not isinstance(meta, dict):
        meta = {}  # an IstioOperator without metadata
    namespace = meta.get("namespace")
    if kind in CLUSTER_SCOPED:
        namespace = ""
    elif not isinstance(namespace, str) or not namespace:
        namespace = default_namespace
    resource = Resource(raw=obj, ref=Ref(key, namespace, name), api_version=api_version,
                        origin=origin, kind_name=kind, _meta=meta)
    error = schema.check(key, obj)
    if error is not None:
        path, expected = error
        out.problems.append(Problem(ProblemKind.INVALID_OBJECT, origin,
                                    schema.mistyped(path, expected, _get(obj, path)),
                                    path=prefix + path, resource=resource))
        return
    if key == "ConfigMap":
        for data_key, why in _embedded_errors(resource):
            out.problems.append(Problem(ProblemKind.INVALID_OBJECT, origin, why, path=prefix + ("data", data_key),
                                        resource=resource))
            return
    out.resources.append(resource)


def _istioctl_name(obj: dict) -> str:
    """The name of an IstioOperator that has none: `istioctl install` reads it as input and
    needs no metadata.name, and once named the copy it kept in the cluster
    `installed-state[-<revision>]` (istioctl's `savedIOPName`). "" for any other object."""
    if obj.get("kind") != "IstioOperator" or not isinstance(obj.get("apiVersion"), str) \
            or api_group(obj["apiVersion"]) != "install.istio.io":
        return ""
    spec = obj.get("spec")
    revision = spec.get("revision") if isinstance(spec, dict) else None
    return f"installed-state-{revision}" if isinstance(revision, str) and revision else "installed-state"


def _prefix(origin: Origin) -> FieldPath:
    """Where the object starts in its document: a file's prefix; a live object is its own."""
    return origin.prefix if isinstance(origin, FileOrigin) else ()


def _inside(origin: Origin, path: FieldPath) -> Origin:
    """The origin of the object at `path` inside the object at `origin`. A live object's items
    are read through the same context."""
    if isinstance(origin, FileOrigin):
        return FileOrigin(origin.document, origin.prefix + path)
    return origin


def _embedded_errors(cm: Resource) -> list[tuple[str, str]]:
    """Istio's own ConfigMaps hold YAML/JSON as text; it must parse, and the mesh config's
    values must have their types (istiod refuses it otherwise)."""
    from ..mesh.meshconfig import embedded

    name = cm.name
    if name.startswith("istio-sidecar-injector"):
        keys: tuple[str, ...] = ("config", "values")
    elif name == "istio" or name.startswith("istio-"):
        keys = ("mesh",)
    else:
        return []
    errors = []
    for key in keys:
        value, why = embedded(cm, key)
        problem = schema.mesh_config_problem(value) if not why and key == "mesh" else None
        if problem is not None:
            why = f"data.{key}: {problem[1]} (istiod refuses the whole mesh config)"
        if why:
            errors.append((key, why))
    return errors


def _get(obj: Any, path: FieldPath) -> Any:
    for step in path:
        obj = obj[step]
    return obj


