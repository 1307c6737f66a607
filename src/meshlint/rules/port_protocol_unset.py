"""A Service port has no protocol Istio recognises, so Istio sniffs it.

Istio decides a port's protocol from the Service alone (istio/istio
`pkg/config/kube/conversion.go` `ConvertProtocol`): `protocol: UDP` is UDP; otherwise a set
`appProtocol` is used *instead of* the port name (`kubernetes.io/h2c`, `kubernetes.io/ws`,
`kubernetes.io/wss` are understood); otherwise a name starting with `grpc-web`, or the part of
the name before the first `-` (case-insensitive), must be one of `tcp udp grpc grpc-web http
http_proxy http2 https tls mongo redis mysql`. Anything else leaves the protocol unset and
the sidecar *sniffs* it. The well-known ports 25, 53, 3306 and 27017 fall back to TCP and are
not reported, nor are Istio's own Services (label `istio`, `release: istio`,
`gateway.istio.io/managed`) and system namespaces, as with `istioctl analyze` (IST0118,
istio/istio `pkg/config/analysis/analyzers/service/portname.go`). Kiali's KIA0601 and KIA0602
check the same, with two differences meshlint does not share: Kiali skips Services whose pods
have no sidecar (every meshed client still sniffs the port), and wants an `appProtocol` that
is exactly a protocol (Istio reads it as it reads a name, up to the first `-`: `mysql-wrong`
is MySQL).

An ExternalName Service is reported with its own message when a port is named exactly `tcp`
or has an unrecognised name (IST0150): the proxy may block its TCP traffic.

A Service whose workloads Linkerd meshes (all of those in the input that it selects) is not
reported: Linkerd detects protocols itself and needs no port names, and `appProtocol:
linkerd.io/opaque` is exactly its switch for server-first protocols.

## Why it matters
A sniffed port works until it does not. HTTP features that depend on knowing the protocol up
front (retries, timeouts, header routing, request metrics such as
`istio_requests_total`) silently fall back to TCP proxying when detection guesses wrong or
times out, and *server-first* protocols (MySQL, SMTP, many databases) hang because the client
waits for the server while the proxy waits for the client. A good name with a foreign
`appProtocol` (`linkerd.io/opaque`) is a trap: Istio reads the appProtocol, not the name.

## Example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: {app: cart}
  ports:
  - name: web          # "web" is not a protocol
    port: 8080
  - port: 9090         # no name at all
```

## Fixed example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: {app: cart}
  ports:
  - name: http-web     # the protocol, then any suffix
    port: 8080
  - name: metrics
    port: 9090
    appProtocol: http  # used instead of the name
```

## Fix
Name each port `<protocol>[-<suffix>]` (`http-web`, `grpc`, `tcp-postgres`) or set
`appProtocol: http` (or `grpc`, `tcp`, `kubernetes.io/h2c` ...). For a server-first protocol,
declare it explicitly as `tcp`.

## References
- istio/istio `pkg/config/kube/conversion.go`: the protocol of a Service port
- istio/istio `pkg/config/analysis/analyzers/service/portname.go`: `istioctl analyze` IST0118 and IST0150
- [Protocol Selection](https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import SIDECAR_INPUTS, Index
from ..mesh.protocol import UNSUPPORTED, port_protocol
from ..mesh.workloads import WORKLOAD_KINDS
from ..resource import Resource

MANAGED_GATEWAY_LABEL = "gateway.istio.io/managed"


def check(index: Index, options: Options) -> Iterator[Finding]:
    for svc in index.of_kind("Service"):
        labels = svc.labels
        if "istio" in labels or labels.get("release") == "istio" or MANAGED_GATEWAY_LABEL in labels:
            continue  # Istio control plane and gateways it deploys itself
        spec = svc.spec
        external = spec.get("type") == "ExternalName"
        for i, port in enumerate(spec.get("ports") or ()):
            if not isinstance(port, dict):
                continue
            number, name = port.get("port"), port.get("name")
            app = port.get("appProtocol")
            protocol = port_protocol(number, name, port.get("protocol"), app)
            if external and (name == "tcp" or protocol == UNSUPPORTED):
                yield RULE.finding(
                    EXTERNAL_NAME_PORT, svc, ("spec", "ports", i), port=number, name=f'"{name}"' if name else "nothing")
                continue
            if protocol != UNSUPPORTED or _meshed_by_linkerd(index, svc):
                continue
            if app is not None:
                yield RULE.finding(
                    UNKNOWN_APP_PROTOCOL, svc, ("spec", "ports", i, "appProtocol"), port=number, app=app,
                    shadowed=f' "{name}"' if name else "")
            else:
                what = f'is named "{name}", which is not a protocol prefix,' if name else "has no name"
                yield RULE.finding(SNIFFED, svc, ("spec", "ports", i), port=number, what=what,
                                   suggestion=f"http-{name}" if name else "http-<suffix>")


def _meshed_by_linkerd(index: Index, svc: Resource) -> bool:
    """Linkerd proxies every workload the Service selects: Istio's port naming does not apply
    (Linkerd detects the protocol itself, and `appProtocol: linkerd.io/opaque` is its switch)."""
    workloads = index.workloads_of(svc)
    return bool(workloads) and all(index.sidecar(w).mesh == "linkerd" for w in workloads)


SNIFFED = Variant(
    "sniffed", Severity.WARNING,
    "port {port} {what} and has no appProtocol; Istio will sniff the protocol, so L7 routing, "
    "retries and request metrics depend on detection and server-first protocols hang",
    "Name the port {suggestion} (or grpc-, tcp-... for its real protocol), or set appProtocol: http.")
UNKNOWN_APP_PROTOCOL = Variant(
    "unknown-app-protocol", Severity.WARNING,
    'port {port} has appProtocol "{app}", which Istio does not recognise and uses instead of the '
    "port name{shadowed}; Istio will sniff the protocol",
    "Set appProtocol to a protocol Istio knows (http, http2, grpc, tcp, tls, kubernetes.io/h2c ...), "
    "or remove it.")
EXTERNAL_NAME_PORT = Variant(
    "external-name-port", Severity.WARNING,
    "ExternalName Service port {port} is named {name}: the proxy may block its TCP traffic",
    "Name the port for its real protocol (http-, https-, tls-...), not tcp or an unrecognised name.")

RULE = Rule(
    code="ML101",
    name="port-protocol-unset",
    summary="Service port without a protocol Istio recognises",
    inputs=frozenset({"Service", *WORKLOAD_KINDS, *SIDECAR_INPUTS}),
    variants=(SNIFFED, UNKNOWN_APP_PROTOCOL, EXTERNAL_NAME_PORT),
    check=check,
    # IST0118 PortNameIsNotUnderNamingConvention, IST0150 ExternalNameServiceTypeInvalidPortName
    istio_codes=frozenset({"IST0118", "IST0150"}),
    footgun=1,
)
