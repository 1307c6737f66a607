"""An EnvoyFilter patch is not pinned to the proxy version it was written for.

EnvoyFilter patches Envoy's generated configuration by name and position: listener and filter
names, the order of HTTP filters, fields of internal protos. Those change between Istio
releases. Reported:

- a `configPatches` entry without `match.proxy.proxyVersion` (a regex such as `^1\\.22.*`):
  it applies to every proxy version, including the ones an upgrade brings;
- a relative operation in an EnvoyFilter without `priority` (or with the default 0): its
  position depends on the order in which filters happen to be applied (`istioctl analyze`
  IST0151, and IST0155 when another patch of that filter is pinned to a proxy version; istio/istio
  `pkg/config/analysis/analyzers/envoyfilter/envoyfilter.go`). Relative are `INSERT_BEFORE` and
  `INSERT_AFTER`; `REPLACE` on `HTTP_FILTER`, `NETWORK_FILTER` and `VIRTUAL_HOST` (and on
  `LISTENER_FILTER`, which istiod replaces too); `REMOVE` on anything but
  `ROUTE_CONFIGURATION` (`istioctl analyze` also exempts `HTTP_ROUTE`, whose routes istiod does
  remove). `INSERT_FIRST`, `ADD` and `MERGE` are not. An operation istiod ignores for its
  `applyTo` is ML408's.

## Why it matters
During an upgrade the old and the new proxies run side by side. An unpinned patch that no
longer matches silently stops applying (the rate limit or the auth header is gone); one that
still matches but now lands in the wrong place breaks every request through that proxy, and
it does so for all proxies at once. Pinned patches fail closed per version and show up in
`istioctl analyze` as not applied.

## Example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ingress-limits, namespace: istio-system}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: GATEWAY            # no proxy.proxyVersion
      listener:
        filterChain:
          filter:
            name: envoy.filters.network.http_connection_manager
    patch:
      operation: INSERT_BEFORE    # no spec.priority
      value: {name: envoy.filters.http.local_ratelimit}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ingress-limits, namespace: istio-system}
spec:
  priority: 10                  # a fixed place among the EnvoyFilters
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: GATEWAY
      proxy: {proxyVersion: '^1\\.22.*'}   # the version it was tested with
      listener:
        filterChain:
          filter:
            name: envoy.filters.network.http_connection_manager
    patch:
      operation: INSERT_BEFORE
      value: {name: envoy.filters.http.local_ratelimit}
```

## Fix
Add `match.proxy.proxyVersion: '^1\\.22.*'` (the minor version the patch was tested with) to
every patch, give filters with relative operations a `priority`, and re-test the patch for
each new version before widening the regex. Prefer first-class APIs (Telemetry, WasmPlugin,
AuthorizationPolicy) where they exist.

## References
- istio/istio `pkg/config/analysis/analyzers/envoyfilter/envoyfilter.go`: `istioctl analyze` IST0151, IST0155
- [istio/istio#59688](https://github.com/istio/istio/pull/59688): REPLACE on VIRTUAL_HOST is valid (and relative)
- [EnvoyFilter](https://istio.io/latest/docs/reference/config/networking/envoy-filter/)
- [IST0151 EnvoyFilterUsesRelativeOperation](https://istio.io/latest/docs/reference/config/analysis/ist0151/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Applicability, Edit, Finding, Fix, FixKind, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.envoyfilter import has_priority, relative
from ..mesh.meshconfig import minor_version


def check(index: Index, options: Options) -> Iterator[Finding]:
    for ef in index.of_kind("EnvoyFilter"):
        spec = ef.spec
        prioritized = has_priority(spec)
        for i, patch in enumerate(spec.get("configPatches") or ()):
            if not isinstance(patch, dict) or not isinstance(patch.get("patch"), dict):
                continue  # no operation: nothing is applied (istio's analyzer stops there)
            match = patch.get("match") or {}
            proxy = match.get("proxy") or {}
            if not proxy.get("proxyVersion"):
                path = ("spec", "configPatches", i, "match") if "match" in patch else ("spec", "configPatches", i)
                fix, why = _pin(index, i, match)
                yield RULE.finding(NO_PROXY_VERSION, ef, path, n=i, apply=patch.get("applyTo") or "?", autofix=fix,
                                   unfixable=why)
            operation = (patch.get("patch") or {}).get("operation")
            if relative(patch.get("applyTo"), operation) and not prioritized:
                yield RULE.finding(RELATIVE_WITHOUT_PRIORITY, ef, ("spec", "configPatches", i, "patch", "operation"),
                                   n=i, op=operation, autofix=PRIORITY_FIX)


# SPEC §5 Fixes: an explicit priority (0 is istio's "none"); after the filters that set none
PRIORITY = 10
PRIORITY_FIX = Fix((Edit(("spec", "priority"), PRIORITY),), Applicability.SAFE,
                   f"sets priority {PRIORITY}: the filter applies after those without one")


def _pin(index: Index, i: int, match: object) -> tuple[Fix | None, str]:
    """SPEC §5: `match.proxy.proxyVersion` for the Istio version the configuration or the
    installation in the input names. Unsafe: after an upgrade the patch stops applying until
    it is checked against the new version."""
    version = minor_version(index.facts.istio_version) if index.facts.istio_version else index.mesh().istio_version()
    if version is None:
        return None, "the Istio version is not known: set istio-version in the configuration"
    pattern = f"^{version[0]}\\.{version[1]}.*"
    if not isinstance(match, dict) or not match:
        change = Edit(("spec", "configPatches", i, "match"), {"proxy": {"proxyVersion": pattern}})
    else:
        change = Edit(("spec", "configPatches", i, "match", "proxy", "proxyVersion"), pattern)
    return Fix((change,), Applicability.UNSAFE, f"pins the patch to Istio {version[0]}.{version[1]}: after an "
               "upgrade it applies only once checked and pinned again"), ""


NO_PROXY_VERSION = Variant(
    "no-proxy-version", Severity.WARNING,
    "patch {n} ({apply}) has no match.proxy.proxyVersion: it applies to every proxy version and can "
    "silently stop working, or break traffic, after an upgrade",
    "Add match.proxy.proxyVersion (e.g. '^1\\.22.*') for the version this patch was tested with.")
RELATIVE_WITHOUT_PRIORITY = Variant(
    "relative-without-priority", Severity.WARNING,
    "patch {n} uses {op} without spec.priority: its effect depends on the order in which EnvoyFilters "
    "are applied",
    "Set spec.priority so the order of relative patches is explicit.")

RULE = Rule(
    code="ML404",
    name="envoyfilter-unpinned",
    summary="EnvoyFilter patch not pinned to a proxy version",
    inputs=frozenset({"EnvoyFilter", "ConfigMap", "IstioOperator"}),  # the installed version, for the fix
    variants=(NO_PROXY_VERSION, RELATIVE_WITHOUT_PRIORITY),
    check=check,
    istio_codes=frozenset({"IST0151", "IST0155"}),
    footgun=9,
    fixes=(
        FixKind(Applicability.SAFE,
                "Add `priority: 10` to an EnvoyFilter with relative patches."),
        FixKind(Applicability.UNSAFE,
                "Add `match.proxy.proxyVersion` for the Istio version the configuration or the input "
                "names."),
    ),
)
