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


class ServerHosts:
    """The hosts of a Gateway's servers (`[namespace/]name`), by name, with the namespaces of the
    VirtualServices each admits (Istio's NamesForNamespace): a VirtualService host is looked up,
    not compared with every server host, since one shared Gateway may serve thousands."""

    def __init__(self, server_hosts: Iterable[str], gateway_namespace: str) -> None:
        self._exact: dict[str, set[str]] = {}  # name -> the namespaces it admits ("*": any)
        self._wildcards: list[tuple[str, str]] = []  # (namespace, "*.name")
        for raw in server_hosts:
            ns, name = split_server_host(raw, gateway_namespace)
            if name.startswith("*"):
                self._wildcards.append((ns, name))
            else:
                self._exact.setdefault(name, set()).add(ns)
        self.names = sorted(set(self._exact) | {name for _, name in self._wildcards})

    def admitting(self, host: str) -> set[str]:
        """The namespaces ("*": any) admitted by the server hosts that overlap `host`."""
        if host.startswith("*"):  # (rare in a VirtualService: compared with every name)
            found = {ns for name, namespaces in self._exact.items() if matches(name, host) for ns in namespaces}
        else:
            found = set(self._exact.get(host, ()))
        return found | {ns for ns, name in self._wildcards if matches(name, host)}


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
