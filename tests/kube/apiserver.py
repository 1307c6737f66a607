#!/usr/bin/env python3
"""A Kubernetes API server emulator on 127.0.0.1, for the `--kube` tests and benchmark.

    python tests/kube/apiserver.py STATE.json     # prints "listening on http://127.0.0.1:PORT"

No real kube-apiserver can be installed here, so the official client is run over real HTTP
against this: the standard library only, started (and stopped) by the test as a process of its
own, as a real server would be. It answers what the real server answers for what meshlint
asks, in the same shape:

- discovery: `/api`, `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>` (with the
  several versions a real Istio or Gateway API install serves), `/version`;
- lists, cluster-wide and per namespace, as typed Lists whose built-in items carry no kind and
  apiVersion (custom resources keep theirs), sorted by namespace and name, with `limit`,
  `continue` (and `remainingItemCount`), `labelSelector` (`=`, `==`, `!=`, `in`, `notin`,
  `key`, `!key`) and `fieldSelector` (`metadata.name`, `metadata.namespace`, and for Pods
  `status.phase` and `spec.nodeName`; any other field is a 400, as the real server says);
- errors as `Status` objects: 401 without the bearer token, 403 for a resource the state
  forbids (cluster-wide, or outside the namespaces it allows), 404 for a resource that is not
  served (a CRD not installed) or an object that does not exist, 410 for a continue token the
  state expires, 405 for any method but GET, 500 for a list the state makes fail.

Every request to the API is recorded; the test reads them at `GET /_emulator/requests`, and
replaces the state with `POST /_emulator/state` (the body is a state) or clears the record
with `POST /_emulator/reset`. Those control paths are neither API paths nor recorded.

The state (JSON): `objects` (full objects, with apiVersion and kind; a `kubectl get -o json`
List dump serves its `items`, with no token), `token` (the bearer
token required; none: any request is authorised), `user` (named in 403 messages),
`forbidden` (`[{"resource": "pods", "group": "", "namespaces": ["shop"]}]`: listing pods is
forbidden except in the namespaces given), `not_installed` (API groups whose CRDs are absent),
`expire_continue` (resources whose first continue token is answered 410 Expired) and `failing`
(resources whose lists are answered 500, as an API server whose etcd times out).
"""

from __future__ import annotations

import base64
import contextlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# (group, versions with the preferred first, kind, plural, namespaced): what a cluster with Istio,
# the Gateway API and Argo Rollouts serves, and a few kinds meshlint never reads (Secrets).
RESOURCES: list[tuple[str, tuple[str, ...], str, str, bool]] = [
    ("", ("v1",), "Namespace", "namespaces", False),
    ("", ("v1",), "Pod", "pods", True),
    ("", ("v1",), "Service", "services", True),
    ("", ("v1",), "ConfigMap", "configmaps", True),
    ("", ("v1",), "Secret", "secrets", True),
    ("", ("v1",), "ServiceAccount", "serviceaccounts", True),
    ("", ("v1",), "Node", "nodes", False),
    ("apps", ("v1",), "Deployment", "deployments", True),
    ("apps", ("v1",), "StatefulSet", "statefulsets", True),
    ("apps", ("v1",), "DaemonSet", "daemonsets", True),
    ("apps", ("v1",), "ReplicaSet", "replicasets", True),
    ("batch", ("v1",), "Job", "jobs", True),
    ("batch", ("v1",), "CronJob", "cronjobs", True),
    ("admissionregistration.k8s.io", ("v1",), "MutatingWebhookConfiguration", "mutatingwebhookconfigurations",
     False),
    ("admissionregistration.k8s.io", ("v1",), "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
     False),
    ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "VirtualService", "virtualservices", True),
    ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "DestinationRule", "destinationrules", True),
    ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "Gateway", "gateways", True),
    ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "ServiceEntry", "serviceentries", True),
    ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "Sidecar", "sidecars", True),
    ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "WorkloadEntry", "workloadentries", True),
    ("networking.istio.io", ("v1alpha3",), "EnvoyFilter", "envoyfilters", True),
    ("security.istio.io", ("v1", "v1beta1"), "PeerAuthentication", "peerauthentications", True),
    ("security.istio.io", ("v1", "v1beta1"), "AuthorizationPolicy", "authorizationpolicies", True),
    ("security.istio.io", ("v1", "v1beta1"), "RequestAuthentication", "requestauthentications", True),
    ("telemetry.istio.io", ("v1", "v1alpha1"), "Telemetry", "telemetries", True),
    ("extensions.istio.io", ("v1alpha1",), "WasmPlugin", "wasmplugins", True),
    ("install.istio.io", ("v1alpha1",), "IstioOperator", "istiooperators", True),
    ("gateway.networking.k8s.io", ("v1", "v1beta1"), "Gateway", "gateways", True),
    ("gateway.networking.k8s.io", ("v1", "v1beta1"), "HTTPRoute", "httproutes", True),
    ("gateway.networking.k8s.io", ("v1", "v1alpha2"), "GRPCRoute", "grpcroutes", True),
    ("gateway.networking.k8s.io", ("v1beta1", "v1alpha2"), "ReferenceGrant", "referencegrants", True),
    ("gateway.networking.k8s.io", ("v1alpha2",), "TCPRoute", "tcproutes", True),
    ("gateway.networking.k8s.io", ("v1alpha2",), "TLSRoute", "tlsroutes", True),
    ("gateway.networking.k8s.io", ("v1alpha2",), "UDPRoute", "udproutes", True),
    ("argoproj.io", ("v1alpha1",), "Rollout", "rollouts", True),
]
BY_KIND = {(group, kind): (group, versions, kind, plural, namespaced)
           for group, versions, kind, plural, namespaced in RESOURCES}
