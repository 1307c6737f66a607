"""A Gateway API route sends traffic to a Service of another namespace that no ReferenceGrant permits.

A `backendRefs` entry with a `namespace` other than the route's crosses a namespace boundary,
which the owner of the target namespace must allow: a ReferenceGrant in the *backend's*
namespace whose `from` names the route's kind (group `gateway.networking.k8s.io`) and
namespace, and whose `to` names `Service` (core group; with a `name`, only that Service).
Without one the implementation refuses the reference: Istio's conversion drops the backend
and sets the route's ResolvedRefs condition to RefNotPermitted (istio/istio
`pilot/pkg/config/kube/gateway/conversion.go` `buildDestination`, and
`pilot/pkg/config/kube/gateway/references_collection.go` `BackendAllowed`).

Istio enforces this for routes attached to a Gateway, not for mesh (GAMMA) routes whose only
parents are Services, so only routes with a Gateway parent are checked. HTTPRoute, GRPCRoute,
TCPRoute and TLSRoute are checked.

Unknown is not no (SPEC §2): the ReferenceGrant lives in the backend's namespace, often
managed by another team. When the input holds nothing of that namespace, the grant is "not
in the input" (a warning), not missing.

## Why it matters
The route is accepted and looks healthy, but requests that its rule sends to the refused
backend get HTTP 500 from the gateway (for a weighted split, that share of the requests; a
TCPRoute's or TLSRoute's connections fail), as the Gateway API requires for an invalid
backendRef. The only trace is `ResolvedRefs: False, RefNotPermitted` in the route's status. It typically
appears when an application team moves a Service to its own namespace and keeps the route.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: web}
spec:
  parentRefs: [{name: public, namespace: infra}]
  hostnames: [store.example.com]
  rules:
  - backendRefs:
    - {name: catalog, namespace: shop, port: 8080}   # shop has not granted it
---
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec:
  selector: {app: catalog}
  ports: [{name: http, port: 8080}]
```

## Fixed example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: web}
spec:
  parentRefs: [{name: public, namespace: infra}]
  hostnames: [store.example.com]
  rules:
  - backendRefs:
    - {name: catalog, namespace: shop, port: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec:
  selector: {app: catalog}
  ports: [{name: http, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: web-routes, namespace: shop}
spec:
  from:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}
  to:
  - {group: "", kind: Service, name: catalog}
```

## Fix
Create a ReferenceGrant in the backend's namespace that lets routes of this kind from the
route's namespace reference the Service, or move the route (or the Service) so that they
share a namespace.

## References
- istio/istio `pilot/pkg/config/kube/gateway/conversion.go`: `buildDestination`, RefNotPermitted
- istio/istio `pilot/pkg/config/kube/gateway/references_collection.go`: ReferenceGrants `BackendAllowed`
- [Gateway API: ReferenceGrant](https://gateway-api.sigs.k8s.io/api-types/referencegrant/)
- [Gateway API: cross-namespace routing](https://gateway-api.sigs.k8s.io/guides/multiple-ns/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh import gatewayapi, routes

ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute")


def check(index: Index, options: Options) -> Iterator[Finding]:
    for kind in ROUTE_KINDS:
        for route in index.of_kind(kind):
            parents = route.spec.get("parentRefs") or ()
            if not any(gatewayapi.is_gateway_parent(p) for p in parents):
                continue  # mesh routes only: Istio does not enforce ReferenceGrants there
            for i, rule in routes.rules(route):
                for backend in routes.backends(route, i, rule):
                    if backend.namespace == route.namespace:
                        continue
                    grants = index.reference_grants(backend.namespace)
                    if gatewayapi.reference_granted(grants, kind, route.namespace, backend.name):
                        continue
                    held = index.holds_namespace(backend.namespace)
                    fails = "connections routed to it fail" if kind in ("TCPRoute", "TLSRoute") else \
                        "requests routed to it get HTTP 500"
                    yield RULE.finding(NOT_PERMITTED if held else GRANT_NOT_IN_INPUT, route,
                                       backend.path + ("namespace",), kind=route.kind_name or kind,
                                       service=f"{backend.namespace}/{backend.name}", ns=backend.namespace,
                                       route_ns=route.namespace, fails=fails)


NOT_PERMITTED = Variant(
    "ref-not-permitted", Severity.ERROR,
    "no ReferenceGrant in namespace {ns} lets {kind}s of namespace {route_ns} reference Service {service}: "
    "the gateway refuses this backend and {fails} (RefNotPermitted)",
    "Create a ReferenceGrant in namespace {ns} from {kind}s of namespace {route_ns} to Service {service}, "
    "or move the route or the Service so that they share a namespace.")
GRANT_NOT_IN_INPUT = Variant(
    "grant-not-in-input", Severity.WARNING,
    "backend Service {service} is in another namespace, and no ReferenceGrant of namespace {ns} is in "
    "the input (nor anything of that namespace); without one the gateway refuses this backend and "
    "{fails} (RefNotPermitted)",
    "Check the input with the files of namespace {ns}, or create a ReferenceGrant there from {kind}s of "
    "namespace {route_ns} to Service {service}.")

RULE = Rule(
    code="ML116",
    name="backend-ref-not-permitted",
    summary="Cross-namespace backendRef of a Gateway API route without a ReferenceGrant",
    inputs=frozenset({"ReferenceGrant", *ROUTE_KINDS}),
    variants=(NOT_PERMITTED, GRANT_NOT_IN_INPUT),
    check=check,
    footgun=4,
)
