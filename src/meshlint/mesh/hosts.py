"""Host names, gateway references and how VirtualServices bind to Gateways.

Mirrors istio/istio:
- `pilot/pkg/model/config.go` `resolveGatewayName` (gateway reference forms) and
  `ResolveShortnameToFQDN` (short host -> `<host>.<ns>.svc.cluster.local`);
- `pkg/config/host/name.go` `Name.Matches` (only a leading `*` is a wildcard, it matches any
  prefix, `*` matches everything, `*.a.com` does not match `a.com`);
- `pkg/config/host/names.go` `NamesForNamespace` and the analyzer's
  `sanitizeServerHostNamespace` (server hosts `[ns/]dnsName`, no prefix = `*/`, `./` = the
  Gateway's own namespace).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MESH_GATEWAY = "mesh"
DOMAIN = "cluster.local"


def service_fqdn(name: str, namespace: str, domain: str = DOMAIN) -> str:
    """The cluster-local name of Service `name` in `namespace`: `name.namespace.svc.<domain>`."""
    return f"{name}.{namespace}.svc.{domain}"


def resolve_gateway(reference: str, namespace: str) -> tuple[str, str]:
    """A VirtualService `gateways:` entry -> (namespace, name) of the Gateway it names.

    `name` -> the VirtualService's namespace; `ns/name`; `./name`; legacy
    `name.ns[.svc.cluster.local]` -> (ns, name)."""
    if "/" not in reference:
        if "." not in reference:
            return namespace, reference
        name, _, rest = reference.partition(".")
        return rest.split(".", 1)[0], name
    ns, _, name = reference.partition("/")
    return (namespace if ns == "." else ns), name


def expand_host(host: str, namespace: str, domain: str = DOMAIN) -> str:
    """Istio's ResolveShortnameToFQDN: a host without a dot is a Service in `namespace`."""
    if not host or host == "*" or "." in host or _is_ip(host):
        return host
    return service_fqdn(host, namespace, domain)


def _is_ip(host: str) -> bool:
    if ":" not in host and not host.replace(".", "").isdigit():
        return False  # the common case, without the cost of ipaddress
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def matches(a: str, b: str) -> bool:
    """Istio's host.Name.Matches: do the two (possibly wildcard) names overlap?"""
    a_wild, b_wild = a.startswith("*"), b.startswith("*")
    if a_wild and b_wild:
        return b[1:].endswith(a[1:]) if len(a) < len(b) else a[1:].endswith(b[1:])
    if a_wild:
        return b.endswith(a[1:])
    if b_wild:
        return a.endswith(b[1:])
    return a == b


def split_server_host(host: str, gateway_namespace: str) -> tuple[str, str]:
    """A Gateway server host -> (namespace allowed to bind, DNS name). `*` = any namespace."""
    if "/" not in host:
        return "*", host
    ns, _, name = host.partition("/")
    return (gateway_namespace if ns == "." else ns), name


def visible_server_hosts(server_hosts: Iterable[str], gateway_namespace: str, namespace: str) -> list[str]:
    """The DNS names of a Gateway's server hosts that a VirtualService in `namespace` may bind
    to (Istio's NamesForNamespace)."""
    out = []
    for raw in server_hosts:
        ns, name = split_server_host(raw, gateway_namespace)
        if ns == "*" or ns == namespace:
            out.append(name)
    return out


def _server_tls_mode(server: Mapping[str, Any]) -> str:
    tls = server.get("tls")
    mode = tls.get("mode") if isinstance(tls, dict) else None
    return mode.upper() if isinstance(mode, str) else ""


def routes_virtual_services(server: Mapping[str, Any]) -> bool:
    """Does a Gateway server route by VirtualServices? Not with `tls.mode: AUTO_PASSTHROUGH`
    (the east-west gateway of a multi-cluster mesh): it forwards by SNI, whose name encodes the
    destination service, subset and port, and never consults a VirtualService (istio/api
    `networking/v1alpha3/gateway.proto`, ServerTLSSettings AUTO_PASSTHROUGH)."""
    return _server_tls_mode(server) != "AUTO_PASSTHROUGH"


def accepts_external_clients(server: Mapping[str, Any]) -> bool:
    """Can clients outside the mesh connect to a Gateway server? Not with `tls.mode:
    ISTIO_MUTUAL`: it requires a client certificate issued by the mesh's CA, so only workloads
    with a sidecar reach it (an egress gateway, or a gateway between meshed workloads; istio/api
    `networking/v1alpha3/gateway.proto`, ServerTLSSettings ISTIO_MUTUAL)."""
    return _server_tls_mode(server) != "ISTIO_MUTUAL"


def is_cluster_local(host: str, domain: str = DOMAIN) -> bool:
    """Names that only resolve inside the cluster: short names, `*.svc`, `*.svc.<domain>`,
    `*.<domain>`."""
    if host in ("", "*"):
        return False
    if "." not in host:
        return True
    return host.endswith((".svc", f".svc.{domain}", f".{domain}"))
