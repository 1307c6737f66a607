"""An init container calls the network in a pod whose traffic goes to a sidecar that has not
started yet.

With Istio CNI, the pod's iptables redirect is installed when Kubernetes sets up the pod's
network, before any init container runs; a classic (non-native) `istio-proxy` sidecar only
starts with the main containers. Every outbound TCP connection of an application init
container is redirected to port 15001, where nothing listens yet: `wget`, `curl`,
`until nc -z kafka 9092; do sleep 1; done`, a database client, `kubectl`, an `http://` URL in its
arguments fail or loop forever, and the pod never leaves `Init`. With DNS capture on
(`ISTIO_META_DNS_CAPTURE`), name lookups (`nslookup`, `getent hosts`, `dig`) are redirected to the
agent and fail the same way. See "Compatibility with application init containers" in Istio's
CNI guide. (Without CNI the injector moves `istio-init` after the application's init containers,
istio/istio `pkg/kube/inject/inject.go` `reorderPod`, so they run before the redirect exists.)

Reported for every init container (other than Istio's own) whose command or arguments call the
network, in a pod that gets an Istio sidecar (the injection decision shared with the other
rules, istio/istio `pkg/kube/inject/inject.go`), unless:

- the sidecar is native (pod annotation `sidecar.istio.io/nativeSidecar: "true"`,
  `native-sidecars: true` in the configuration, `ENABLE_NATIVE_SIDECARS` in istiod's Helm values):
  `istio-proxy` then starts, and is ready, before the application's init containers;
- the init container runs as UID 1337 (`securityContext.runAsUser`, its own or the pod's), the
  proxy's UID, whose traffic the redirect leaves alone;
- the pod excludes the destination from capture: its port in
  `traffic.sidecar.istio.io/excludeOutboundPorts` (not enough for a host name when DNS capture
  is on), its address in `excludeOutboundIPRanges` or outside `includeOutboundIPRanges`, or
  `sidecar.istio.io/interceptionMode: NONE`.

Whether the cluster uses Istio CNI is read from the installation in the input (IstioOperator
`components.cni.enabled` or the ambient profile, Helm values `pilot.cni.enabled`, a DaemonSet
`istio-cni-node`) or the `istio-cni` setting. When neither says, the finding is info and says
so; when the sidecar itself rests on an assumption about the namespace, it is at most a
warning that names it.

## Why it matters
The pod hangs in `Init:0/1` (or `Init:CrashLoopBackOff` when the call gives up), its
Deployment never becomes available, and nothing in the init container's log mentions Istio:
`wget: can't connect to remote host: Connection refused`, or a wait loop that prints
"waiting for kafka" forever. It appears when a namespace is first labelled for injection, or
when a cluster moves to Istio CNI (or to ambient, which installs it).

## Example
```yaml
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: installed-state, namespace: istio-system}
spec:
  components:
    cni: {enabled: true}
---
apiVersion: v1
kind: Namespace
metadata:
  name: orders
  labels: {istio-injection: enabled}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: order-consumer, namespace: orders}
spec:
  selector:
    matchLabels: {app: order-consumer}
  template:
    metadata:
      labels: {app: order-consumer}
    spec:
      initContainers:
      - name: wait-for-kafka
        image: busybox:1.36
        command: [sh, -c, "until nc -z kafka 9092; do sleep 1; done"]
      containers:
      - name: consumer
        image: ghcr.io/example/order-consumer:3.1.0
```

## Fixed example
```yaml
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: installed-state, namespace: istio-system}
spec:
  components:
    cni: {enabled: true}
---
apiVersion: v1
kind: Namespace
metadata:
  name: orders
  labels: {istio-injection: enabled}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: order-consumer, namespace: orders}
spec:
  selector:
    matchLabels: {app: order-consumer}
  template:
    metadata:
      labels: {app: order-consumer}
      annotations:
        sidecar.istio.io/nativeSidecar: "true"   # the proxy starts before init containers
    spec:
      initContainers:
      - name: wait-for-kafka
        image: busybox:1.36
        command: [sh, -c, "until nc -z kafka 9092; do sleep 1; done"]
      containers:
      - name: consumer
        image: ghcr.io/example/order-consumer:3.1.0
```

## Fix
Use native sidecars (pod annotation `sidecar.istio.io/nativeSidecar: "true"`, Kubernetes >= 1.28),
or run the init container as the proxy's UID (`securityContext.runAsUser: 1337`; its traffic
then bypasses the mesh), or exclude the port it calls with
`traffic.sidecar.istio.io/excludeOutboundPorts` (which the application's traffic to that port
bypasses too). A wait loop is often better replaced by the application's own retries.

## References
- istio/istio `pkg/kube/inject/inject.go`: whether a pod gets a sidecar, and where `istio-init` goes
- [Istio CNI: compatibility with application init containers](https://istio.io/latest/docs/setup/additional-setup/cni/#compatibility-with-application-init-containers)
- [Kubernetes Native Sidecars in Istio](https://istio.io/latest/blog/2023/native-sidecars/)
- [Sidecar traffic capture annotations](https://istio.io/latest/docs/reference/config/annotations/)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import SIDECAR_INPUTS, Index
from ..mesh.injection import istio_cni, native_sidecar
from ..mesh.meshconfig import proxy_config
from ..mesh.workloads import WORKLOAD_KINDS, Workload

PROXY_UID = 1337
ISTIO_INIT_CONTAINERS = frozenset({"istio-init", "istio-validation", "istio-proxy", "enable-core-dump"})
# clients that open TCP connections (basename of a command word)
TCP_TOOLS = frozenset({"wget", "curl", "nc", "ncat", "netcat", "telnet", "grpcurl", "grpc_health_probe",
                       "pg_isready", "psql", "mysql", "mysqladmin", "redis-cli", "mongosh", "mongo", "kubectl",
                       "wait-for-it", "wait-for-it.sh", "wait-for", "dockerize"})
DNS_TOOLS = frozenset({"nslookup", "dig", "getent"})
WORD = re.compile(r"[^\s;|&()`'\"<>]+")
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s;|&()`'\"<>]+")
HOST_PORT = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$")
VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
DEFAULT_PORTS = {"http": 80, "https": 443, "postgres": 5432, "postgresql": 5432, "mysql": 3306, "redis": 6379,
                 "amqp": 5672, "mongodb": 27017}
HOST_OPTIONS = ("-h", "--host", "--hostname")
PORT_OPTIONS = ("-p", "--port")


@dataclass(frozen=True)
class Call:
    tool: str
    host: str  # "" when not found
    port: int | None

    def describe(self) -> str:
        target = f"{self.host}:{self.port}" if self.host and self.port else self.host
        return f"{self.tool} to {target}" if target else self.tool


def _env(container: Mapping[str, Any]) -> dict[str, str]:
    return {str(e["name"]): str(e["value"]) for e in container.get("env") or ()
            if isinstance(e, dict) and "name" in e and isinstance(e.get("value"), (str, int))}


def _text(container: Mapping[str, Any]) -> str:
    words = [str(x) for key in ("command", "args") for x in container.get(key) or () if isinstance(x, (str, int))]
    env = _env(container)
    return VAR.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), " ".join(words))


def _after(words: list[str], i: int) -> tuple[str, int | None]:
    """nc/telnet style `tool [options] host port`."""
    rest = [w for w in words[i + 1:i + 6] if not w.startswith("-")]
    if len(rest) >= 2 and rest[1].isdigit():
        return rest[0], int(rest[1])
    return "", None


def network_call(container: Mapping[str, Any], dns_capture: bool) -> Call | None:
    """The first network call the container's command and arguments make, if any."""
    text = _text(container)
    words = WORD.findall(text)
    tools = TCP_TOOLS | (DNS_TOOLS if dns_capture else frozenset())
    tool = next(((i, w.rsplit("/", 1)[-1]) for i, w in enumerate(words) if w.rsplit("/", 1)[-1] in tools), None)
    url = next((u for u in URL.finditer(text) if urlsplit(u.group(0)).hostname), None)
    if tool is None and url is None:
        return None
    if url is not None:
        parts = urlsplit(url.group(0))
        try:
            port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            port = None
        return Call(tool[1] if tool else f"{parts.scheme}://", parts.hostname or "", port)
    assert tool is not None
    i, name = tool
    if name in ("nc", "ncat", "netcat", "telnet"):
        host, port = _after(words, i)
        if host:
            return Call(name, host, port)
    return _options(name, words[i + 1:])


