"""A VirtualService is bound to a Gateway that serves none of its hosts.

For every Gateway a VirtualService names (that exists), at least one of the VirtualService's
hosts must match a host of one of the Gateway's servers, and the server host must let the
VirtualService's namespace bind: a server host is `[namespace/]dnsName`, where no prefix (or
`*/`) allows every namespace and `./` only the Gateway's own. Short VirtualService hosts are
expanded to `<host>.<namespace>.svc.cluster.local` first, as Istio does. Wildcards: only a
leading `*`; `*.example.com` matches `api.example.com` but not `example.com`; `*` matches
everything (istio/istio `pkg/config/host/name.go`). Same check as `istioctl analyze` IST0132
(istio/istio `pkg/config/analysis/analyzers/virtualservice/gateways.go`).

A VirtualService may also bind to a Gateway API `Gateway` (gateway.networking.k8s.io) of the
name it gives (when no Istio Gateway has that name): its hosts must then match the `hostname`
of one of the Gateway's listeners, and a listener without a hostname accepts every host, as
the analyzer's `vsHostInKubernetesGateway` decides.

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

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts:
    - "shop/*.example.com"
    - "payments/api.example.com"       # admits this VirtualService
    tls: {mode: SIMPLE, credentialName: shop-cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: payments}
spec:
  hosts: [api.example.com]
  gateways: [istio-system/public]
  http:
  - route: [{destination: {host: api}}]
```

## Fix
Add the VirtualService's host to a server of the Gateway (with a namespace prefix that admits
the VirtualService's namespace), or bind the VirtualService to the Gateway that serves it.

## References
- istio/istio `pkg/config/host/name.go`: host and wildcard matching
- istio/istio `pkg/config/analysis/analyzers/virtualservice/gateways.go`: `istioctl analyze` IST0132
  (`vsHostInGateway`, and `vsHostInKubernetesGateway` for a Gateway API Gateway)
- [Gateway: servers and hosts](https://istio.io/latest/docs/reference/config/networking/gateway/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant, some_of
from ..fix import edits
from ..index import Index
from ..mesh.hosts import MESH_GATEWAY, ServerHosts, expand_host, matches, resolve_gateway
from ..resource import K8S_GATEWAY, FieldPath, Ref, Resource


def check(index: Index, options: Options) -> Iterator[Finding]:
    domain = index.facts.domain
    servers_of: dict[Ref, ServerHosts] = {}  # once per Gateway: many VirtualServices may bind one
    serving_of: dict[tuple, list[str]] = {}  # the Gateways serving hosts, once per hosts (the fix)
    for vs in index.of_kind("VirtualService"):
        vs_hosts = [expand_host(h, vs.namespace, domain) for h in vs.spec.get("hosts") or ()]
        for i, ref in enumerate(vs.spec.get("gateways") or ()):
            if ref == MESH_GATEWAY:
                continue
            ns, name = resolve_gateway(ref, vs.namespace)
            gw = index.get("Gateway", ns, name)
            if gw is None:
                k8s_gateway = index.get(K8S_GATEWAY, ns, name)
                if k8s_gateway is not None:
                    yield from _listeners_serve(vs, vs_hosts, k8s_gateway, ("spec", "gateways", i))
                continue  # else ML102
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
            fix, unfixable = None, ""
            try:
                fix = edits.bind_gateway(index, vs, i, serving_of)
            except edits.NoFix as exc:
                unfixable = str(exc)
            yield RULE.finding(HOST_NOT_SERVED, vs, ("spec", "gateways", i), related=(gw.ref,),
                               hosts=shown, gateway=f"{gw.namespace}/{gw.name}", why=why, autofix=fix,
                               unfixable=unfixable)


def _listeners_serve(vs: Resource, vs_hosts: list[str], gateway: Resource, path: FieldPath) -> Iterator[Finding]:
    """A VirtualService bound to a Gateway API Gateway: one of its hosts must match a listener's
    hostname; a listener without one accepts every host (vsHostInKubernetesGateway)."""
    listeners = [li for li in gateway.spec.get("listeners") or () if isinstance(li, dict)]
    hostnames: list[str] = [li.get("hostname") or "" for li in listeners]
    if not listeners or not all(hostnames):
        return  # a listener without a hostname matches all hosts (no listeners: not this rule's)
    if any(matches(h, v) for h in hostnames for v in vs_hosts):
        return
    written = list(vs.spec.get("hosts") or ())
    shown = f"host {written[0]} is" if len(written) == 1 else f"hosts {', '.join(written) or '(none)'} are"
    yield RULE.finding(HOST_NOT_IN_LISTENERS, vs, path, related=(gateway.ref,), hosts=shown,
                       gateway=f"{gateway.namespace}/{gateway.name}",
                       accepted=", ".join(sorted(set(hostnames))))


HOST_NOT_SERVED = Variant(
    "host-not-served", Severity.WARNING,
    "{hosts} not served by Gateway {gateway} ({why}); the gateway drops this binding",
    "Add the host to a server of {gateway} with a namespace prefix that admits this VirtualService, "
    "or drop {gateway} from spec.gateways.")

HOST_NOT_IN_LISTENERS = Variant(
    "host-not-in-listeners", Severity.WARNING,
    "{hosts} not served by Gateway API Gateway {gateway} (its listeners accept only {accepted}); "
    "the gateway drops this binding",
    "Give {gateway} a listener whose hostname matches the host, or drop {gateway} from spec.gateways.")

RULE = Rule(
    code="ML103",
    name="host-not-in-gateway",
    summary="VirtualService host not served by its Gateway",
    inputs=frozenset({"VirtualService", "Gateway", K8S_GATEWAY}),
    variants=(HOST_NOT_SERVED, HOST_NOT_IN_LISTENERS),
    check=check,
    istio_codes=frozenset({"IST0132"}),  # VirtualServiceHostNotFoundInGateway
    footgun=4,
    fixes=(edits.BIND_GATEWAY_FIX,),
)
