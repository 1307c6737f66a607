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

import re
from collections.abc import Iterator

from ..finding import Applicability, Edit, Finding, Fix, FixKind, Options, Rule, Severity, Variant
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
                from_name = port_protocol(number, name, port.get("protocol"))
                fix, why = None, "the port name names no protocol either: set appProtocol to the one it serves"
                if from_name != UNSUPPORTED:
                    fix = Fix((Edit(("spec", "ports", i, "appProtocol"), from_name.lower()),), Applicability.UNSAFE,
                              f'sets appProtocol {from_name.lower()}, as the name "{name}" says (for any other '
                              f"reader of appProtocol too)")
                    why = ""
                yield RULE.finding(
                    UNKNOWN_APP_PROTOCOL, svc, ("spec", "ports", i, "appProtocol"), port=number, app=app,
                    shadowed=f' "{name}"' if name else "", autofix=fix, unfixable=why)
            else:
                what = f'is named "{name}", which is not a protocol prefix,' if name else "has no name"
                fix, why = _naming_fix(index, svc, i, port)
                yield RULE.finding(SNIFFED, svc, ("spec", "ports", i), port=number, what=what,
                                   suggestion=f"http-{name}" if name else "http-<suffix>", autofix=fix, unfixable=why)


# Where the protocol of a port is known without its name (SPEC §5 Fixes: a safe fix): ports
# that IANA assigns to one protocol and that servers keep, and port or container port names
# that say what they serve. The values are Istio protocol names (`protocol.KNOWN`).
KNOWN_PORTS = {80: "http", 443: "https", 5432: "tcp", 6379: "redis", 9042: "tcp", 2181: "tcp", 9092: "tcp",
               11211: "tcp", 5672: "tcp", 5671: "tls", 1883: "tcp", 8883: "tls", 4222: "tcp", 389: "tcp",
               636: "tls", 5984: "http", 9200: "http", 50051: "grpc"}
KNOWN_NAMES = {"postgres": "tcp", "postgresql": "tcp", "pg": "tcp", "mongodb": "mongo", "amqp": "tcp",
               "amqps": "tls", "kafka": "tcp", "memcached": "tcp", "memcache": "tcp", "zookeeper": "tcp",
               "cql": "tcp", "cassandra": "tcp", "nats": "tcp", "mqtt": "tcp", "ldap": "tcp", "smtp": "tcp",
               "h2c": "http2", "rabbitmq": "tcp", "elasticsearch": "http"}
# A guess (an unsafe fix, said to be one): ports and names that usually, not always, serve HTTP.
GUESSED_PORTS = {8080: "http", 8000: "http", 8081: "http", 8888: "http", 3000: "http", 5000: "http",
                 9090: "http", 9080: "http", 8443: "https"}
GUESSED_NAMES = {"web": "http", "api": "http", "metrics": "http", "admin": "http", "ui": "http",
                 "health": "http", "rest": "http", "frontend": "http", "www": "http", "monitoring": "http"}
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _naming_fix(index: Index, svc: Resource, i: int, port: dict) -> tuple[Fix | None, str]:
    """SPEC §5: name the port `<protocol>-<name>` when the protocol is known (the target
    container port's name, a name or a port that says it): safe; a guess from the port number
    or a usual name: unsafe, and said to be a guess. appProtocol instead when the new name would
    not be a valid port name (15 characters at most) or would repeat another port's."""
    number, name = port.get("port"), port.get("name")
    guess = ""
    protocol = _from_container_port(index, svc, port)
    where = "the target container port's name"
    if protocol is None:
        protocol = KNOWN_NAMES.get(str(name).lower()) if name else None
        where = f'the name "{name}"'
    if protocol is None and isinstance(number, int):
        protocol, where = KNOWN_PORTS.get(number), f"port {number}"
    if protocol is None:
        guess, where = (GUESSED_NAMES.get(str(name).lower(), "") if name else ""), f'the name "{name}"'
        if not guess and isinstance(number, int):
            guess, where = GUESSED_PORTS.get(number, ""), f"port number {number}"
        if not guess:
            return None, (f"the protocol of port {number} cannot be known from the Service, its pods or the port "
                          "number: name the port for what it serves")
        protocol = guess
    new_name = f"{protocol}-{name}" if name else protocol
    taken = {p.get("name") for j, p in enumerate(svc.spec.get("ports") or ()) if j != i and isinstance(p, dict)}
    if len(new_name) <= 15 and _PORT_NAME.match(new_name) and new_name not in taken:
        edit, did = Edit(("spec", "ports", i, "name"), new_name), f"names the port {new_name}"
    else:
        edit, did = Edit(("spec", "ports", i, "appProtocol"), protocol), f"sets appProtocol {protocol}"
    if guess:
        return Fix((edit,), Applicability.UNSAFE,
                   f"{did}: a guess from {where}; check that port {number} serves {protocol.upper()}"), ""
    return Fix((edit,), Applicability.SAFE, f"{did} ({where} says {protocol})"), ""


def _from_container_port(index: Index, svc: Resource, port: dict) -> str | None:
    """The protocol the name of the container port a Service port sends to gives, when every
    workload the Service selects agrees."""
    target = port.get("targetPort", port.get("port"))
    found: set[str] = set()
    for w in index.workloads_of(svc):
        for _, container in w.containers():
            for cport in container.get("ports") or ():
                if not isinstance(cport, dict) or not isinstance(cport.get("name"), str):
                    continue
                if cport.get("containerPort") == target or cport.get("name") == target:
                    protocol = port_protocol(None, cport["name"])
                    known = KNOWN_NAMES.get(cport["name"].lower())
                    found.add(protocol.lower() if protocol != UNSUPPORTED else known or "")
    return (found.pop() or None) if len(found) == 1 else None


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
    fixes=(
        FixKind(Applicability.SAFE,
                "Name the port `<protocol>-<name>` (or set `appProtocol` when that name would not be "
                "valid) when the protocol is known: from the target container port's name, a name or a port "
                "number that says it (`postgres`, 443)."),
        FixKind(Applicability.UNSAFE,
                "The same from a guess (a usual HTTP port such as 8080, a name such as `web`), or an "
                "unknown `appProtocol` replaced by what the port name says: the fix says it is a guess."),
    ),
)