def _options(name: str, words: list[str]) -> Call:
    """`tool -h host -p port` (database clients), or a `host:port` word (wait-for-it)."""
    host, port = "", None
    for j, w in enumerate(words):
        key, _, inline = w.partition("=")
        value = inline or (words[j + 1] if j + 1 < len(words) else "")
        if key in HOST_OPTIONS and not host:
            host = value
        elif key in PORT_OPTIONS and value.isdigit() and port is None:
            port = int(value)
        elif not host and (m := HOST_PORT.match(w)):
            host, port = m.group(1), int(m.group(2))
    return Call(name, host, port)


def _uid(container: Mapping[str, Any], w: Workload) -> Any:
    for context in (container.get("securityContext"), w.spec.get("securityContext")):
        if isinstance(context, dict) and context.get("runAsUser") is not None:
            return context["runAsUser"]
    return None


def _list(value: Any) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else []


def _in_ranges(host: str, ranges: list[str]) -> bool | None:
    """Is the literal address `host` in one of `ranges`? None when `host` is a name."""
    import ipaddress

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    for cidr in ranges:
        try:
            if address in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False


def _excluded(call: Call, annotations: Mapping[str, Any], dns_capture: bool) -> bool:
    """Do the pod's capture annotations keep the call away from the proxy (or may they: a
    destination the files do not pin down is given the benefit of the doubt)?"""
    if annotations.get("sidecar.istio.io/interceptionMode") == "NONE":
        return True
    include = annotations.get("traffic.sidecar.istio.io/includeOutboundIPRanges")
    if isinstance(include, str) and include.strip() != "*":
        inside = _in_ranges(call.host, _list(include))
        if inside is not True:  # "" captures nothing; a name may resolve outside the ranges
            return True
    name_lookup = dns_capture and _in_ranges(call.host, []) is None
    ports = _list(annotations.get("traffic.sidecar.istio.io/excludeOutboundPorts"))
    if ports and not name_lookup and (call.port is None or str(call.port) in ports):
        return True
    ranges = _list(annotations.get("traffic.sidecar.istio.io/excludeOutboundIPRanges"))
    return bool(ranges) and not name_lookup and _in_ranges(call.host, ranges) is not False


