"""A Gateway API route names a Gateway that exists, but none of its listeners accepts the route.

A route's `parentRefs` entry attaches to a Gateway (gateway.networking.k8s.io) only through a
listener that takes it. Per listener, as Istio's conversion decides it (istio/istio
`pilot/pkg/config/kube/gateway/conversion.go`, `referenceAllowed`) and the Gateway API spec
defines it:

- a parentRef `sectionName` must be the listener's `name`, and a `port` its `port`
  (otherwise NoMatchingParent);
- one of the route's `hostnames` must intersect the listener's `hostname`: a listener or a
  route without one takes every name; `*.example.com` covers `a.example.com` and
  `a.b.example.com` but not `example.com` (otherwise NoMatchingListenerHostname);
- the listener's `allowedRoutes.namespaces` must admit the route's namespace: `from: Same`
  (the default: only the Gateway's namespace), `All`, or `Selector`, matched against the
  labels of the route's Namespace (otherwise NotAllowedByListeners);
- the listener must take the route's kind: HTTP and HTTPS listeners take HTTPRoute and
  GRPCRoute, TCP ones TCPRoute, TLS ones in Passthrough mode TLSRoute, all narrowed by
  `allowedRoutes.kinds` (otherwise NotAllowedByListeners).

The route is attached when one listener takes it; otherwise it is reported with the reason
Istio writes into the route's status. HTTPRoute, GRPCRoute, TCPRoute and TLSRoute are checked
(TCPRoute has no hostnames; Istio does not implement UDPRoute).

Unknown is not no (SPEC §2): a parent Gateway that is not in the input is ML102's business
("not in the input") and nothing more is said here; a `Selector` listener is decided only when
the input holds the route's Namespace (or the selector asks only for the name label
`kubernetes.io/metadata.name`, which every Namespace carries); a TLS listener that terminates
TLS takes a TLSRoute only in recent Istio releases, so that pairing is not judged.

## Why it matters
A route that no listener accepts is silently ignored: `kubectl apply` succeeds, the route
exists, and the only trace is a condition in its `status` that nobody reads. Requests for its
hostnames get a 404 from the gateway (or the rules of another route), exactly as with a
VirtualService bound to the wrong Gateway. The most common causes: a route in an application
namespace attached to a shared Gateway whose listeners keep the default `from: Same`, and a
hostname that the listener's wildcard does not cover (`*.example.com` does not cover the apex
`example.com`).

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: "*.example.com"
    tls: {certificateRefs: [{name: wildcard-example-com}]}
    # no allowedRoutes: only routes of namespace infra may attach
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: shop}
spec:
  parentRefs:
  - {name: shared, namespace: infra}
  hostnames: [store.example.com]
  rules:
  - backendRefs: [{name: storefront, port: 8080}]
```

## Fixed example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: "*.example.com"
    tls: {certificateRefs: [{name: wildcard-example-com}]}
    allowedRoutes:
      namespaces:
        from: Selector
        selector:
          matchLabels: {kubernetes.io/metadata.name: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: shop}
spec:
  parentRefs:
  - {name: shared, namespace: infra}
  hostnames: [store.example.com]
  rules:
  - backendRefs: [{name: storefront, port: 8080}]
```

## Fix
Admit the route's namespace in the listener's `allowedRoutes.namespaces` (`from: All`, or a
`Selector` that matches its Namespace), give the route a hostname the listener covers (or the
Gateway a listener for it), point `sectionName`/`port` at a listener that exists, or attach
the route to a listener of the right protocol. `kubectl get httproute NAME -o yaml` shows the
reason in `status.parents[].conditions`.

## References
- istio/istio `pilot/pkg/config/kube/gateway/conversion.go`: `referenceAllowed`, `namespacesFromSelector`
- [Gateway API: HTTPRoute hostnames and parentRefs](https://gateway-api.sigs.k8s.io/api-types/httproute/)
- [Gateway API: Gateway listeners and allowedRoutes](https://gateway-api.sigs.k8s.io/api-types/gateway/)
- [Gateway API: cross-namespace routing](https://gateway-api.sigs.k8s.io/guides/multiple-ns/)
- [Kiali validations: KIA1401, route to a non-existent or inaccessible K8s gateway](https://kiali.io/docs/features/validations/)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh import gatewayapi
from ..mesh.gatewayapi import NO_HOSTNAME, NO_MATCHING_PARENT, Attachment
from ..resource import K8S_GATEWAY, Resource

ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute")


def check(index: Index, options: Options) -> Iterator[Finding]:
    for kind in ROUTE_KINDS:
        for route in index.of_kind(kind):
            hostnames = gatewayapi.route_hostnames(kind, route.spec)
            namespace = index.get("Namespace", "", route.namespace)
            labels = namespace.labels if namespace is not None else None
            for i, parent in enumerate(route.spec.get("parentRefs") or ()):
                if not gatewayapi.is_gateway_parent(parent):
                    continue  # a Service parent (mesh routing): no listeners
                ns = parent.get("namespace") or route.namespace
                gateway = index.get(K8S_GATEWAY, ns, parent.get("name") or "")
                if gateway is None:
                    continue  # ML102
                listeners = [li for li in gateway.spec.get("listeners") or () if isinstance(li, dict)]
                result = gatewayapi.attachment(listeners, gateway.namespace, kind, route.namespace, hostnames,
                                               parent.get("sectionName"), parent.get("port"), labels)
                if result.attached is False:
                    yield _finding(route, i, parent, gateway, listeners, result, hostnames)


def _finding(route: Resource, i: int, parent: Mapping[str, Any], gateway: Resource,
             listeners: Sequence[Mapping[str, Any]], result: Attachment, hostnames: list[str]) -> Finding:
    where = ("spec", "parentRefs", i)
    related = (gateway.ref,)
    values: dict[str, Any] = {"kind": route.kind_name or route.kind, "gateway": f"{gateway.namespace}/{gateway.name}"}
    if result.reason == NO_MATCHING_PARENT:
        asked = []
        if parent.get("sectionName"):
            asked.append(f'sectionName "{parent["sectionName"]}"')
        if parent.get("port") is not None:
            asked.append(f"port {parent['port']}")
        names = ", ".join(str(li.get("name")) for li in listeners) or "none"
        return RULE.finding(NO_LISTENER, route, where, related=related, asked=" and ".join(asked) or "a listener",
                            listeners=names, **values)
    denied = {(d.listener, d.why) for d in result.denials}
    considered = [li for li in listeners if any(str(li.get("name") or "") == name for name, _ in denied)]
    if result.reason == NO_HOSTNAME:
        offered = ", ".join(sorted({str(li.get("hostname") or "*") for li in considered}))
        return RULE.finding(NO_HOSTNAME_MATCH, route, where, related=related, hostnames=", ".join(hostnames),
                            offered=offered, **values)
    by_namespace = [li for li in considered if (str(li.get("name") or ""), "namespace") in denied]
    if by_namespace:
        admits = "; ".join(sorted({_admits(li, gateway.namespace) for li in by_namespace}))
        return RULE.finding(NAMESPACE_NOT_ALLOWED, route, where, related=related, namespace=route.namespace,
                            admits=admits, **values)
    kinds = sorted({k for li in considered for k in gatewayapi.accepted_kinds(li)})
    return RULE.finding(KIND_NOT_ALLOWED, route, where, related=related, accepted=", ".join(kinds) or "no route kind",
                        **values)


def _admits(listener: Mapping[str, Any], gateway_namespace: str) -> str:
    name = listener.get("name")
    allowed = (listener.get("allowedRoutes") or {}).get("namespaces") or {}
    source = allowed.get("from")
    if source == "Selector":
        selector = allowed.get("selector") or {}
        terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
        for e in selector.get("matchExpressions") or ():
            values = f" ({', '.join(map(str, e.get('values') or ()))})" if e.get("values") else ""
            terms.append(f"{e.get('key')} {e.get('operator')}{values}")
        return f"listener {name} admits namespaces labelled {', '.join(terms)}"
    default = "" if source else " (allowedRoutes.namespaces.from defaults to Same)"
    return f"listener {name} admits only namespace {gateway_namespace}{default}"


NAMESPACE_NOT_ALLOWED = Variant(
    "namespace-not-allowed", Severity.ERROR,
    "namespace {namespace} may not attach {kind}s to Gateway {gateway}: {admits}; the route is not "
    "attached there (NotAllowedByListeners)",
    "Admit namespace {namespace} in allowedRoutes.namespaces of a listener of {gateway} (from: All, or a "
    "Selector that matches it).")
NO_HOSTNAME_MATCH = Variant(
    "no-matching-listener-hostname", Severity.ERROR,
    "hostnames {hostnames} intersect no listener hostname of Gateway {gateway} ({offered}); the route is "
    "not attached there (NoMatchingListenerHostname)",
    "Give the {kind} a hostname a listener of {gateway} covers, or add a listener for its hostname.")
NO_LISTENER = Variant(
    "no-matching-listener", Severity.ERROR,
    "parentRef {asked} names no listener of Gateway {gateway} (listeners: {listeners}); the route is not "
    "attached there (NoMatchingParent)",
    "Set the parentRef's sectionName and port to those of a listener of {gateway}.")
KIND_NOT_ALLOWED = Variant(
    "kind-not-allowed", Severity.ERROR,
    "no listener of Gateway {gateway} takes {kind}s (they take {accepted}); the route is not attached "
    "there (NotAllowedByListeners)",
    "Attach the {kind} to a listener of a protocol that takes it, or add that kind to allowedRoutes.kinds.")

RULE = Rule(
    code="ML115",
    name="route-not-attached",
    summary="Gateway API route that no listener of its Gateway accepts",
    inputs=frozenset({"Namespace", K8S_GATEWAY, *ROUTE_KINDS}),
    variants=(NAMESPACE_NOT_ALLOWED, NO_HOSTNAME_MATCH, NO_LISTENER, KIND_NOT_ALLOWED),
    check=check,
    footgun=4,
)
