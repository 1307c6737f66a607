"""An EnvoyFilter patch uses an operation that Istio ignores for its `applyTo`.

istiod applies each `configPatches` entry only where its operation means something for the
kind of Envoy object it patches (the patchers in istio/istio's
`pilot/pkg/networking/core/envoyfilter/`); any other combination is skipped without a word in
the logs, a status or a metric that anyone watches. Reported, as `istioctl analyze` does (istio/istio
`pkg/config/analysis/analyzers/envoyfilter/envoyfilter.go`):

- `REPLACE` on anything but `HTTP_FILTER`, `NETWORK_FILTER`, `VIRTUAL_HOST` (istio/istio#59688)
  and `LISTENER_FILTER` (IST0152);
- `ADD` on `ROUTE_CONFIGURATION` (IST0153);
- `REMOVE` on `ROUTE_CONFIGURATION` (IST0154).

A route configuration only takes `MERGE` (`rc_patch.go`, `ApplyRouteConfigurationPatches`):
add or remove its virtual hosts with `VIRTUAL_HOST` patches instead. `istioctl analyze` also
reports `ADD` and `REMOVE` on `HTTP_ROUTE` and `REPLACE` on `LISTENER_FILTER`; istiod applies
those (`patchHTTPRoutes` appends the route, `patchHTTPRoute` removes it, `listener_patch.go`
replaces listener filters), so meshlint does not.

## Why it matters
The EnvoyFilter is accepted by the API server and by istiod, so everything looks applied: the
cluster that was meant to be replaced keeps its old settings, the route configuration keeps
the routes that were meant to go, and the behaviour the filter was written for (a timeout, a
rate limit, a removed debug route) silently never happens.

## Example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: payments-timeouts, namespace: shop}
spec:
  workloadSelector:
    labels: {app: checkout}
  priority: 10
  configPatches:
  - applyTo: CLUSTER
    match:
      context: SIDECAR_OUTBOUND
      proxy: {proxyVersion: '^1\\.24.*'}
      cluster: {service: payments.shop.svc.cluster.local}
    patch:
      operation: REPLACE          # clusters cannot be replaced: ignored
      value: {connect_timeout: 2s}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: payments-timeouts, namespace: shop}
spec:
  workloadSelector:
    labels: {app: checkout}
  priority: 10
  configPatches:
  - applyTo: CLUSTER
    match:
      context: SIDECAR_OUTBOUND
      proxy: {proxyVersion: '^1\\.24.*'}
      cluster: {service: payments.shop.svc.cluster.local}
    patch:
      operation: MERGE
      value: {connect_timeout: 2s}
```

## Fix
Use `MERGE` to change fields of a cluster, listener or route configuration; `REMOVE` and `ADD`
(or `INSERT_*`) to swap a whole object that cannot be replaced; `VIRTUAL_HOST` patches to add
or remove virtual hosts of a route configuration. Prefer a first-class API (DestinationRule,
VirtualService) where one exists.

## References
- istio/istio `pkg/config/analysis/analyzers/envoyfilter/envoyfilter.go`: `istioctl analyze` IST0152, IST0153, IST0154
- istio/istio `pilot/pkg/networking/core/envoyfilter/rc_patch.go`: what istiod applies to routes
- [istio/istio#59688](https://github.com/istio/istio/pull/59688): REPLACE on VIRTUAL_HOST is valid
- [EnvoyFilter Patch.Operation](https://istio.io/latest/docs/reference/config/networking/envoy-filter/#EnvoyFilter-Patch-Operation)
- [IST0152 EnvoyFilterUsesReplaceOperationIncorrectly](https://istio.io/latest/docs/reference/config/analysis/ist0152/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.envoyfilter import REPLACEABLE, ignored


def check(index: Index, options: Options) -> Iterator[Finding]:
    for ef in index.of_kind("EnvoyFilter"):
        for i, patch in enumerate(ef.spec.get("configPatches") or ()):
            if not isinstance(patch, dict) or not isinstance(patch.get("patch"), dict):
                continue
            apply_to, operation = patch.get("applyTo"), patch["patch"].get("operation")
            if not ignored(apply_to, operation):
                continue
            variant = {"REPLACE": REPLACE_IGNORED, "ADD": ADD_IGNORED, "REMOVE": REMOVE_IGNORED}[operation]
            yield RULE.finding(variant, ef, ("spec", "configPatches", i, "patch", "operation"),
                               n=i, apply=apply_to or "INVALID", replaceable=", ".join(REPLACEABLE))


REPLACE_IGNORED = Variant(
    "replace-ignored", Severity.ERROR,
    "patch {n} uses REPLACE on {apply}: Istio replaces only {replaceable}, so the patch does nothing",
    "Use MERGE to change fields of the {apply}, or REMOVE it and ADD the new one where that is allowed.")
ADD_IGNORED = Variant(
    "add-ignored", Severity.ERROR,
    "patch {n} uses ADD on {apply}: a route configuration only takes MERGE, so the patch does nothing",
    "ADD a VIRTUAL_HOST (or an HTTP_ROUTE) instead, or MERGE into the route configuration.")
REMOVE_IGNORED = Variant(
    "remove-ignored", Severity.ERROR,
    "patch {n} uses REMOVE on {apply}: a route configuration only takes MERGE, so the patch does nothing",
    "REMOVE the VIRTUAL_HOST (or HTTP_ROUTE) that should go instead.")

RULE = Rule(
    code="ML408",
    name="envoyfilter-operation-ignored",
    summary="EnvoyFilter patch operation that Istio ignores for its applyTo",
    inputs=frozenset({"EnvoyFilter"}),
    variants=(REPLACE_IGNORED, ADD_IGNORED, REMOVE_IGNORED),
    check=check,
    istio_codes=frozenset({"IST0152", "IST0153", "IST0154"}),
)
