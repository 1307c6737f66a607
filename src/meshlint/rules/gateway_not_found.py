"""A VirtualService is bound to a Gateway that does not exist.

Each entry of a VirtualService's `gateways:` (and of a route's `match[].gateways`), other than
the reserved `mesh`, must name an Istio Gateway. The reference is resolved as Istio resolves
it (istio/istio `pilot/pkg/model/config.go` `resolveGatewayName`): a bare `name` means the
Gateway *in the VirtualService's own namespace*; `ns/name` and `./name` are explicit; the
legacy `name.ns.svc.cluster.local` means `ns/name`. Gateways owned elsewhere (another repo, a
platform team) can be declared in the configuration as `known-gateways`.
Same check as `istioctl analyze` IST0101 for gateways.

Files rarely hold the whole cluster (SPEC §2). A Gateway is reported missing (an error) only
when the input holds Gateways and something of its namespace; otherwise it is "not in the
input" (a warning): it may live in another repository, or in files not given.

Gateway API routes (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute, UDPRoute) are held to the same
standard: every `parentRefs` entry of kind Gateway (the default) must name a Gateway API
Gateway (`namespace` defaults to the route's own), and a route without any `parentRefs` is
attached to nothing at all.

## Why it matters
Istio silently ignores a binding to a Gateway that does not exist: the routes never reach the
ingress proxy, and external traffic gets a 404 (or the rules of some other VirtualService)
while everything looks fine inside the mesh. The usual cause is a short name written in a
namespace other than the Gateway's: `gateways: [public-gateway]` in namespace `shop` looks for
`shop/public-gateway`, not `istio-system/public-gateway`.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: storefront
  namespace: shop
spec:
  hosts: [shop.example.com]
  gateways:
  - public-gateway        # the Gateway lives in istio-system: write istio-system/public-gateway
  http:
  - route:
    - destination: {host: frontend}
```

## Fix
Reference the Gateway with its namespace (`istio-system/public-gateway`), create it, or list it
under `known-gateways` in `.meshlint.yaml` when it is managed outside these files. Give a
Gateway API route the `parentRefs` it should attach to.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh import routes
from ..mesh.hosts import MESH_GATEWAY, resolve_gateway
from ..resource import GATEWAY_API_ROUTES, K8S_GATEWAY, Ref

GATEWAY_API_GROUP = "gateway.networking.k8s.io"


def check(index: Index, options: Options) -> Iterator[Finding]:
    known = index.facts.known_gateways
    elsewhere_of: dict[tuple[str, str, str], tuple[Ref, ...]] = {}  # once per name: many routes may give it
    for vs in index.of_kind("VirtualService"):
        refs = [(("spec", "gateways", i), ref) for i, ref in enumerate(vs.spec.get("gateways") or ())]
        refs += list(routes.match_gateways(vs))
        for path, ref in refs:
            if ref == MESH_GATEWAY:
                continue
            ns, name = resolve_gateway(ref, vs.namespace)
            if index.get("Gateway", ns, name) is not None or f"{ns}/{name}" in known:
                continue
            elsewhere = _elsewhere(index, elsewhere_of, "Gateway", ns, name)
            if elsewhere:
                yield RULE.finding(MISPLACED_GATEWAY, vs, path, related=elsewhere, ref=ref,
                                   resolved=f"{ns}/{name}", found=elsewhere[0].namespace, name=name)
            else:
                variant = MISSING_GATEWAY if _holds_gateways_of(index, "Gateway", ns) else GATEWAY_NOT_IN_INPUT
                yield RULE.finding(variant, vs, path, ref=ref, resolved=f"{ns}/{name}", ns=ns)
    for kind in GATEWAY_API_ROUTES:
        for route in index.of_kind(kind):
            yield from _route_parents(index, route, known, elsewhere_of)


def _elsewhere(index: Index, memo: dict[tuple[str, str, str], tuple[Ref, ...]], kind: str, ns: str,
               name: str) -> tuple[Ref, ...]:
    """The Gateways of `kind` called `name` in another namespace than `ns`."""
    found = memo.get((kind, ns, name))
    if found is None:
        found = memo[(kind, ns, name)] = tuple(g.ref for g in index.named(kind, name) if g.namespace != ns)
    return found


def _route_parents(index: Index, route, known, elsewhere_of) -> Iterator[Finding]:
    """Gateway API: parentRefs that name no Gateway, or no parentRefs at all."""
    parents = route.spec.get("parentRefs")
    if not parents:
        yield RULE.finding(NO_PARENT_REFS, route, ("spec",), kind=route.kind_name)
        return
    for i, parent in enumerate(parents):
        if parent.get("group", GATEWAY_API_GROUP) != GATEWAY_API_GROUP or parent.get("kind", "Gateway") != "Gateway":
            continue  # a Service parent (GAMMA mesh routing) or another implementation's kind
        name = parent.get("name")
        if not name:
            continue
        ns = parent.get("namespace") or route.namespace
        if index.get(K8S_GATEWAY, ns, name) is not None or f"{ns}/{name}" in known:
            continue
        elsewhere = _elsewhere(index, elsewhere_of, K8S_GATEWAY, ns, name)
        where = ("spec", "parentRefs", i)
        if elsewhere:
            yield RULE.finding(MISPLACED_PARENT_GATEWAY, route, where, related=elsewhere,
                               name=name, resolved=f"{ns}/{name}", found=elsewhere[0].namespace)
        else:
            variant = MISSING_PARENT_GATEWAY if _holds_gateways_of(index, K8S_GATEWAY, ns) else PARENT_NOT_IN_INPUT
            yield RULE.finding(variant, route, where, name=name, resolved=f"{ns}/{name}", ns=ns)


def _holds_gateways_of(index: Index, kind: str, namespace: str) -> bool:
    """Does the input hold the Gateways of `namespace`? Only then is a missing one missing: when
    the input has no Gateway at all, or nothing of that namespace, the Gateway is only not in
    the input (it may be in a file not given, or in the cluster)."""
    return index.has_kind(kind) and index.holds_namespace(namespace)


MISSING_GATEWAY = Variant(
    "missing-gateway", Severity.ERROR,
    'gateway "{ref}" resolves to {resolved}, which does not exist; traffic through that gateway '
    "ignores this VirtualService",
    "Fix the name, create Gateway {resolved}, or add it to known-gateways if it is managed elsewhere.")
MISPLACED_GATEWAY = Variant(
    "misplaced-gateway", Severity.ERROR,
    'gateway "{ref}" resolves to {resolved}, which does not exist; a Gateway of that name exists in '
    "namespace {found}; traffic through that gateway ignores this VirtualService",
    "Reference the Gateway as {found}/{name} (namespace/name), or create {resolved}.")
GATEWAY_NOT_IN_INPUT = Variant(
    "gateway-not-in-input", Severity.WARNING,
    'gateway "{ref}" resolves to {resolved}, which is not in the input (nor any Gateway of namespace '
    "{ns}); if it does not exist, traffic through that gateway ignores this VirtualService",
    "Check the input with the files that define {resolved}, or add it to known-gateways if it is "
    "managed elsewhere.")
NO_PARENT_REFS = Variant(
    "no-parent-refs", Severity.ERROR,
    "{kind} has no parentRefs: it is attached to no Gateway (or Service) and routes nothing",
    "Add the parentRefs of the Gateway (or, for mesh routing, the Service) this route belongs to.")
MISSING_PARENT_GATEWAY = Variant(
    "missing-parent-gateway", Severity.ERROR,
    'parentRef "{name}" resolves to Gateway {resolved}, which does not exist; the route is attached '
    "to nothing there",
    "Fix the parentRef, create Gateway {resolved}, or add it to known-gateways if it is managed "
    "elsewhere.")
MISPLACED_PARENT_GATEWAY = Variant(
    "misplaced-parent-gateway", Severity.ERROR,
    'parentRef "{name}" resolves to Gateway {resolved}, which does not exist; a Gateway of that name '
    "exists in namespace {found}; the route is attached to nothing there",
    "Set the parentRef's namespace to {found}, or create {resolved}.")
PARENT_NOT_IN_INPUT = Variant(
    "parent-not-in-input", Severity.WARNING,
    'parentRef "{name}" resolves to Gateway {resolved}, which is not in the input (nor any Gateway of '
    "namespace {ns}); if it does not exist, the route is attached to nothing there",
    "Check the input with the files that define {resolved}, or add it to known-gateways if it is "
    "managed elsewhere.")

RULE = Rule(
    code="ML102",
    name="gateway-not-found",
    summary="VirtualService or route bound to a Gateway that does not exist",
    inputs=frozenset({"VirtualService", "Gateway", K8S_GATEWAY, *GATEWAY_API_ROUTES}),
    variants=(MISSING_GATEWAY, NO_PARENT_REFS, MISSING_PARENT_GATEWAY, MISPLACED_GATEWAY, GATEWAY_NOT_IN_INPUT,
              MISPLACED_PARENT_GATEWAY, PARENT_NOT_IN_INPUT),
    check=check,
    istio_codes=frozenset({"IST0101"}),  # ReferencedResourceNotFound (a gateway)
    footgun=4,
)
