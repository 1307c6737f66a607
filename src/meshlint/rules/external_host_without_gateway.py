"""A mesh-only VirtualService routes a host that a Gateway serves.

A VirtualService without `gateways:` (or with only `mesh`) applies to sidecars only (istio/istio
`pilot/pkg/model/push_context.go`, `getGatewayNames`: no gateways means `mesh`). When one
of its hosts is served by an Istio Gateway in the input (a server host that matches it and
admits the VirtualService's namespace), requests that enter through that gateway do not see
these rules at all. A Gateway server that accepts any host (`*`) counts only for hosts that
are neither cluster-local nor declared by a ServiceEntry: a catch-all server is no reason to
expose the in-mesh routing of `reviews`, or the egress routing of `api.github.com`. A server
with `tls.mode: AUTO_PASSTHROUGH` (a multi-cluster east-west gateway serving `*.local`) counts
for nothing: it forwards by SNI and never consults a VirtualService.

With severity info instead: the host is not cluster-local, no Gateway serves it and no
ServiceEntry declares it. Routing egress traffic this way can be intended, but without a
ServiceEntry the host is not in Istio's registry (and with `outboundTrafficPolicy:
REGISTRY_ONLY` the traffic is blocked).

## Why it matters
This is the intermittent bug: the same request behaves differently depending on where it
comes from. In-mesh callers get the retries, canary split and fault injection of the
VirtualService; external callers through the ingress get the Gateway's default routing (or
another VirtualService's), so a canary receives no external traffic or a timeout is missing
only for users.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: storefront, namespace: shop}
spec:
  hosts: [shop.example.com]   # istio-system/public serves it; not bound to it
  http:
  - timeout: 5s
    route:
    - destination: {host: frontend}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: storefront, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/public, mesh]   # the gateway, and in-mesh callers
  http:
  - timeout: 5s
    route:
    - destination: {host: frontend}
```

## Fix
Bind the VirtualService to the Gateway (`gateways: [istio-system/public, mesh]` keeps it for
in-mesh callers too), or declare an external host with a ServiceEntry.

## References
- istio/istio `pilot/pkg/model/push_context.go`: a VirtualService without gateways binds to `mesh`
- [VirtualService: gateways](https://istio.io/latest/docs/reference/config/networking/virtual-service/)
- [Ingress Gateways](https://istio.io/latest/docs/tasks/traffic-management/ingress/ingress-control/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Applicability, Edit, Finding, Fix, FixKind, Options, Rule, Severity, Variant, some_of
from ..index import Index
from ..mesh import routes
from ..mesh.hosts import MESH_GATEWAY, expand_host, is_cluster_local, service_fqdn
from ..resource import Ref, Resource


def check(index: Index, options: Options) -> Iterator[Finding]:
    domain = index.facts.domain
    # once per host and namespace: many VirtualServices may name one host
    seen: dict[tuple[str, str], tuple[bool, bool, tuple[Ref, ...], list[str]]] = {}
    for vs in index.of_kind("VirtualService"):
        if not routes.is_mesh_only(vs):
            continue
        serving: list[list[str]] = []  # per host, the Gateways that serve it: one fix binds them all
        bypassed: list[tuple[int, str, list[str], tuple[Ref, ...]]] = []
        for i, host in enumerate(vs.spec.get("hosts") or ()):
            if host == "*":
                continue
            fqdn = expand_host(host, vs.namespace, domain)
            found = seen.get((fqdn, vs.namespace))
            if found is None:
                found = seen[(fqdn, vs.namespace)] = _gateways_serving(index, fqdn, vs.namespace)
            local, declared, related, gateways = found
            if gateways:
                serving.append(gateways)
                bypassed.append((i, host, gateways, related))
            elif not local and not declared and not index.facts.is_known_host(fqdn):
                yield RULE.finding(UNDECLARED_EGRESS_HOST, vs, ("spec", "hosts", i), host=host)
        fix, why = _bind(vs, serving) if bypassed else (None, "")
        for i, host, gateways, related in bypassed:
            yield RULE.finding(GATEWAY_BYPASSED, vs, ("spec", "hosts", i), related=related, host=host,
                               gateways=some_of(gateways), first=gateways[0], autofix=fix, unfixable=why)


# The most Gateways one fix binds: past a few, which of them are meant is a choice (and a fix
# naming every one of thousands would cost each VirtualService their whole list).
MAX_GATEWAYS_BOUND = 5


def _bind(vs: Resource, serving: list[list[str]]) -> tuple[Fix | None, str]:
    """SPEC §5: add the Gateways serving the hosts (`serving`: per host, sorted) and `mesh`
    (which keeps the in-mesh callers) to `spec.gateways`. Unsafe: the gateway's traffic then
    follows these routes. (None, why) when too many Gateways serve them."""
    most = max(len(found) for found in serving)
    gateways = sorted({g for found in serving for g in found}) if most <= MAX_GATEWAYS_BOUND else []
    if not gateways or len(gateways) > MAX_GATEWAYS_BOUND:
        count = len(gateways) or most
        return None, f"{count:,} Gateways serve its hosts: which of them are meant is a choice"
    existing = vs.spec.get("gateways")
    if existing:  # only `mesh`: the Gateways go before it
        changes = tuple(Edit(("spec", "gateways", k), name, insert=True) for k, name in enumerate(gateways))
    else:
        changes = (Edit(("spec", "gateways"), [*gateways, MESH_GATEWAY]),)
    return Fix(changes, Applicability.UNSAFE,
               f"binds the VirtualService to {', '.join(gateways)} and mesh: traffic entering through the gateway "
               "then follows these routes too"), ""


def _gateways_serving(index: Index, fqdn: str, namespace: str) -> tuple[bool, bool, tuple[Ref, ...], list[str]]:
    """Whether `fqdn` is cluster-local, whether a ServiceEntry declares it, and the Gateways that
    serve it to a VirtualService in `namespace` (refs, and `ns/name` sorted)."""
    domain = index.facts.domain
    local = is_cluster_local(fqdn, domain) or _names_service(index, fqdn)
    declared = not local and bool(index.service_entries_for(fqdn))
    # a catch-all "*" server is no evidence that clients reach a cluster-local or
    # ServiceEntry (egress) host through the gateway
    served = [e for e in index.gateway_hosts_matching(fqdn, namespace) if not (e.host == "*" and (local or declared))]
    related = tuple(dict.fromkeys(e.gateway.ref for e in served))
    return local, declared, related, sorted({f"{e.gateway.namespace}/{e.gateway.name}" for e in served})


def _names_service(index: Index, host: str) -> bool:
    """`name.ns` (or `name.ns.svc`) naming a Service in the input is cluster-local too."""
    parts = host.split(".")
    return len(parts) in (2, 3) and (len(parts) == 2 or parts[2] == "svc") and \
        index.service_for_host(service_fqdn(parts[0], parts[1], index.facts.domain)) is not None


GATEWAY_BYPASSED = Variant(
    "gateway-bypassed", Severity.WARNING,
    "host {host} is served by Gateway {gateways}, but this VirtualService is not bound to it: "
    "traffic entering through the gateway ignores these routes while in-mesh traffic follows them",
    "Add {first} (and mesh, to keep in-mesh callers) to spec.gateways.")
UNDECLARED_EGRESS_HOST = Variant(
    "undeclared-egress-host", Severity.INFO,
    "host {host} is not a cluster Service, and no Gateway or ServiceEntry in the input serves or "
    "declares it; unless one elsewhere does, these mesh-only routes apply to egress traffic only",
    "Declare the host with a ServiceEntry if this is egress routing (or list it under known-hosts), "
    "or bind the VirtualService to the Gateway that should serve it.")

RULE = Rule(
    code="ML104",
    name="external-host-without-gateway",
    summary="Mesh-only VirtualService for a host a Gateway serves",
    inputs=frozenset({"VirtualService", "Gateway", "ServiceEntry", "Service"}),
    variants=(GATEWAY_BYPASSED, UNDECLARED_EGRESS_HOST),
    check=check,
    footgun=4,
    fixes=(
        FixKind(Applicability.UNSAFE,
                "Add the Gateways that serve the host (at most five: which of more is meant is a choice), "
                "and `mesh`, to `gateways`: the gateway's traffic then follows these routes too."),
    ),
)
