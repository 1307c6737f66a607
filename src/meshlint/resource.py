"""Resources as read from the input: a raw dict plus where it came from.

A `Resource` keeps the parsed document untouched (plain dicts and lists, no per-node objects);
its origin tells where it came from: a file's document (`FileOrigin`), so that exact line
numbers can be resolved later, and only for resources that have findings (see `locate.py`),
or a live cluster (`LiveOrigin`), which has no text to point into.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# A field's place in a parsed object: mapping keys and sequence indices, outermost first
# (`("spec", "ports", 0, "name")`).
FieldPath = tuple[str | int, ...]

# The API group each kind meshlint reads is expected to live in. A kind of the same name in
# another group (Gateway API's `Gateway`, say) gets a distinct key `group/Kind`, so that rules
# asking for "Gateway" only ever see Istio's.
KIND_GROUPS: dict[str, str] = {
    "Namespace": "",
    "Service": "",
    "Pod": "",
    "ConfigMap": "",
    "Deployment": "apps",
    "StatefulSet": "apps",
    "DaemonSet": "apps",
    "ReplicaSet": "apps",
    "Job": "batch",
    "CronJob": "batch",
    "VirtualService": "networking.istio.io",
    "Gateway": "networking.istio.io",
    "DestinationRule": "networking.istio.io",
    "ServiceEntry": "networking.istio.io",
    "Sidecar": "networking.istio.io",
    "EnvoyFilter": "networking.istio.io",
    "WorkloadEntry": "networking.istio.io",
    "PeerAuthentication": "security.istio.io",
    "AuthorizationPolicy": "security.istio.io",
    "RequestAuthentication": "security.istio.io",
    "Telemetry": "telemetry.istio.io",
    "WasmPlugin": "extensions.istio.io",
    "Rollout": "argoproj.io",
    "IstioOperator": "install.istio.io",
    "MutatingWebhookConfiguration": "admissionregistration.k8s.io",
    "HTTPRoute": "gateway.networking.k8s.io",
    "GRPCRoute": "gateway.networking.k8s.io",
    "TCPRoute": "gateway.networking.k8s.io",
    "TLSRoute": "gateway.networking.k8s.io",
    "UDPRoute": "gateway.networking.k8s.io",
    "ReferenceGrant": "gateway.networking.k8s.io",
}

# Gateway API's Gateway, keyed apart from Istio's (see kind_key).
K8S_GATEWAY = "gateway.networking.k8s.io/Gateway"
GATEWAY_API_ROUTES = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute")

# Kinds that have no namespace (kubectl does not default one onto them).
CLUSTER_SCOPED: frozenset[str] = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration", "StorageClass", "PriorityClass", "IngressClass",
    "APIService", "GatewayClass", "RuntimeClass", "CSIDriver", "VolumeAttachment",
})


def api_group(api_version: str) -> str:
    """`networking.istio.io/v1beta1` -> `networking.istio.io`; `v1` -> `` (core)."""
    slash = api_version.rfind("/")
    return api_version[:slash] if slash >= 0 else ""


def kind_key(api_version: str, kind: str) -> str:
    """The key a resource is indexed under: its kind, qualified when the group is unexpected."""
    expected = KIND_GROUPS.get(kind)
    group = api_group(api_version)
    if expected is None or expected == group:
        return kind
    return f"{group}/{kind}"


def display(kind: str, namespace: str, name: str) -> str:
    """How a resource is named to users: `Service shop/cart`, or `Namespace shop` when it is
    cluster-scoped."""
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


class Ref(NamedTuple):
    """Identity of a resource: kind key, namespace ("" when cluster-scoped), name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return display(self.kind, self.namespace, self.name)

    def display(self) -> str:
        """As users name it: the kind without the group that `kind_key` may have added."""
        return display(self.kind.rsplit("/", 1)[-1], self.namespace, self.name)


@dataclass(eq=False)
class Source:
    """One input file (or stdin): its display name and its decoded text."""

    name: str
    text: str
    path: str | None = None