BY_PLURAL = {(group, plural): (group, versions, kind, plural, namespaced)
             for group, versions, kind, plural, namespaced in RESOURCES}
POD_FIELDS = ("status.phase", "spec.nodeName")
BUILTIN = frozenset({"", "apps", "batch", "admissionregistration.k8s.io"})  # the rest are CRDs


class Stored:
    """One object, serialised once (items of built-in Lists carry no kind and apiVersion)."""

    __slots__ = ("namespace", "name", "labels", "fields", "body")

    def __init__(self, obj: dict[str, Any], builtin: bool) -> None:
        meta = obj.get("metadata") or {}
        self.namespace = meta.get("namespace") or ""
        self.name = meta.get("name") or ""
        self.labels: dict[str, str] = meta.get("labels") or {}
        self.fields = {"metadata.name": self.name, "metadata.namespace": self.namespace,
                       "status.phase": (obj.get("status") or {}).get("phase", ""),
                       "spec.nodeName": (obj.get("spec") or {}).get("nodeName", "")}
        item = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")} if builtin else obj
        self.body = json.dumps(item, separators=(",", ":")).encode()


class State:
    def __init__(self, data: dict[str, Any]) -> None:
        self.token: str | None = data.get("token")
        self.user: str = data.get("user", "system:serviceaccount:meshlint:meshlint")
        self.forbidden = {(f.get("group", ""), f["resource"]): set(f.get("namespaces") or ())
                          for f in data.get("forbidden") or ()}
        self.not_installed = set(data.get("not_installed") or ())
        self.expire_continue = set(data.get("expire_continue") or ())
        self.failing = set(data.get("failing") or ())
        self.expired: set[str] = set()
        self.resource_version = "1"
        self.objects: dict[tuple[str, str], list[Stored]] = {}
        version = 1000
        for obj in data.get("objects") or data.get("items") or ():  # a state, or a `kind: List` dump
            group, _, _ = obj["apiVersion"].rpartition("/")
            found = BY_KIND.get((group, obj["kind"]))
            if found is None:
                continue  # a kind this cluster does not serve
            version += 1
            obj.setdefault("metadata", {}).setdefault("resourceVersion", str(version))
            if found[0] not in BUILTIN:  # a custom resource: served in the preferred version
                obj = {**obj, "apiVersion": f"{found[0]}/{found[1][0]}"}
            self.objects.setdefault((found[0], found[3]), []).append(Stored(obj, builtin=found[0] in BUILTIN))
        for stored in self.objects.values():
            stored.sort(key=lambda s: (s.namespace, s.name))
        self.resource_version = str(version)

    def served(self, group: str) -> bool:
        return group not in self.not_installed


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "details": details or {}, "code": code}


def parse_label_selector(text: str) -> list[tuple[str, str, set[str]]]:
    """`a=b,c!=d,e in (f,g),h,!i` -> [(key, op, values)]."""
    out: list[tuple[str, str, set[str]]] = []
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    for part in (p.strip() for p in parts if p.strip()):
        for op in (" notin ", " in "):
            if op in part:
                key, values = part.split(op, 1)
                out.append((key.strip(), op.strip(), {v.strip() for v in values.strip().strip("()").split(",")}))
                break
        else:
            if "!=" in part:
                key, value = part.split("!=", 1)
                out.append((key.strip(), "!=", {value.strip()}))
            elif "=" in part:
                key, value = part.replace("==", "=").split("=", 1)
                out.append((key.strip(), "=", {value.strip()}))
            elif part.startswith("!"):
                out.append((part[1:].strip(), "!", set()))
            else:
                out.append((part, "exists", set()))
    return out


