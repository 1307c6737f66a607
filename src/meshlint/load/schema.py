"""The shape of every field a rule reads, checked once at load time (INVALID_OBJECT problems).

Rules can then trust types: `ports` is a list of mappings, `attempts` an integer. A resource
whose fields do not fit is reported (an INVALID_OBJECT problem, pointing at the field) and kept
out of the index, so no rule ever sees it. `None` (an empty YAML value) always counts as
absent, as it does for the Kubernetes API server.

Only fields that rules read are declared; everything else is passed through untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..resource import K8S_GATEWAY, FieldPath


class Shape:
    what: str = "a value"

    def check(self, value: Any, path: FieldPath) -> tuple[FieldPath, str] | None:
        raise NotImplementedError


# The API's integers are int32 (ports, weights, `attempts`, `maxRetries`): the API server refuses
# any other, and no larger value ever reaches Envoy.
INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class Scalar(Shape):
    types: tuple[type, ...]
    what: str
    int_range: tuple[int, int] | None = None  # the values an integer may take (INT32)

    def check(self, value: Any, path: FieldPath) -> tuple[FieldPath, str] | None:
        if value is None:
            return None
        if isinstance(value, bool) and bool not in self.types:
            return path, self.what
        if isinstance(value, int) and self.int_range and not self.int_range[0] <= value <= self.int_range[1]:
            return path, "a 32-bit integer"
        if isinstance(value, self.types):
            return None
        return path, self.what


@dataclass(frozen=True)
class Map(Shape):
    fields: Mapping[str, Shape]
    what: str = "a mapping"

    def check(self, value: Any, path: FieldPath) -> tuple[FieldPath, str] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            return path, self.what
        for key, shape in self.fields.items():
            sub = value.get(key)
            if sub is not None:
                error = shape.check(sub, path + (key,))
                if error:
                    return error
        return None


@dataclass(frozen=True)
class MapOf(Shape):
    values: Shape
    what: str = "a mapping"

    def check(self, value: Any, path: FieldPath) -> tuple[FieldPath, str] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            return path, self.what
        for key, sub in value.items():
            if sub is None:
                continue
            error = self.values.check(sub, path + (key,))
            if error:
                return error
        return None


@dataclass(frozen=True)
class ListOf(Shape):
    items: Shape
    what: str = "a list"

    def check(self, value: Any, path: FieldPath) -> tuple[FieldPath, str] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            return path, self.what
        for i, sub in enumerate(value):
            if sub is None:  # `- ` with nothing after it: the item itself has no value
                return path + (i,), self.items.what
            error = self.items.check(sub, path + (i,))
            if error:
                return error
        return None


STR = Scalar((str,), "a string")
INT = Scalar((int,), "an integer", INT32)
BOOL = Scalar((bool,), "true or false")
NUMBER = Scalar((int, float), "a number")
INT_OR_STR = Scalar((int, str), "an integer or a string", INT32)
STRINGS = ListOf(STR, "a list of strings")
STR_MAP = MapOf(STR, "a mapping of strings")

METADATA = Map({
    "name": STR,
    "generateName": STR,
    "namespace": STR,
    "labels": STR_MAP,
    "annotations": STR_MAP,
})

# --- Istio networking ---------------------------------------------------------------------

PORT_SELECTOR = Map({"number": INT})
DESTINATION = Map({"host": STR, "subset": STR, "port": PORT_SELECTOR})
ROUTE_DESTINATIONS = ListOf(Map({"destination": DESTINATION, "weight": INT}))
RETRIES = Map({"attempts": INT, "perTryTimeout": STR, "retryOn": STR})
MATCH = ListOf(Map({"gateways": STRINGS, "port": INT}))
HEADERS = Map({
    "request": Map({"set": STR_MAP, "add": STR_MAP, "remove": STRINGS}),
    "response": Map({"set": STR_MAP, "add": STR_MAP, "remove": STRINGS}),
})
HTTP_ROUTE = Map({
    "name": STR,
    "match": MATCH,
    "route": ListOf(Map({"destination": DESTINATION, "weight": INT, "headers": HEADERS})),
    "mirror": DESTINATION,
    "mirrors": ListOf(Map({"destination": DESTINATION})),
    "retries": RETRIES,
    "timeout": STR,
    "headers": HEADERS,
})
L4_ROUTE = Map({"match": MATCH, "route": ROUTE_DESTINATIONS})

VIRTUAL_SERVICE = Map({
    "hosts": STRINGS,
    "gateways": STRINGS,
    "exportTo": STRINGS,
    "http": ListOf(HTTP_ROUTE),
    "tcp": ListOf(L4_ROUTE),
    "tls": ListOf(L4_ROUTE),
})

GATEWAY = Map({
    "selector": STR_MAP,
    "servers": ListOf(Map({
        "hosts": STRINGS,
        "port": Map({"number": INT, "protocol": STR, "name": STR}),
        "tls": Map({"mode": STR}),
    })),
})

CLIENT_TLS = Map({"mode": STR, "caCertificates": STR, "credentialName": STR, "insecureSkipVerify": BOOL})
TRAFFIC_POLICY = Map({
    "connectionPool": Map({"http": Map({"maxRetries": INT})}),
    "outlierDetection": Map({}),
    "retryBudget": Map({}),
    "tls": CLIENT_TLS,
    "portLevelSettings": ListOf(Map({"port": PORT_SELECTOR, "tls": CLIENT_TLS,
                                     "connectionPool": Map({"http": Map({"maxRetries": INT})}),
                                     "outlierDetection": Map({})})),
})

DESTINATION_RULE = Map({
    "host": STR,
    "exportTo": STRINGS,
    "trafficPolicy": TRAFFIC_POLICY,
    "subsets": ListOf(Map({"name": STR, "labels": STR_MAP, "trafficPolicy": TRAFFIC_POLICY})),
    "workloadSelector": Map({"matchLabels": STR_MAP}),
})

SERVICE_ENTRY = Map({"hosts": STRINGS, "exportTo": STRINGS, "location": STR, "addresses": STRINGS,
                     "ports": ListOf(Map({"number": INT, "protocol": STR, "name": STR}))})

# --- Kubernetes core ----------------------------------------------------------------------

SERVICE = Map({
    "type": STR,
    "selector": STR_MAP,
    "externalName": STR,
    "ports": ListOf(Map({
        "name": STR,
        "port": INT,
        "protocol": STR,
        "appProtocol": STR,
        "targetPort": INT_OR_STR,
        "nodePort": INT,
    })),
})

# --- Gateway API ----------------------------------------------------------------------------

LABEL_SELECTOR = Map({
    "matchLabels": STR_MAP,
    "matchExpressions": ListOf(Map({"key": STR, "operator": STR, "values": STRINGS})),
})
GATEWAY_API_GATEWAY = Map({
    "gatewayClassName": STR,
    "listeners": ListOf(Map({
        "name": STR,
        "hostname": STR,
        "port": INT,
        "protocol": STR,
        "tls": Map({"mode": STR}),
        "allowedRoutes": Map({
            "namespaces": Map({"from": STR, "selector": LABEL_SELECTOR}),
            "kinds": ListOf(Map({"group": STR, "kind": STR})),
        }),
    })),
})

REFERENCE_GRANT = Map({
    "from": ListOf(Map({"group": STR, "kind": STR, "namespace": STR})),
    "to": ListOf(Map({"group": STR, "kind": STR, "name": STR})),
})
ROUTE = Map({
    "parentRefs": ListOf(Map({"group": STR, "kind": STR, "namespace": STR, "name": STR, "sectionName": STR,
                              "port": INT})),
    "hostnames": STRINGS,
    "rules": ListOf(Map({
        "backendRefs": ListOf(Map({"group": STR, "kind": STR, "name": STR, "namespace": STR, "port": INT,
                                   "weight": INT})),
        "retry": Map({"attempts": INT, "codes": ListOf(INT)}),
    })),
})

# --- Workloads --------------------------------------------------------------------------

QUANTITY = Scalar((int, float, str), "a quantity")
PROBE = Map({
    "httpGet": Map({"port": INT_OR_STR, "path": STR, "scheme": STR}),
    "grpc": Map({"port": INT}),
    "tcpSocket": Map({"port": INT_OR_STR}),
    "exec": Map({"command": STRINGS}),
})
CONTAINER = Map({
    "name": STR,
    "image": STR,
    "command": STRINGS,
    "args": STRINGS,
    "env": ListOf(Map({"name": STR, "value": STR})),
    "ports": ListOf(Map({"containerPort": INT, "name": STR, "protocol": STR})),
    "livenessProbe": PROBE,
    "readinessProbe": PROBE,
    "startupProbe": PROBE,
    "resources": Map({"requests": MapOf(QUANTITY), "limits": MapOf(QUANTITY)}),
    "securityContext": Map({"runAsUser": INT}),
})
POD_SPEC = Map({
    "hostNetwork": BOOL,
    "nodeName": STR,
    "containers": ListOf(CONTAINER),
    "initContainers": ListOf(CONTAINER),
    "securityContext": Map({"runAsUser": INT}),
})
POD_TEMPLATE = Map({
    "metadata": Map({"labels": STR_MAP, "annotations": STR_MAP}),
    "spec": POD_SPEC,
})
WITH_TEMPLATE = Map({"spec": Map({"template": POD_TEMPLATE})})

# --- Istio security, operations -----------------------------------------------------------

PEER_AUTHENTICATION = Map({
    "selector": Map({"matchLabels": STR_MAP}),
    "mtls": Map({"mode": STR}),
    "portLevelMtls": MapOf(Map({"mode": STR})),
})
ENVOY_FILTER = Map({
    "workloadSelector": Map({"labels": STR_MAP}),
    "priority": INT,
    "configPatches": ListOf(Map({
        "applyTo": STR,
        "match": Map({"context": STR, "proxy": Map({"proxyVersion": STR})}),
        "patch": Map({"operation": STR}),
    })),
})
# the policies that pick workloads by `selector` or attach by `targetRef(s)`
WORKLOAD_POLICY = Map({
    "selector": Map({"matchLabels": STR_MAP}),
    "targetRef": Map({"group": STR, "kind": STR, "name": STR}),
    "targetRefs": ListOf(Map({"group": STR, "kind": STR, "name": STR})),
})
# MeshConfig, as far as rules read it. istiod reads the mesh config into its proto (istio/istio
# `pkg/config/mesh/mesh.go` ApplyMeshConfig, protomarshal.ApplyYAML): a value of the wrong type
# (`disabled: fals`) refuses the whole mesh config, which then never takes effect. Types from
# istio/api `mesh/v1alpha1/config.proto` and `proxy.proto`; `attempts` is left out because the
# proto's JSON reader also takes a number written as a string there.
HEADER_SWITCH = Map({"disabled": BOOL})
PROXY_CONFIG = Map({
    "proxyHeaders": Map({"envoyDebugHeaders": HEADER_SWITCH, "attemptCount": HEADER_SWITCH,
                         "requestId": HEADER_SWITCH, "server": Map({"disabled": BOOL, "value": STR})}),
    "proxyMetadata": STR_MAP,
    "holdApplicationUntilProxyStarts": BOOL,
})
MESH_CONFIG = Map({
    "defaultConfig": PROXY_CONFIG,
    "defaultHttpRetryPolicy": Map({"perTryTimeout": STR, "retryOn": STR}),
    "enableAutoMtls": BOOL,
    "rootNamespace": STR,
    "outboundTrafficPolicy": Map({"mode": STR}),
})

ISTIO_OPERATOR = Map({"revision": STR, "meshConfig": MESH_CONFIG, "values": Map({})})

# Shape of each kind (by kind key) beyond its metadata.
OBJECTS: dict[str, Shape] = {
    "Service": Map({"spec": SERVICE}),
    "VirtualService": Map({"spec": VIRTUAL_SERVICE}),
    "Gateway": Map({"spec": GATEWAY}),
    "DestinationRule": Map({"spec": DESTINATION_RULE}),
    "ServiceEntry": Map({"spec": SERVICE_ENTRY}),
    K8S_GATEWAY: Map({"spec": GATEWAY_API_GATEWAY}),
    "HTTPRoute": Map({"spec": ROUTE}),
    "GRPCRoute": Map({"spec": ROUTE}),
    "TCPRoute": Map({"spec": ROUTE}),
    "TLSRoute": Map({"spec": ROUTE}),
    "UDPRoute": Map({"spec": ROUTE}),
    "ReferenceGrant": Map({"spec": REFERENCE_GRANT}),
    "Deployment": WITH_TEMPLATE,
    "StatefulSet": WITH_TEMPLATE,
    "DaemonSet": WITH_TEMPLATE,
    "ReplicaSet": WITH_TEMPLATE,
    "Job": WITH_TEMPLATE,
    "Rollout": WITH_TEMPLATE,
    "CronJob": Map({"spec": Map({"jobTemplate": Map({"spec": Map({"template": POD_TEMPLATE})})})}),
    "Pod": Map({"spec": POD_SPEC}),
    "PeerAuthentication": Map({"spec": PEER_AUTHENTICATION}),
    "EnvoyFilter": Map({"spec": ENVOY_FILTER}),
    "IstioOperator": Map({"spec": ISTIO_OPERATOR}),
    "AuthorizationPolicy": Map({"spec": WORKLOAD_POLICY}),
    "RequestAuthentication": Map({"spec": WORKLOAD_POLICY}),
    "Telemetry": Map({"spec": WORKLOAD_POLICY}),
    "WasmPlugin": Map({"spec": WORKLOAD_POLICY}),
    "ConfigMap": Map({"data": STR_MAP}),
}


def check(kind: str, raw: Mapping[str, Any]) -> tuple[FieldPath, str] | None:
    """First field of `raw` whose type does not fit: (path, "a list" ...), or None.

    Every resource goes through a validator generated for its kind (`_compile`): straight-line
    code that builds no paths. Only when it rejects the resource does the shape walk below run
    again to find the path and the message, so both always give the same answer."""
    shaped = kind if kind in OBJECTS else None  # every other kind: its metadata only, one validator
    valid = _validators.get(shaped)
    if valid is None:
        valid = _validators[shaped] = _compile(Map({"metadata": METADATA, **_fields(OBJECTS.get(kind))}))
    if valid(raw):
        return None
    return walk(kind, raw)


def walk(kind: str, raw: Mapping[str, Any]) -> tuple[FieldPath, str] | None:
    """`check` by walking the shapes: slower, and the reference for the generated validators."""
    error = METADATA.check(raw.get("metadata"), ("metadata",))
    if error:
        return error
    shape = OBJECTS.get(kind)
    if shape is not None:
        return shape.check(raw, ())
    return None


def _fields(shape: Shape | None) -> Mapping[str, Shape]:
    return shape.fields if isinstance(shape, Map) else {}


_validators: dict[str | None, Any] = {}  # kind key (None: any kind without a shape) -> generated validator


def _compile(shape: Shape) -> Any:
    """A function `valid(value) -> bool` for `shape`, as Python source: one nested block per
    field, exact type tests (`type(v) is dict`). It is never more lenient than `Shape.check`:
    where it is stricter (a subclass of dict or str), `check` asks the shape walk."""
    lines: list[str] = ["def valid(v0):"]
    consts: dict[str, Any] = {}

    def emit(shape: Shape, var: str, depth: int, pad: str) -> None:
        # `var` is not None here; every branch emits at least one statement
        child = f"v{depth + 1}"
        if isinstance(shape, Scalar):
            name = f"T{len(consts)}"
            consts[name] = frozenset(shape.types)
            lines.append(f"{pad}if type({var}) not in {name}: return False")
            if shape.int_range is not None:
                low, high = shape.int_range
                lines.append(f"{pad}if type({var}) is int and not {low} <= {var} <= {high}: return False")
        elif isinstance(shape, Map):
            lines.append(f"{pad}if type({var}) is not dict: return False")
            for key, sub in shape.fields.items():
                lines.append(f"{pad}{child} = {var}.get({key!r})")
                lines.append(f"{pad}if {child} is not None:")
                emit(sub, child, depth + 1, pad + "    ")
        elif isinstance(shape, MapOf):
            lines.append(f"{pad}if type({var}) is not dict: return False")
            lines.append(f"{pad}for {child} in {var}.values():")
            lines.append(f"{pad}    if {child} is not None:")
            emit(shape.values, child, depth + 1, pad + "        ")
        elif isinstance(shape, ListOf):
            lines.append(f"{pad}if type({var}) is not list: return False")
            lines.append(f"{pad}for {child} in {var}:")
            lines.append(f"{pad}    if {child} is None: return False")
            emit(shape.items, child, depth + 1, pad + "    ")
        else:  # pragma: no cover - every shape class is handled above
            raise TypeError(f"cannot compile {shape!r}")

    emit(shape, "v0", 0, "    ")
    lines.append("    return True")
    namespace: dict[str, Any] = dict(consts)
    exec(compile("\n".join(lines), "<meshlint schema>", "exec"), namespace)
    return namespace["valid"]


def mistyped(path: FieldPath, expected: str, value: Any) -> str:
    """The message for a field of the wrong type: `spec.ports[0].port must be an integer, not
    the string "http"`."""
    return f"{dotted(path)} must be {expected}, not {describe(value)}"


def mesh_config_problem(mesh: Any) -> tuple[FieldPath, str] | None:
    """The first field of a MeshConfig that istiod would refuse (a value of the wrong type):
    its path and the message; None when the fields rules read fit."""
    error = MESH_CONFIG.check(mesh, ())
    if error is None:
        return None
    path, expected = error
    value: Any = mesh
    for step in path:
        value = value[step]
    return path, mistyped(path, expected, value)


def dotted(path: FieldPath) -> str:
    """`("spec", "ports", 0, "port")` -> `spec.ports[0].port`."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def describe(value: Any) -> str:
    """What a value is, for messages: `a mapping`, `the string "five"`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:37] + "..."
        return f'the string "{short}"'
    if isinstance(value, int) and not -(10**20) < value < 10**20:
        digits = str(abs(value)) if value.bit_length() < 14_000 else ""  # (str() refuses 4,300+ digits)
        return f"a number of {len(digits):,} digits" if digits else "a number of more than 4,300 digits"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"a {type(value).__name__}"