def check(index: Index, options: Options) -> Iterator[Finding]:
    mesh = index.mesh()
    cni: bool | None = index.facts.istio_cni
    cni_source = "istio-cni: true in the configuration"
    if cni is None:
        cni, cni_source = istio_cni(mesh, index.named("DaemonSet", "istio-cni-node"))
    if cni is False:
        return  # istio-init runs after the application's init containers
    for w in index.workloads():
        if not any(c.get("name") not in ISTIO_INIT_CONTAINERS for _, c in w.containers(init=True)):
            continue
        sc = index.sidecar(w)
        if not sc.istio or native_sidecar(w, sc, mesh, index.facts.native_sidecars):
            continue
        config, _ = proxy_config(mesh, w.annotations)
        metadata = config.get("proxyMetadata")
        dns_capture = isinstance(metadata, dict) and str(metadata.get("ISTIO_META_DNS_CAPTURE")).lower() == "true"
        for i, c in w.containers(init=True):
            if c.get("name") in ISTIO_INIT_CONTAINERS or c.get("restartPolicy") == "Always":
                continue  # Istio's own, or a native sidecar of the application's
            call = network_call(c, dns_capture)
            if call is None or _uid(c, w) == PROXY_UID or _excluded(call, w.annotations, dns_capture):
                continue
            values = {"name": c.get("name", i), "call": call.describe(),
                      "port": call.port if call.port else "<port>"}
            path = (*w.spec_path, "initContainers", i)
            if cni is None:
                yield RULE.finding(CNI_UNKNOWN, w.resource, path, **values)
            elif sc.assumption:
                yield RULE.finding(SIDECAR_ASSUMED, w.resource, path, cni=cni_source, assumption=sc.assumption,
                                   **values)
            else:
                yield RULE.finding(BLOCKED, w.resource, path, cni=cni_source, **values)


_FIX = ('Set the pod annotation sidecar.istio.io/nativeSidecar: "true", run the init container as '
        'runAsUser: 1337, or exclude its port (traffic.sidecar.istio.io/excludeOutboundPorts: "{port}").')
_BLOCKED = ("init container {name} calls the network ({call}) before the classic sidecar starts, and Istio CNI "
            "redirects it to that proxy ({cni}): the call fails or hangs, and the pod never leaves Init")
BLOCKED = Variant("blocked", Severity.ERROR, _BLOCKED, _FIX)
SIDECAR_ASSUMED = Variant("sidecar-assumed", Severity.WARNING, _BLOCKED + " ({assumption})", _FIX)
CNI_UNKNOWN = Variant(
    "cni-unknown", Severity.INFO,
    "init container {name} calls the network ({call}) before the classic sidecar starts: with Istio CNI the "
    "call goes to a proxy that is not running yet and fails or hangs (the input does not show whether the "
    "cluster uses Istio CNI; set istio-cni)",
    _FIX)

RULE = Rule(
    code="ML409",
    name="init-container-network-blocked",
    summary="init container calling the network before a classic sidecar starts (Istio CNI)",
    inputs=frozenset({*WORKLOAD_KINDS, *SIDECAR_INPUTS, "DaemonSet"}),
    variants=(BLOCKED, SIDECAR_ASSUMED, CNI_UNKNOWN),
    check=check,
)
