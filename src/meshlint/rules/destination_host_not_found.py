"""A route or mirror sends traffic to a host or port that does not exist.

Every `destination` of a VirtualService route (http, tcp, tls) and every `mirror` must name a
host of the service registry that the VirtualService's namespace can see: a Kubernetes Service
or a ServiceEntry host, exported to that namespace (the Service annotation
`networking.istio.io/exportTo`, the ServiceEntry's `exportTo`; when the VirtualService sets
`exportTo`, the namespaces it is exported to). A short host means the Service of that name *in
the VirtualService's namespace*; `name.namespace` is not expanded at all. A `port` must be one
of the host's ports. Same check as `istioctl analyze` IST0101 (host, mirror host, host:port)
and IST0112, and Kiali KIA1101 (istio/istio
`pkg/config/analysis/analyzers/virtualservice/destinationhosts.go`).

Without a `port`, Istio sends to the port the request arrived on (the called Service's port,
or the gateway server's) unless the host has a single port (istio/istio
`pilot/pkg/networking/core/route/route.go`, `GetDestinationCluster`). So a host with several
ports needs a port selector only when the request can arrive on a port the host does not have:
that is an error when the input shows such a port, a warning when the ports it arrives on are
not in the input. (istioctl reports every such destination, even when the VirtualService's host
*is* that Service and every request arrives on one of its ports.)

Files rarely hold the whole cluster (SPEC §2). A host is reported missing (an error) only when
it is a cluster-local Service host and the input holds Services of its namespace; any other
cluster-local host no Service of the input defines is "not in the input" (a warning), and an
external host no ServiceEntry of the input declares is said so (info: ServiceEntries are often
kept apart). Both are settled by `known-hosts` in `.meshlint.yaml`.

## Why it matters
Envoy has no cluster for a host outside the registry: every request routed there fails at once
with `503` (`NC`, no cluster), and a mirror to it silently mirrors nothing. The usual causes are
a typo, a short name written in the wrong namespace (`reviews` in namespace `frontend` means
`reviews.frontend.svc.cluster.local`), and `reviews.shop`, which Kubernetes DNS resolves but
Istio does not expand.

## Example
```yaml
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews.shop}   # Istio does not expand name.namespace
```

## Fixed example
```yaml
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews.shop.svc.cluster.local}
```

## Fix
Name the destination by its full host (`reviews.shop.svc.cluster.local`), create the Service
or a ServiceEntry for an external host, export it to the VirtualService's namespace, or list a
host defined elsewhere under `known-hosts`. Give a destination with several ports a
`port: {number: ...}`.

## References
- istio/istio `pkg/config/analysis/analyzers/virtualservice/destinationhosts.go`: `istioctl analyze` IST0101 and IST0112
- istio/istio `pkg/config/analysis/analyzers/util/service_lookup.go`: which hosts a namespace sees
- istio/istio `pilot/pkg/networking/core/route/route.go`: the port used when a destination names none
- [VirtualService: Destination](https://istio.io/latest/docs/reference/config/networking/virtual-service/#Destination)
- [IST0112](https://istio.io/latest/docs/reference/config/analysis/ist0112/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh import routes
from ..mesh.hosts import MESH_GATEWAY, expand_host, is_cluster_local, resolve_gateway
from ..mesh.registry import FOUND, HIDDEN, KNOWN, MISSING, SHORTHAND, cluster_local_parts
from ..resource import Resource


def check(index: Index, options: Options) -> Iterator[Finding]:
    domain = index.facts.domain
    for vs in index.of_kind("VirtualService"):
        export_to = tuple(e for e in vs.spec.get("exportTo") or () if isinstance(e, str))
        arriving: set[int] | None = None
        arriving_known = False
        for dest in routes.destinations(vs):
            what = "mirror" if dest.mirror else "destination"
            where = dest.path + ("host",)
            found = index.resolve_host(dest.host, vs.namespace, export_to)
            if found.state == KNOWN:
                continue
            if found.state == HIDDEN:
                owner = found.hidden[0].resource
                yield RULE.finding(HOST_NOT_EXPORTED, vs, where, related=(owner.ref,), what=what, host=dest.host,
                                   owner=owner.display(), ns=_asking(vs.namespace, export_to))
                continue
            if found.state == SHORTHAND:
                svc = found.hidden[0].resource
                yield RULE.finding(SHORTHAND_HOST, vs, where, related=(svc.ref,), what=what, host=dest.host,
                                   service=f"{svc.namespace}/{svc.name}", full=found.hidden[0].host)
                continue
            if found.state == MISSING:
                name, ns = cluster_local_parts(found.fqdn, domain) or ("", "")
                yield RULE.finding(MISSING_HOST, vs, where, what=what, host=dest.host, name=name, ns=ns,
                                   fqdn=found.fqdn)
                continue
            if found.state != FOUND or found.entry is None:
                if is_cluster_local(found.fqdn, domain):
                    yield RULE.finding(HOST_NOT_IN_INPUT, vs, where, what=what, host=dest.host)
                elif not _own_egress_host(vs, found.fqdn, domain):  # ML104 reports it
                    yield RULE.finding(EXTERNAL_HOST_NOT_IN_INPUT, vs, where, what=what, host=dest.host)
                continue
            entry = found.entry
            ports = ", ".join(map(str, entry.ports))
            if dest.port is not None:
                if entry.ports and dest.port not in entry.ports:
                    yield RULE.finding(PORT_NOT_FOUND, vs, dest.path + ("port",), related=(entry.resource.ref,),
                                       what=what, port=dest.port, host=dest.host, owner=entry.resource.display(),
                                       ports=ports)
                continue
            if len(entry.ports) < 2:
                continue
            if not arriving_known:
                arriving, arriving_known = _arriving_ports(index, vs, export_to), True
            if arriving is None:
                yield RULE.finding(PORT_SELECTOR_REQUIRED, vs, where, related=(entry.resource.ref,), what=what,
                                   host=dest.host, ports=ports)
                continue
            stray = sorted(arriving - set(entry.ports))
            if stray:
                yield RULE.finding(PORT_NOT_ON_HOST, vs, where, related=(entry.resource.ref,), what=what,
                                   host=dest.host, ports=ports, arriving=", ".join(map(str, stray)))


def _own_egress_host(vs: Resource, fqdn: str, domain: str) -> bool:
    """Is the host one of the VirtualService's own, on the mesh only (egress routing)?"""
    return routes.is_mesh_only(vs) and any(
        isinstance(h, str) and expand_host(h, vs.namespace, domain) == fqdn for h in vs.spec.get("hosts") or ())