def labels_match(labels: dict[str, str], selector: list[tuple[str, str, set[str]]]) -> bool:
    for key, op, values in selector:
        value = labels.get(key)
        if op == "=" and value not in values:
            return False
        if op in ("!=", "notin") and value in values:
            return False
        if op == "in" and value not in values:
            return False
        if op == "exists" and key not in labels:
            return False
        if op == "!" and key in labels:
            return False
    return True


def parse_field_selector(text: str) -> list[tuple[str, bool, str]]:
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if "!=" in part:
            key, value = part.split("!=", 1)
            out.append((key.strip(), False, value.strip()))
        else:
            key, value = part.replace("==", "=").split("=", 1)
            out.append((key.strip(), True, value.strip()))
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Emulator

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads the record instead
        pass

    # -- plumbing -------------------------------------------------------------------------------

    def _send(self, code: int, body: bytes | dict[str, Any]) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _control(self) -> bool:
        path = urlsplit(self.path).path
        if not path.startswith("/_emulator/"):
            return False
        if path == "/_emulator/requests":
            with self.server.lock:
                self._send(200, json.dumps(self.server.requests).encode())
        elif path == "/_emulator/state":
            state = State(json.loads(self._body()))
            with self.server.lock:
                self.server.state = state
                self.server.requests.clear()
            self._send(200, {"ok": True})
        elif path == "/_emulator/reset":
            self._body()
            with self.server.lock:
                self.server.requests.clear()
            self._send(200, {"ok": True})
        else:
            self._send(404, status(404, "NotFound", "no such control path"))
        return True

    def _record(self) -> None:
        url = urlsplit(self.path)
        with self.server.lock:
            self.server.requests.append({"method": self.command, "path": url.path,
                                         "query": dict(parse_qsl(url.query)),
                                         "authorization": self.headers.get("Authorization", "")})

    def _refuse_method(self) -> None:
        if self._control():
            return
        self._record()
        self._body()
        self._send(405, status(405, "MethodNotAllowed", f"the emulator serves GET only, not {self.command}"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse_method

    # -- GET ------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        if self._control():
            return
        self._record()
        state = self.server.state
        if state.token is not None and self.headers.get("Authorization") != f"Bearer {state.token}":
            self._send(401, status(401, "Unauthorized", "Unauthorized"))
            return
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        parts = [p for p in url.path.split("/") if p]
        if parts == ["version"]:
            self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.2", "platform": "linux/amd64"})
        elif parts == ["api"]:
            self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]})
        elif parts == ["apis"]:
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": self._groups(state)})
        elif parts[:2] == ["api", "v1"] and len(parts) == 2:
            self._send(200, self._resource_list(state, "", "v1"))
        elif parts[:1] == ["apis"] and len(parts) == 2:
            group = next((g for g in self._groups(state) if g["name"] == parts[1]), None)
            self._send(*(200, {"kind": "APIGroup", "apiVersion": "v1", **group}) if group else self._not_found())
        elif parts[:1] == ["apis"] and len(parts) == 3:
            listed = self._resource_list(state, parts[1], parts[2])
            self._send(*(200, listed) if listed["resources"] else self._not_found())
        elif parts[:2] == ["api", "v1"]:
            self._resource("", "v1", parts[2:], query, state)
        elif parts[:1] == ["apis"] and len(parts) > 3:
            self._resource(parts[1], parts[2], parts[3:], query, state)
        else:
            self._send(*self._not_found())

    @staticmethod
    def _not_found() -> tuple[int, dict[str, Any]]:
        return 404, status(404, "NotFound", "the server could not find the requested resource")

    @staticmethod
    def _groups(state: State) -> list[dict[str, Any]]:
        out: dict[str, list[str]] = {}
        for group, versions, *_ in RESOURCES:
            if group and state.served(group):  # (the core group is /api, not /apis)
                known = out.setdefault(group, [])
                known += [v for v in versions if v not in known]
        order = {"v1": 0, "v1beta1": 1, "v1alpha3": 2, "v1alpha2": 3, "v1alpha1": 4}
        groups = []
        for group, versions in out.items():
            versions.sort(key=lambda v: order.get(v, 9))
            listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
            groups.append({"name": group, "versions": listed, "preferredVersion": listed[0]})
        return groups

    @staticmethod
    def _resource_list(state: State, group: str, version: str) -> dict[str, Any]:
        resources = []
        if not group or state.served(group):
            for g, versions, kind, plural, namespaced in RESOURCES:
                if g == group and version in versions:
                    resources.append({"name": plural, "singularName": kind.lower(), "namespaced": namespaced,
                                      "kind": kind, "verbs": ["create", "delete", "deletecollection", "get", "list",
                                                              "patch", "update", "watch"]})
                    resources.append({"name": f"{plural}/status", "singularName": "", "namespaced": namespaced,
                                      "kind": kind, "verbs": ["get", "patch", "update"]})
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

    def _resource(self, group: str, version: str, rest: list[str], query: dict[str, str], state: State) -> None:
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        found = BY_PLURAL.get((group, rest[0])) if rest else None
        if found is None or version not in found[1] or not state.served(group) or len(rest) > 2:
            self._send(*self._not_found())
            return
        _, _, kind, plural, namespaced = found
        if namespace is not None and not namespaced:
            self._send(*self._not_found())
            return
        allowed = state.forbidden.get((group, plural))
        if allowed is not None and (namespace is None or namespace not in allowed):
            scope = "at the cluster scope" if namespace is None else f'in the namespace "{namespace}"'
            self._send(403, status(403, "Forbidden", f'{plural} is forbidden: User "{state.user}" cannot list '
                                   f'resource "{plural}" in API group "{group}" {scope}',
                                   {"group": group, "kind": plural}))
            return
        if plural in state.failing:
            self._send(500, status(500, "InternalError", "Internal error occurred: etcdserver: request timed out"))
            return
        stored = [s for s in state.objects.get((group, plural), ()) if namespace is None or s.namespace == namespace]
        if len(rest) == 2:  # one object
            one = next((s for s in stored if s.name == rest[1]), None)
            if one is None:
                self._send(404, status(404, "NotFound", f'{plural} "{rest[1]}" not found',
                                       {"name": rest[1], "group": group, "kind": plural}))
            else:
                self._send(200, one.body)
            return
        self._list(group, version, kind, plural, stored, query, state)

    def _list(self, group: str, version: str, kind: str, plural: str, stored: list[Stored],
              query: dict[str, str], state: State) -> None:
        if query.get("labelSelector"):
            selector = parse_label_selector(query["labelSelector"])
            stored = [s for s in stored if labels_match(s.labels, selector)]
        if query.get("fieldSelector"):
            fields = parse_field_selector(query["fieldSelector"])
            for key, _, _ in fields:
                if key not in ("metadata.name", "metadata.namespace") and not (kind == "Pod" and key in POD_FIELDS):
                    self._send(400, status(400, "BadRequest", f'"{key}" is not a known field selector: only '
                                           '"metadata.name", "metadata.namespace"'))
                    return
            stored = [s for s in stored if all((s.fields[k] == v) == equal for k, equal, v in fields)]
        start = 0
        token = query.get("continue")
        if token:
            if plural in state.expire_continue and plural not in state.expired:
                state.expired.add(plural)
                self._send(410, status(410, "Expired", "The provided continue parameter is too old to display a "
                                       "consistent list result. You can start a new list without the continue "
                                       "parameter."))
                return
            try:
                start = json.loads(base64.urlsafe_b64decode(token))["start"]
            except (ValueError, KeyError):
                self._send(400, status(400, "BadRequest", "continue key is not valid"))
                return
        limit = int(query.get("limit") or 0)
        end = len(stored) if limit <= 0 else min(len(stored), start + limit)
        metadata: dict[str, Any] = {"resourceVersion": state.resource_version}
        if end < len(stored):
            metadata["continue"] = base64.urlsafe_b64encode(json.dumps({"start": end}).encode()).decode()
            metadata["remainingItemCount"] = len(stored) - end
        gv = f"{group}/{version}" if group else version
        head = json.dumps({"kind": f"{kind}List", "apiVersion": gv, "metadata": metadata})[:-1].encode()
        self._send(200, head + b',"items":[' + b",".join(s.body for s in stored[start:end]) + b"]}")


class Emulator(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: State) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        state = State(json.load(fh))
    server = Emulator(state)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
