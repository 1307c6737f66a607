"""A VirtualService is bound to a Gateway that serves none of its hosts.

For every Gateway a VirtualService names (that exists), at least one of the VirtualService's
hosts must match a host of one of the Gateway's servers, and the server host must let the
VirtualService's namespace bind: a server host is `[namespace/]dnsName`, where no prefix (or
`*/`) allows every namespace and `./` only the Gateway's own. Short VirtualService hosts are
expanded to `<host>.<namespace>.svc.cluster.local` first, as Istio does. Wildcards: only a
leading `*`; `*.example.com` matches `api.example.com` but not `example.com`; `*` matches
everything (istio/istio `pkg/config/host/name.go`). Same check as `istioctl analyze` IST0132.

## Why it matters
The gateway proxy only picks up VirtualService hosts its servers expose. When none match, the
binding is silently dropped: the ingress answers 404 for the host while in-mesh traffic, which
does not go through the gateway, keeps working, so the problem shows up only from outside.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["shop/*.example.com"]      # only namespace shop may bind
    tls: {mode: SIMPLE, credentialName: shop-cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: payments}
spec:
  hosts: [api.example.com]
  gateways: [istio-system/public]      # payments is not allowed by "shop/"
  http:
  - route: [{destination: {host: api}}]
```

## Fix
Add the VirtualService's host to a server of the Gateway (with a namespace prefix that admits
the VirtualService's namespace), or bind the VirtualService to the Gateway that serves it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant, some_of
from ..index import Index
from ..mesh.hosts import MESH_GATEWAY, ServerHosts, expand_host, resolve_gateway
from ..resource import Ref


def check(index: Index, options: Options) -> Iterator[Finding]:
    domain = index.facts.domain
    servers_of: dict[Ref, ServerHosts] = {}  # once per Gateway: many VirtualServices may bind one
    for vs in index.of_kind("VirtualService"):
        vs_hosts = [expand_host(h, vs.namespace, domain) for h in vs.spec.get("hosts") or ()]
        for i, ref in enumerate(vs.spec.get("gateways") or ()):
            if ref == MESH_GATEWAY:
                continue
            ns, name = resolve_gateway(ref, vs.namespace)
            gw = index.get("Gateway", ns, name)
            if gw is None:
                continue  # ML102
            servers = servers_of.get(gw.ref)
            if servers is None:
                servers = servers_of[gw.ref] = ServerHosts(
                    (h for server in gw.spec.get("servers") or () for h in server.get("hosts") or ()), gw.namespace)
            admitted = {ns for h in vs_hosts for ns in servers.admitting(h)}
            if "*" in admitted or vs.namespace in admitted:
                continue
            written = list(vs.spec.get("hosts") or ())
            shown = f"host {written[0]} is" if len(written) == 1 else f"hosts {', '.join(written) or '(none)'} are"
            if admitted:
                why = (f"its servers offer the matching host only to namespace {some_of(sorted(admitted))}, "
                       f"not {vs.namespace}")
            else:
                why = f"it serves {some_of(servers.names) or 'no hosts'}"
            yield RULE.finding(HOST_NOT_SERVED, vs, ("spec", "gateways", i), related=(gw.ref,),
                               hosts=shown, gateway=f"{gw.namespace}/{gw.name}", why=why)


HOST_NOT_SERVED = Variant(
    "host-not-served", Severity.WARNING,
    "{hosts} not served by Gateway {gateway} ({why}); the gateway drops this binding",
    "Add the host to a server of {gateway} with a namespace prefix that admits this VirtualService, "
    "or drop {gateway} from spec.gateways.")

RULE = Rule(
    code="ML103",
    name="host-not-in-gateway",
    summary="VirtualService host not served by its Gateway",
    inputs=frozenset({"VirtualService", "Gateway"}),
    variants=(HOST_NOT_SERVED,),
    check=check,
    istio_codes=frozenset({"IST0132"}),  # VirtualServiceHostNotFoundInGateway
    footgun=4,
)
