"""An ingress gateway sends Envoy's debug headers to clients outside the mesh.

An Istio Gateway with an HTTP/HTTPS server is an external entry point, unless the server's
`tls.mode` is `ISTIO_MUTUAL`: only clients with a mesh certificate reach it (an egress
gateway), so nothing outside the mesh sees its headers. Its proxies' headers
come from `meshConfig.defaultConfig.proxyHeaders` (ConfigMap `istio` in the root namespace,
IstioOperator `spec.meshConfig`, or `--mesh-config`), overlaid by the gateway pods'
`proxy.istio.io/config` annotation. Unless `proxyHeaders.envoyDebugHeaders.disabled: true`
(Istio >= 1.20), or an EnvoyFilter in the root or the gateway's namespace sets the router's
`suppress_envoy_headers: true`, responses carry `x-envoy-upstream-service-time` and Envoy's
other `x-envoy-*` headers: Istio's default (istio/istio
`pilot/pkg/networking/util/proxy_headers.go`). Severity warning when the mesh config is in the
input; info when it is not (Istio's default is assumed).

Also reported: a VirtualService bound to a gateway that adds `x-envoy-*` response headers, and
an EnvoyFilter that sets `suppress_envoy_headers: false`.

## Why it matters
`x-envoy-upstream-service-time` tells an outside observer how long each backend takes, which
makes timing attacks and fingerprinting of internal services easy, and the presence of Envoy
headers tells scanners exactly which proxy (and CVEs) to try. Internal topology should stop at
the edge.

## Example
```yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    defaultConfig:
      proxyHeaders:
        server: {disabled: true}     # the server header only
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*.example.com"]
    tls: {mode: SIMPLE, credentialName: example-cert}
```

## Fixed example
```yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    defaultConfig:
      proxyHeaders:
        server: {disabled: true}
        envoyDebugHeaders: {disabled: true}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*.example.com"]
    tls: {mode: SIMPLE, credentialName: example-cert}
```

## Fix
Set `meshConfig.defaultConfig.proxyHeaders.envoyDebugHeaders.disabled: true` (or the same in
the gateway pods' `proxy.istio.io/config` annotation). Before Istio 1.20, set the router's
`suppress_envoy_headers: true` with an EnvoyFilter for the gateway.

## References
- istio/istio `pilot/pkg/networking/util/proxy_headers.go`: the proxy headers Istio configures
- [Global Mesh Options: ProxyConfig.proxyHeaders](https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..finding import Applicability, Edit, Finding, Fix, FixKind, Options, Rule, Severity, Variant
from ..fix import edits
from ..index import Index
from ..mesh import routes
from ..mesh.hosts import MESH_GATEWAY, accepts_external_clients
from ..mesh.meshconfig import is_mesh_configmap, proxy_config
from ..mesh.workloads import WORKLOAD_KINDS
from ..resource import FieldPath

HTTP_PROTOCOLS = {"HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-WEB"}
SUPPRESS = "suppress_envoy_headers"
PROXY_CONFIG = "proxy.istio.io/config"


def _debug_disabled(config: dict) -> bool:
    headers = config.get("proxyHeaders")
    debug = headers.get("envoyDebugHeaders") if isinstance(headers, dict) else None
    return isinstance(debug, dict) and debug.get("disabled") is True


def _find(value: Any, key: str) -> list:
    """Every value of `key` anywhere in a nested structure."""
    found, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if key in v:
                found.append(v[key])
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return found


def _old_istio(version: str) -> bool:
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) < (1, 20)


def check(index: Index, options: Options) -> Iterator[Finding]:
    mesh = index.mesh()
    root = index.facts.root_namespace
    filters = index.of_kind("EnvoyFilter")
    suppressing = {ef.namespace for ef in filters if True in _find(ef.spec.get("configPatches"), SUPPRESS)}
    for ef in filters:
        for i, patch in enumerate(ef.spec.get("configPatches") or ()):
            if False in _find(patch.get("patch"), SUPPRESS):
                yield RULE.finding(ENVOYFILTER_UNSUPPRESSES, ef, ("spec", "configPatches", i), n=i)
    # with the mesh config in the input the headers are known to be on; without it, Istio's
    # default is assumed (info); before Istio 1.20 the switch does not exist
    variant = {(True, False): GATEWAY_HEADERS, (False, False): GATEWAY_HEADERS_BY_DEFAULT,
               (True, True): GATEWAY_HEADERS_OLD_ISTIO,
               (False, True): GATEWAY_HEADERS_OLD_ISTIO_BY_DEFAULT}[
        (mesh.has_mesh_config, _old_istio(index.facts.istio_version))]
    # per selector: whether the selected pods disable the headers, and the fix (or why none)
    by_selector: dict[tuple, tuple[bool, Fix | None, str]] = {}
    for gw in index.of_kind("Gateway"):
        servers = [(i, s) for i, s in enumerate(gw.spec.get("servers") or ())
                   if str((s.get("port") or {}).get("protocol", "")).upper() in HTTP_PROTOCOLS
                   and accepts_external_clients(s)]
        if not servers:
            continue
        if root in suppressing or gw.namespace in suppressing:
            continue
        selector = gw.spec.get("selector") or {}
        pods = index.workloads_matching(selector) if isinstance(selector, dict) else []
        key = tuple(sorted(selector.items())) if isinstance(selector, dict) else ()
        if key not in by_selector:
            configs = [proxy_config(mesh, p.annotations)[0] for p in pods] or [proxy_config(mesh, {})[0]]
            off = all(_debug_disabled(c) for c in configs)
            fix, why = None, "Istio before 1.20 has no envoyDebugHeaders switch"
            if not off and variant in (GATEWAY_HEADERS, GATEWAY_HEADERS_BY_DEFAULT):
                fix, why = _disable(index, [p for p, c in zip(pods, configs) if not _debug_disabled(c)])
            by_selector[key] = (off, fix, why)
        off, fix, why = by_selector[key]
        if off:
            continue
        where = ", ".join(mesh.mesh_sources) if mesh.has_mesh_config else \
            "no mesh config in the input, so Istio's default applies"
        i, server = servers[0]
        yield RULE.finding(
            variant, gw, ("spec", "servers", i, "port"), related=tuple(p.resource.ref for p in pods[:3]),
            protocol=(server.get("port") or {}).get("protocol"), where=where, autofix=fix, unfixable=why)
    for vs in index.of_kind("VirtualService"):
        if all(g == MESH_GATEWAY for g in routes.gateways(vs)) and routes.is_mesh_only(vs):
            continue
        for _kind, i, route in routes.routes(vs, ("http",)):
            places: list[tuple[FieldPath, Any]] = [(("spec", "http", i, "headers"), route.get("headers"))]
            places += [(("spec", "http", i, "route", j, "headers"), r.get("headers"))
                       for j, r in enumerate(route.get("route") or ()) if isinstance(r, dict)]
            for path, headers in places:
                response = headers.get("response") if isinstance(headers, dict) else None
                if not isinstance(response, dict):
                    continue
                for op in ("add", "set"):
                    for name in response.get(op) or {}:
                        if isinstance(name, str) and name.lower().startswith("x-envoy-"):
                            yield RULE.finding(ROUTE_ADDS_ENVOY_HEADER, vs, path + ("response", op, name),
                                               op=op, name=name)


DISABLED = ("proxyHeaders", "envoyDebugHeaders", "disabled")


def _disable(index: Index, pods: list) -> tuple[Fix | None, str]:
    """SPEC §5: `proxyHeaders.envoyDebugHeaders.disabled: true` in the gateway pods'
    `proxy.istio.io/config` annotation, or else in the mesh config of the input (ConfigMap
    `istio`, IstioOperator `meshConfig`). Safe: only the x-envoy-* debug headers go."""
    if pods:
        return Fix(tuple(edits.pod_annotation_within(p, PROXY_CONFIG, DISABLED, True) for p in pods),
                   Applicability.SAFE, f"disables the debug headers in the {PROXY_CONFIG} of the gateway pods"), ""
    root = index.facts.root_namespace
    for cm in index.of_kind("ConfigMap"):
        if is_mesh_configmap(cm, root):
            return Fix((Edit(("data", "mesh"), True, target=cm.ref, within=("defaultConfig", *DISABLED)),),
                       Applicability.SAFE, f"disables the debug headers in the mesh config (ConfigMap {cm.name})"), ""
    for op in index.mesh().operators:
        if isinstance(op.spec.get("meshConfig"), dict):
            return Fix((Edit(("spec", "meshConfig", "defaultConfig", *DISABLED), True, target=op.ref),),
                       Applicability.SAFE,
                       f"disables the debug headers in the mesh config (IstioOperator {op.name})"), ""
    return None, ("neither the gateway's pods nor the mesh config are in the input: set "
                  "proxyHeaders.envoyDebugHeaders.disabled: true where they are")


_ENTRY_POINT = ("{protocol} server is an external entry point and envoyDebugHeaders are not disabled "
                "({where}): responses carry x-envoy-upstream-service-time and other x-envoy-* headers")
_DISABLE = ("Set meshConfig.defaultConfig.proxyHeaders.envoyDebugHeaders.disabled: true (or in the "
            "gateway pods' proxy.istio.io/config annotation).")
_UPGRADE = ("Upgrade to Istio >= 1.20 and set envoyDebugHeaders.disabled: true, or add an EnvoyFilter "
            "setting the gateway router's suppress_envoy_headers: true.")
GATEWAY_HEADERS = Variant("gateway-headers", Severity.WARNING, _ENTRY_POINT, _DISABLE)
GATEWAY_HEADERS_BY_DEFAULT = Variant("gateway-headers-by-default", Severity.INFO, _ENTRY_POINT, _DISABLE)
GATEWAY_HEADERS_OLD_ISTIO = Variant("gateway-headers-old-istio", Severity.WARNING, _ENTRY_POINT, _UPGRADE)
GATEWAY_HEADERS_OLD_ISTIO_BY_DEFAULT = Variant("gateway-headers-old-istio-by-default", Severity.INFO,
                                               _ENTRY_POINT, _UPGRADE)
ENVOYFILTER_UNSUPPRESSES = Variant(
    "envoyfilter-unsuppresses", Severity.WARNING,
    "patch {n} sets the router's suppress_envoy_headers: false, so responses carry x-envoy-* headers",
    "Set suppress_envoy_headers: true, or remove the patch.")
ROUTE_ADDS_ENVOY_HEADER = Variant(
    "route-adds-envoy-header", Severity.WARNING,
    "the gateway route {op}s response header {name}: Envoy internals leak to external clients",
    "Do not send x-envoy-* headers to clients; remove the header from headers.response.{op}.")

RULE = Rule(
    code="ML203",
    name="debug-headers-exposed",
    summary="Ingress gateway exposes Envoy debug headers",
    inputs=frozenset({"Gateway", "VirtualService", "EnvoyFilter", "ConfigMap", "IstioOperator", *WORKLOAD_KINDS}),
    variants=(GATEWAY_HEADERS, GATEWAY_HEADERS_BY_DEFAULT, GATEWAY_HEADERS_OLD_ISTIO,
              GATEWAY_HEADERS_OLD_ISTIO_BY_DEFAULT, ENVOYFILTER_UNSUPPRESSES, ROUTE_ADDS_ENVOY_HEADER),
    check=check,
    footgun=10,
    fixes=(
        FixKind(Applicability.SAFE,
                "Set `proxyHeaders.envoyDebugHeaders.disabled: true` in the gateway pods' "
                "`proxy.istio.io/config` annotation, or in the mesh config of the input."),
    ),
)