def _arriving_ports(index: Index, vs: Resource, export_to: tuple[str, ...]) -> set[int] | None:
    """The ports requests reach this VirtualService's routes on (Istio's listener port): the
    ports of the Services its hosts name (for sidecars), and the server ports of its Gateways
    that serve its hosts. None when one of them is not in the input."""
    out: set[int] = set()
    gateways = routes.gateways(vs)
    hosts = [h for h in vs.spec.get("hosts") or () if isinstance(h, str)]
    if not hosts:
        return None
    if not gateways or MESH_GATEWAY in gateways:
        for host in hosts:
            found = index.resolve_host(host, vs.namespace, export_to)
            if found.state != FOUND or found.entry is None or not found.entry.ports:
                return None
            out.update(found.entry.ports)
    for ref in gateways:
        if ref == MESH_GATEWAY:
            continue
        ns, name = resolve_gateway(ref, vs.namespace)
        gateway = index.get("Gateway", ns, name)
        if gateway is None:
            return None
        servers = gateway.spec.get("servers") or ()
        for host in hosts:
            fqdn = expand_host(host, vs.namespace, index.facts.domain)
            for bound in index.gateway_hosts_matching(fqdn, vs.namespace):
                if bound.gateway is not gateway:
                    continue
                server = servers[bound.server]
                number = (server.get("port") or {}).get("number") if isinstance(server, dict) else None
                if not isinstance(number, int):
                    return None
                out.add(number)
    return out


def _asking(namespace: str, export_to: tuple[str, ...]) -> str:
    """The namespaces a resource names hosts from: its own, or those of its exportTo."""
    if not export_to:
        return f"namespace {namespace}"
    return "its exportTo namespaces (" + ", ".join(namespace if e == "." else e for e in export_to) + ")"


MISSING_HOST = Variant(
    "missing-host", Severity.ERROR,
    "{what} host {host} is not found: namespace {ns} has no Service {name} (the input holds that "
    "namespace's Services); requests sent there fail with 503",
    "Fix the host, create Service {ns}/{name}, or add {fqdn} to known-hosts if it is defined elsewhere.")
HOST_NOT_EXPORTED = Variant(
    "host-not-exported", Severity.ERROR,
    "{what} host {host} ({owner}) is not exported to {ns}, so it is not found there; requests "
    "sent there fail with 503",
    "Export {owner} to {ns}, or route to a host exported there.")
SHORTHAND_HOST = Variant(
    "shorthand-host", Severity.ERROR,
    "{what} host {host} names no service: Istio expands only names without a dot, so it is not "
    "Service {service}; requests sent there fail with 503",
    "Write the host in full: {full}.")
HOST_NOT_IN_INPUT = Variant(
    "host-not-in-input", Severity.WARNING,
    "{what} host {host} is not in the input (no Service or ServiceEntry defines it); if it does not "
    "exist, requests sent there fail with 503",
    "Check the input with the files that define {host}, add a ServiceEntry for an external host, or "
    "list it under known-hosts.")
EXTERNAL_HOST_NOT_IN_INPUT = Variant(
    "external-host-not-in-input", Severity.INFO,
    "{what} host {host} is declared by no ServiceEntry in the input; unless one elsewhere declares it, "
    "requests sent there fail with 503",
    "Add a ServiceEntry for {host}, check the input with the file that declares it, or list it under "
    "known-hosts.")
PORT_NOT_FOUND = Variant(
    "port-not-found", Severity.ERROR,
    "{what} port {port} is not a port of {host} ({owner} has {ports}); requests sent there fail with 503",
    "Route to one of the ports of {host} ({ports}).")
PORT_NOT_ON_HOST = Variant(
    "port-not-on-host", Severity.ERROR,
    "{what} {host} names no port and has several ({ports}): Istio sends each request to the port it "
    "arrived on, and requests arriving on {arriving} fail with 503",
    "Set the destination's port.number to the port of {host} to send to.")
PORT_SELECTOR_REQUIRED = Variant(
    "port-selector-required", Severity.WARNING,
    "{what} {host} names no port and has several ({ports}): Istio sends each request to the port it "
    "arrived on, and the ports requests arrive on are not all in the input",
    "Set the destination's port.number to the port of {host} to send to.")

RULE = Rule(
    code="ML106",
    name="destination-host-not-found",
    summary="Route or mirror destination host or port that does not exist",
    inputs=frozenset({"VirtualService", "Service", "ServiceEntry", "Gateway"}),
    variants=(MISSING_HOST, HOST_NOT_EXPORTED, SHORTHAND_HOST, PORT_NOT_FOUND, PORT_NOT_ON_HOST,
              HOST_NOT_IN_INPUT, PORT_SELECTOR_REQUIRED, EXTERNAL_HOST_NOT_IN_INPUT),
    check=check,
    istio_codes=frozenset({"IST0101", "IST0112"}),  # ReferencedResourceNotFound (host), port selector required
)
