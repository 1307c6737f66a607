"""A VirtualService routes on JWT claims at a gateway whose pods no RequestAuthentication covers.

A match on a `@request.auth.claims.<name>` header (in `headers` or `withoutHeaders`) reads the
claims of a JWT that a RequestAuthentication has validated. Every pod of each Gateway the
VirtualService is bound to needs one: a RequestAuthentication in the root namespace
(`root-namespace`, default `istio-system`) or in the pod's own namespace, without a selector
or with one that selects the pod. Same check as `istioctl analyze` IST0149 (istio/istio
`pkg/config/analysis/analyzers/virtualservice/jwtclaimroute.go`). Istio supports claim-based
routing on gateways only: a VirtualService bound to no gateway that matches on claims is
rejected by Istio's validation (istio/istio `pkg/config/validation/validation.go`).

Files rarely hold the whole cluster (SPEC §2): when the gateway's pods are not in the input, the
finding is a warning, and only when no RequestAuthentication of the input could select them.

## Why it matters
Without a RequestAuthentication the gateway validates no token and extracts no claims, so the
claim match never matches: the route meant for, say, premium users is never taken, and the
traffic silently falls through to the next rule (or gets a 404).

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
  hosts: [shop.example.com]
  gateways: [istio-system/public]
  http:
  - match:
    - headers:
        "@request.auth.claims.plan": {exact: premium}
    route:
    - destination: {host: storefront, subset: premium}
  - route:
    - destination: {host: storefront}
```

## Fixed example
```yaml
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ingress-jwt, namespace: istio-system}
spec:
  selector:
    matchLabels: {istio: ingressgateway}
  jwtRules:
  - issuer: https://auth.example.com
    jwksUri: https://auth.example.com/.well-known/jwks.json
---
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
  gateways: [istio-system/public]
  http:
  - match:
    - headers:
        "@request.auth.claims.plan": {exact: premium}
    route:
    - destination: {host: storefront, subset: premium}
  - route:
    - destination: {host: storefront}
```

## Fix
Apply a RequestAuthentication (with the issuer's `jwtRules`) that selects the gateway's pods, in
the root namespace or in the gateway's namespace, or stop routing on claims.

## References
- istio/istio `pkg/config/analysis/analyzers/virtualservice/jwtclaimroute.go`: `istioctl analyze` IST0149
- istio/istio `pkg/config/validation/validation.go`: claim-based routing only on gateways
- [IST0149](https://istio.io/latest/docs/reference/config/analysis/ist0149/)
- [JWT claim based routing](https://istio.io/latest/docs/tasks/security/authentication/jwt-route/)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh import routes
from ..mesh.hosts import MESH_GATEWAY, resolve_gateway
from ..mesh.workloads import WORKLOAD_KINDS
from ..resource import FieldPath, Resource

CLAIM = "@request.auth.claims"  # istio/istio pilot/pkg/util/constant HeaderJWTClaim

Selector = Mapping[str, str] | None  # None: every workload of the namespace


def claim_key(vs: Resource) -> tuple[FieldPath, str] | None:
    """The first JWT-claim header a VirtualService's http matches use (istio's
    routeBasedOnJWTClaimKey), and where it is."""
    for kind, i, route in routes.routes(vs, ("http",)):
        for m, match in enumerate(route.get("match") or ()):
            if not isinstance(match, dict):
                continue
            for field in ("headers", "withoutHeaders"):
                headers = match.get(field)
                for key in headers if isinstance(headers, dict) else ():
                    if isinstance(key, str) and key.startswith(CLAIM):
                        return ("spec", kind, i, "match", m, field, key), key
    return None


def _selectors(index: Index) -> dict[str, list[Selector]]:
    out: dict[str, list[Selector]] = defaultdict(list)
    for ra in index.of_kind("RequestAuthentication"):
        selector = ra.spec.get("selector")
        labels = selector.get("matchLabels") if isinstance(selector, dict) else None
        out[ra.namespace].append(labels if isinstance(labels, dict) and labels else None)
    return out


def _selects(selector: Selector, labels: Mapping[str, str]) -> bool:
    return selector is None or all(labels.get(k) == v for k, v in selector.items())


def check(index: Index, options: Options) -> Iterator[Finding]:
    by_namespace: dict[str, list[Selector]] | None = None
    root = index.facts.root_namespace
    for vs in index.of_kind("VirtualService"):
        found = claim_key(vs)
        if found is None:
            continue
        path, key = found
        gateways = [g for g in routes.gateways(vs) if g != MESH_GATEWAY]
        if not gateways:
            yield RULE.finding(CLAIMS_ON_MESH, vs, path, key=key)
            continue
        if by_namespace is None:
            by_namespace = _selectors(index)
        for ref in gateways:
            ns, name = resolve_gateway(ref, vs.namespace)
            gateway = index.get("Gateway", ns, name)
            if gateway is None:
                continue  # ML102 reports it
            selector = gateway.spec.get("selector")
            selector = selector if isinstance(selector, dict) else {}
            pods = index.workloads_matching(selector)
            shown = ", ".join(f"{k}={v}" for k, v in selector.items()) or "none"
            if pods:
                bare = [w for w in pods if not any(
                    _selects(s, w.labels) for s in by_namespace.get(root, []) + by_namespace.get(w.namespace, []))]
                if bare:
                    yield RULE.finding(NO_REQUEST_AUTHENTICATION, vs, path, related=(gateway.ref,) + tuple(
                        w.resource.ref for w in bare), key=key, gateway=f"{ns}/{name}",
                        pods=", ".join(w.display() for w in bare), root=root)
            elif not any(s is None or all(selector.get(k) == v for k, v in s.items())
                         for selectors in by_namespace.values() for s in selectors):
                yield RULE.finding(NO_REQUEST_AUTHENTICATION_IN_INPUT, vs, path, related=(gateway.ref,), key=key,
                                   gateway=f"{ns}/{name}", selector=shown)


NO_REQUEST_AUTHENTICATION = Variant(
    "no-request-authentication", Severity.ERROR,
    "routes on JWT claim {key} at gateway {gateway}, but no RequestAuthentication selects its {pods}: "
    "no claims are extracted there, so this match never matches",
    "Apply a RequestAuthentication that selects the pods of {gateway} (in {root} or their namespace).")
NO_REQUEST_AUTHENTICATION_IN_INPUT = Variant(
    "no-request-authentication-in-input", Severity.WARNING,
    "routes on JWT claim {key} at gateway {gateway}, whose pods ({selector}) are not in the input, and "
    "no RequestAuthentication in the input could select them: unless one elsewhere does, this match "
    "never matches",
    "Apply a RequestAuthentication that selects the pods of {gateway}, or check the input with the "
    "file that defines it.")
CLAIMS_ON_MESH = Variant(
    "claims-on-mesh", Severity.ERROR,
    "routes on JWT claim {key} but is bound to no gateway: Istio supports claim-based routing on "
    "gateways only, and its validation rejects this VirtualService",
    "Bind the VirtualService to the gateway that validates the JWT, or stop routing on {key}.")

RULE = Rule(
    code="ML110",
    name="jwt-claim-route-without-authn",
    summary="Route on JWT claims at a gateway no RequestAuthentication covers",
    inputs=frozenset({"VirtualService", "Gateway", "RequestAuthentication", *WORKLOAD_KINDS}),
    variants=(NO_REQUEST_AUTHENTICATION, NO_REQUEST_AUTHENTICATION_IN_INPUT, CLAIMS_ON_MESH),
    check=check,
    istio_codes=frozenset({"IST0149"}),  # JwtClaimBasedRoutingWithoutRequestAuthN
)
