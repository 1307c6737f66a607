"""The mesh's installation settings, gathered from wherever the input shows them.

Sources, later ones overlaid on earlier ones (dicts deep-merged):
- ConfigMap `istio` (or `istio-<rev>`) in the root namespace: its `mesh` key is MeshConfig as
  YAML inside YAML;
- IstioOperator: `spec.meshConfig` (MeshConfig), `spec.values` (Helm values), `spec.revision`;
- injector ConfigMap `istio-sidecar-injector[-<rev>]` in the root namespace: `config` (YAML:
  `policy`, `alwaysInjectSelector`, `neverInjectSelector`) and `values` (JSON Helm values);
- `--mesh-config FILE`: an IstioOperator, a MeshConfig, or istiod Helm values (`meshConfig:`,
  `global:`, `sidecarInjectorWebhook:`, `revision:`).

Everything here is pure: `settings()` takes resources and returns a `MeshSettings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resource import Document, FieldPath, MeshConfigFile, Resource, Source

# MeshConfig top-level keys: a file holding one of these at the top is a bare MeshConfig.
MESH_CONFIG_KEYS = {"defaultConfig", "defaultHttpRetryPolicy", "enableAutoMtls", "accessLogFile",
                    "outboundTrafficPolicy", "rootNamespace", "trustDomain", "extensionProviders",
                    "defaultProviders", "meshMTLS", "enableTracing", "ingressClass", "ingressService"}
# Helm values top-level keys of the istiod chart.
HELM_KEYS = {"global", "sidecarInjectorWebhook", "pilot", "meshConfig", "revision", "istiodRemote",
             "telemetry", "base", "revisionTags"}


@dataclass(frozen=True)
class ValueSource:
    """Where a block of Helm values was read: a resource (and the path of the values in it),
    or the `--mesh-config` file's document."""

    resource: Resource | None
    document: Document | None  # the --mesh-config file's, when resource is None
    prefix: FieldPath
    values: Mapping[str, Any]


@dataclass
class MeshSettings:
    mesh: dict = field(default_factory=dict)  # MeshConfig
    values: dict = field(default_factory=dict)  # Helm values
    injector: dict = field(default_factory=dict)  # injector `config`: policy, selectors
    revisions: set[str] = field(default_factory=set)
    mesh_sources: list[str] = field(default_factory=list)  # where MeshConfig was read, for messages
    operators: list[Resource] = field(default_factory=list)
    value_sources: list[ValueSource] = field(default_factory=list)
    file: MeshConfigFile | None = None  # the --mesh-config file, when one was given
    tags: list[str] = field(default_factory=list)  # IstioOperator `spec.tag`: the image tags installed

    @property
    def has_mesh_config(self) -> bool:
        return bool(self.mesh_sources)

    def value(self, *path: str, default: Any = None) -> Any:
        node: Any = self.values
        for step in path:
            if not isinstance(node, dict):
                return default
            node = node.get(step)
        return default if node is None else node

    def istio_version(self) -> tuple[int, int] | None:
        """The oldest Istio minor version whose images the installation in the input names
        (IstioOperator `spec.tag`, Helm `global.tag`: `1.22.3`, `1.22.3-distroless`), or None."""
        tags = [*self.tags, self.value("global", "tag", default="")]
        found = [v for v in (minor_version(t) for t in tags if isinstance(t, str)) if v is not None]
        return min(found, default=None)

    @property
    def injection_policy(self) -> str:
        """`enabled` (Istio's default) or `disabled`: the injector's policy for pods that say
        nothing. Helm `global.proxy.autoInject` feeds the same setting."""
        policy = self.injector.get("policy")
        if isinstance(policy, str) and policy:
            return policy  # compared exactly by the injector: `Enabled` is an illegal value
        auto = self.value("global", "proxy", "autoInject")
        return auto if isinstance(auto, str) and auto else "enabled"

    def selectors(self, name: str) -> list:
        """`neverInjectSelector` / `alwaysInjectSelector` (injector config or Helm values)."""
        found = self.injector.get(name)
        if found is None:
            found = self.value("sidecarInjectorWebhook", name)
        return found if isinstance(found, list) else []


def minor_version(text: str) -> tuple[int, int] | None:
    """`1.22.3`, `v1.22`, `1.22.3-distroless` -> (1, 22); None when it names no version."""
    parts = text.strip().lstrip("v").split(".")
    if len(parts) < 2:
        return None
    try:
        return int(parts[0]), int(parts[1].split("-")[0])
    except ValueError:
        return None


def deep_merge(base: dict, overlay: Mapping) -> dict:
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_text(text: str) -> tuple[Any, str]:
    """YAML or JSON held in a string (a ConfigMap's `data.mesh`, the proxy.istio.io/config
    annotation), read as a manifest document is (`load/parse.py`: the same YAML, limits and
    messages): (value, "") or (None, why)."""
    from ..load.parse import parse, parse_json  # (load/ reads ConfigMaps through this module)

    document = Document(Source("", text), 0, len(text), 1, 0)
    value, error, _ = parse_json(document) if text.lstrip().startswith("{") else parse(document)
    if error is not None:
        return None, error.message.removeprefix("invalid YAML: ").removeprefix("invalid JSON: ")
    return value, ""


def embedded(resource: Resource, key: str) -> tuple[Any, str]:
    """Parse `data.<key>` of a ConfigMap (YAML or JSON text). Returns (value, error)."""
    data = resource.raw.get("data")
    text = data.get(key) if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip():
        return None, ""
    value, why = parse_text(text)
    if why:
        return None, f"data.{key} is not valid YAML/JSON: {why}"
    if value is not None and not isinstance(value, dict):
        return None, f"data.{key} must hold a mapping"
    return value or {}, ""


