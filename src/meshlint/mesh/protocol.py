"""Which protocol Istio assigns to a Service port.

Mirrors istio/istio `pkg/config/kube/conversion.go` `ConvertProtocol` and
`pkg/config/protocol/instance.go` `Parse`:

1. `protocol: UDP` -> UDP.
2. A set `appProtocol` is used *instead of* the port name; `kubernetes.io/h2c` -> HTTP2,
   `kubernetes.io/ws` -> HTTP, `kubernetes.io/wss` -> HTTPS.
3. A name (or appProtocol) starting with `grpc-web`, case-insensitive -> GRPC-Web.
4. Otherwise the part before the first `-`, case-insensitive, parsed against Istio's list.
5. Unsupported on the well-known ports 25, 53, 3306, 27017 -> TCP.
Anything else is unsupported: Istio sniffs the protocol.
"""

from __future__ import annotations

UNSUPPORTED = "UnsupportedProtocol"

# pkg/config/protocol/instance.go Parse(): the names Istio recognises, lower-cased.
KNOWN = {
    "tcp": "TCP",
    "udp": "UDP",
    "grpc": "GRPC",
    "grpc-web": "GRPC-Web",
    "http": "HTTP",
    "http_proxy": "HTTP_PROXY",
    "http2": "HTTP2",
    "https": "HTTPS",
    "tls": "TLS",
    "mongo": "Mongo",
    "redis": "Redis",
    "mysql": "MySQL",
}

# Kubernetes' standard appProtocol values (only recognised as appProtocol, never as a name).
K8S_APP_PROTOCOLS = {
    "kubernetes.io/h2c": "HTTP2",
    "kubernetes.io/ws": "HTTP",
    "kubernetes.io/wss": "HTTPS",
}

# pkg/config/kube/conversion.go wellKnownPorts: SMTP, DNS, MySQL, MongoDB.
WELL_KNOWN_TCP_PORTS = frozenset({25, 53, 3306, 27017})


def port_protocol(port: int | None, name: str | None, protocol: str | None = None,
                  app_protocol: str | None = None) -> str:
    """Istio's protocol for a Service port, or UNSUPPORTED when Istio will sniff it."""
    if protocol == "UDP":
        return "UDP"
    label = name or ""
    if app_protocol is not None:
        label = app_protocol
        if label in K8S_APP_PROTOCOLS:
            return K8S_APP_PROTOCOLS[label]
    lowered = label.lower()
    if lowered.startswith("grpc-web"):
        return "GRPC-Web"
    dash = lowered.find("-")
    if dash >= 0:
        lowered = lowered[:dash]
    result = KNOWN.get(lowered, UNSUPPORTED)
    if result == UNSUPPORTED and port in WELL_KNOWN_TCP_PORTS:
        return "TCP"
    return result