def display_path(path: str) -> str:
    """A path as reports show it. In a name that is not UTF-8, `os.fsdecode` kept each bad byte
    as a surrogate, which no output can encode: shown as U+FFFD, as a terminal shows it (not
    as `\\xff`: reports read a backslash as a Windows path separator)."""
    return os.fsencode(path).decode("utf-8", "replace")


@dataclass(eq=False, slots=True)
class Document:
    """One YAML/JSON document of a source: text offsets and the 1-based line it starts on."""

    source: Source
    start: int
    end: int
    line: int
    index: int  # position of the document in its source, from 0
    # the 1-based column it starts at: past 1 only for an item of a JSON List that shares its
    # line with others (compact JSON is one line)
    column: int = 1

    @property
    def text(self) -> str:
        return self.source.text[self.start:self.end]

    def in_source(self, line: int, column: int) -> tuple[int, int]:
        """A position from 0 in this document's text -> the 1-based (line, column) in its
        source."""
        return self.line + line, column + (self.column if line == 0 else 1)

    def first_content(self) -> tuple[int, int]:
        """The 1-based line and column of the document's first content (not blank, a comment or
        `---`): where a problem without a finer position is reported."""
        for offset, raw in enumerate(self.text.splitlines()):
            stripped = raw.strip()
            if stripped and not stripped.startswith("#") and stripped != "---":
                return self.in_source(offset, len(raw) - len(raw.lstrip()))
        return self.in_source(0, 0)


@dataclass(frozen=True, eq=False)
class MeshConfigFile:
    """The installation file given with `--mesh-config` (an IstioOperator, a MeshConfig or
    istiod Helm values): its name as given, its document (findings point into it) and data."""

    name: str
    document: Document
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FileOrigin:
    """An object read from a file: its document, and the path of the object inside it.

    `prefix` is empty for a plain document, `("items", 3)` for the fourth item of a
    `kind: List`, and the object's place in its item document (`lists.item_path`) when the List
    was cut into one document per item.
    """

    document: Document
    prefix: FieldPath = ()


@dataclass(frozen=True, slots=True)
class LiveOrigin:
    """An object read from a live cluster: the kube context it was read through, and when
    (Unix seconds: how long a live state has lasted is measured up to then). It has no text,
    so its findings have no file and line."""

    context: str
    read_at: float = 0.0


Origin = FileOrigin | LiveOrigin


@dataclass(eq=False, slots=True)
class Resource:
    """A Kubernetes object: the raw parsed mapping and its origin."""

    raw: Mapping[str, Any]
    ref: Ref
    api_version: str
    origin: Origin
    kind_name: str = ""
    _meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def document(self) -> Document | None:
        """The file's document the object was read from; None for a live object."""
        return self.origin.document if isinstance(self.origin, FileOrigin) else None

    @property
    def prefix(self) -> FieldPath:
        """The path of the object inside its document (`FileOrigin.prefix`); () for a live
        object, whose fields start at its top."""
        return self.origin.prefix if isinstance(self.origin, FileOrigin) else ()

    @property
    def kind(self) -> str:
        return self.ref.kind

    @property
    def namespace(self) -> str:
        return self.ref.namespace

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._meta

    @property
    def labels(self) -> Mapping[str, str]:
        labels = self._meta.get("labels")
        return labels if isinstance(labels, dict) else {}  # not a dict: an invalid object

    @property
    def annotations(self) -> Mapping[str, str]:
        annotations = self._meta.get("annotations")
        return annotations if isinstance(annotations, dict) else {}

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.raw.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def source(self) -> Source | None:
        """The file the object was read from; None for a live object."""
        return self.origin.document.source if isinstance(self.origin, FileOrigin) else None

    @property
    def file(self) -> str:
        """The name of the file the object was read from; "" for a live object."""
        return self.origin.document.source.name if isinstance(self.origin, FileOrigin) else ""

    @property
    def cluster(self) -> str:
        """The kube context a live object was read through; "" for an object of a file."""
        return self.origin.context if isinstance(self.origin, LiveOrigin) else ""

    def display(self) -> str:
        """`Service shop/cart` or `Namespace shop` (the original kind name, unqualified)."""
        return display(self.kind_name or self.ref.kind, self.namespace, self.name)