def is_mesh_configmap(resource: Resource, root_namespace: str) -> bool:
    return resource.namespace == root_namespace and (resource.name == "istio" or resource.name.startswith("istio-")) \
        and not resource.name.startswith("istio-sidecar-injector") and isinstance(resource.raw.get("data"), dict) \
        and "mesh" in resource.raw["data"]


def is_injector_configmap(resource: Resource, root_namespace: str) -> bool:
    return resource.namespace == root_namespace and resource.name.startswith("istio-sidecar-injector")


def describes_installation(data: Mapping[str, Any]) -> bool:
    """Does a `--mesh-config` file hold an IstioOperator, the `istio` ConfigMap, a MeshConfig or
    istiod Helm values?"""
    return data.get("kind") == "IstioOperator" or _is_mesh_configmap_dump(data) or \
        bool(set(data) & (MESH_CONFIG_KEYS | HELM_KEYS))


def _is_mesh_configmap_dump(data: Mapping[str, Any]) -> bool:
    """`kubectl get configmap istio -n istio-system -o yaml`: MeshConfig as text in data.mesh."""
    return data.get("kind") == "ConfigMap" and isinstance(data.get("data"), dict) and \
        isinstance(data["data"].get("mesh"), str)


def classify_file(data: Mapping[str, Any]) -> str:
    """What a `--mesh-config` file is: `operator`, `configmap` (the `istio` ConfigMap), `mesh`
    (bare MeshConfig) or `values`."""
    if data.get("kind") == "IstioOperator":
        return "operator"
    if _is_mesh_configmap_dump(data):
        return "configmap"
    if set(data) & MESH_CONFIG_KEYS and not set(data) & HELM_KEYS:
        return "mesh"
    return "values"


def settings(configmaps: Iterable[Resource], operators: Iterable[Resource], root_namespace: str,
             mesh_config: MeshConfigFile | None = None) -> MeshSettings:
    out = MeshSettings(file=mesh_config)
    for cm in configmaps:
        if is_mesh_configmap(cm, root_namespace):
            mesh, _ = embedded(cm, "mesh")
            if mesh is not None:
                out.mesh = deep_merge(out.mesh, mesh)
                out.mesh_sources.append(f"ConfigMap {cm.namespace}/{cm.name}")
        elif is_injector_configmap(cm, root_namespace):
            config, _ = embedded(cm, "config")
            if config:
                out.injector = deep_merge(out.injector, config)
            values, _ = embedded(cm, "values")
            if values:
                out.values = deep_merge(out.values, values)
                out.value_sources.append(ValueSource(cm, None, ("data", "values"), values))
                if isinstance(values.get("revision"), str) and values["revision"]:
                    out.revisions.add(values["revision"])
    for op in operators:
        _add_operator(out, op.spec, f"IstioOperator {op.namespace}/{op.name}")
        out.operators.append(op)
        if isinstance(op.spec.get("values"), dict):
            out.value_sources.append(ValueSource(op, None, ("spec", "values"), op.spec["values"]))
    if mesh_config is not None and mesh_config.data:
        file, file_name, file_document = mesh_config.data, mesh_config.name, mesh_config.document
        kind = classify_file(file)
        if kind == "operator":
            spec = file.get("spec")
            _add_operator(out, spec if isinstance(spec, dict) else {}, file_name)
            if isinstance(spec, dict) and isinstance(spec.get("values"), dict):
                out.value_sources.append(ValueSource(None, file_document, ("spec", "values"), spec["values"]))
        elif kind == "configmap":
            mesh, _ = parse_text(file["data"]["mesh"])  # (the reader refused it if it does not parse)
            if isinstance(mesh, dict):
                out.mesh = deep_merge(out.mesh, mesh)
                out.mesh_sources.append(file_name)
        elif kind == "mesh":
            out.mesh = deep_merge(out.mesh, file)
            out.mesh_sources.append(file_name)
        else:
            values = {k: v for k, v in file.items() if k != "meshConfig"}
            out.values = deep_merge(out.values, values)
            out.value_sources.append(ValueSource(None, file_document, (), values))
            if isinstance(file.get("meshConfig"), dict):
                out.mesh = deep_merge(out.mesh, file["meshConfig"])
                out.mesh_sources.append(file_name)
            if isinstance(file.get("revision"), str) and file["revision"]:
                out.revisions.add(file["revision"])
    return out


def _add_operator(out: MeshSettings, spec: Mapping[str, Any], source: str) -> None:
    mesh = spec.get("meshConfig")
    if isinstance(mesh, dict):
        out.mesh = deep_merge(out.mesh, mesh)
        out.mesh_sources.append(source)
    values = spec.get("values")
    if isinstance(values, dict):
        out.values = deep_merge(out.values, values)
    revision = spec.get("revision")
    if isinstance(revision, str) and revision:
        out.revisions.add(revision)
    tag = spec.get("tag")
    if isinstance(tag, str) and tag:  # a YAML float (`tag: 1.20`) has lost the version already
        out.tags.append(tag)


def proxy_config(settings: MeshSettings, annotations: Mapping[str, str]) -> tuple[dict, str]:
    """Effective ProxyConfig of a pod: mesh `defaultConfig` overlaid by the pod's
    `proxy.istio.io/config` annotation (YAML/JSON). Returns (config, error)."""
    base = settings.mesh.get("defaultConfig")
    config = dict(base) if isinstance(base, dict) else {}
    raw = annotations.get("proxy.istio.io/config")
    if isinstance(raw, str) and raw.strip():
        overlay, why = parse_text(raw)
        if why:
            return config, f"proxy.istio.io/config is not valid YAML: {why}"
        if isinstance(overlay, dict):
            config = deep_merge(config, overlay)
    return config, ""
