"""A server port of an Istio Gateway is not exposed by the Service of its gateway workloads.

Clients reach a gateway through its Kubernetes Service. A Gateway server's `port.number` is
reachable when a TCP port of a Service that selects the gateway's pods has that `port` (Istio
then binds the server to the port's `targetPort`: a Service port 80 with targetPort 8080 serves
a server of port 80) or that `targetPort` (the proxy listens there, and the Service forwards
to it). Same check as `istioctl analyze` IST0162 GatewayPortNotDefinedOnService (istio/istio
`pkg/config/analysis/analyzers/gateway/gateway.go`), which accepts a server port that is any
selecting Service's port or targetPort.

Unknown is not no (SPEC §2): the check needs the gateway workloads and their Services in the
input; when the workloads are in the input but no Service of the input selects them, nothing
is said. A Gateway that selects the stock ingress gateway (`istio: ingressgateway`) whose
workload is not in the input is checked, as `istioctl analyze` checks it in file mode,
against the ports of the stock ingress gateway Service (80, 443, 31400, 15443 and the chart's
targetPorts 8080, 8443, 15021): at info level, naming that assumption.

## Why it matters
The proxy opens the listener, `istioctl proxy-config listeners` shows it, and the
VirtualServices bound to the Gateway look right, but the Service (and the cloud load balancer
created from it) does not forward that port: clients get connection timeouts, and nothing in
the mesh reports an error.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: grpc, namespace: edge}
spec:
  selector: {istio: edge-gateway}
  servers:
  - port: {number: 9443, name: https-grpc, protocol: HTTPS}   # not on the Service
    hosts: [grpc.example.com]
    tls: {mode: SIMPLE, credentialName: grpc-cert}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: edge-gateway, namespace: edge}
spec:
  selector:
    matchLabels: {istio: edge-gateway}
  template:
    metadata:
      labels: {istio: edge-gateway}
      annotations: {inject.istio.io/templates: gateway}
    spec:
      containers:
      - {name: istio-proxy, image: auto}
---
apiVersion: v1
kind: Service
metadata: {name: edge-gateway, namespace: edge}
spec:
  type: LoadBalancer
  selector: {istio: edge-gateway}
  ports:
  - {name: https, port: 443, targetPort: 8443}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: grpc, namespace: edge}
spec:
  selector: {istio: edge-gateway}
  servers:
  - port: {number: 9443, name: https-grpc, protocol: HTTPS}
    hosts: [grpc.example.com]
    tls: {mode: SIMPLE, credentialName: grpc-cert}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: edge-gateway, namespace: edge}
spec:
  selector:
    matchLabels: {istio: edge-gateway}
  template:
    metadata:
      labels: {istio: edge-gateway}
      annotations: {inject.istio.io/templates: gateway}
    spec:
      containers:
      - {name: istio-proxy, image: auto}
---
apiVersion: v1
kind: Service
metadata: {name: edge-gateway, namespace: edge}
spec:
  type: LoadBalancer
  selector: {istio: edge-gateway}
  ports:
  - {name: https, port: 443, targetPort: 8443}
  - {name: https-grpc, port: 9443}               # exposed
```

## Fix
Add the port to the gateway's Service (for an installed gateway: its Helm values or
IstioOperator `k8s.service.ports`), or move the server to a port the Service exposes.

## References
- istio/istio `pkg/config/analysis/analyzers/gateway/gateway.go`: `istioctl analyze` IST0162
- istio/istio `pkg/config/analysis/local/defaults.go`: the stock ingress gateway `istioctl analyze` assumes
- [IST0162 GatewayPortNotDefinedOnService](https://istio.io/latest/docs/reference/config/analysis/ist0162/)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.gateways import (
    STOCK_INGRESS_PORTS,
    STOCK_SELECTORS,
    selector_text,
    server_port,
    service_ports,
    stock_assumed,
)
from ..mesh.workloads import WORKLOAD_KINDS

SHOWN = 3  # Services named in one message


def check(index: Index, options: Options) -> Iterator[Finding]:
    root = index.facts.root_namespace
    by_selector: dict[frozenset, tuple] = {}  # Gateways share selectors: their Services are looked up once
    for gw in index.of_kind("Gateway"):
        selector = gw.spec.get("selector") or {}
        servers = [(s, server_port(server)) for s, server in enumerate(gw.spec.get("servers") or ())]
        servers = [(s, port) for s, port in servers if port is not None]
        if not selector or not servers:
            continue
        key = frozenset((k, str(v)) for k, v in selector.items())
        if key not in by_selector:
            by_selector[key] = _services_exposed(index, selector)
        workloads, services, exposed, shown = by_selector[key]
        if not workloads:
            if dict(selector) == STOCK_SELECTORS[0] and \
                    stock_assumed(selector, index.gateway_workloads_labelled(selector), root):
                ports = ", ".join(map(str, sorted(STOCK_INGRESS_PORTS)))
                for s, port in servers:
                    if port not in STOCK_INGRESS_PORTS:
                        yield RULE.finding(NOT_ON_STOCK_SERVICE, gw, ("spec", "servers", s, "port", "number"),
                                           port=port, ports=ports)
            continue
        if not services:
            continue  # the gateway's Service is not in the input
        names = ", ".join(shown[:SHOWN]) + (f" and {len(shown) - SHOWN} more" if len(shown) > SHOWN else "")
        for s, port in servers:
            if port not in exposed:
                yield RULE.finding(NOT_ON_SERVICE, gw, ("spec", "servers", s, "port", "number"),
                                   related=tuple(svc.ref for svc, _ in services.values()), port=port,
                                   services=names, selector=selector_text(selector),
                                   plural="s" if len(shown) > 1 else "")


def _services_exposed(index: Index, selector: Mapping[str, Any]) -> tuple:
    """The workloads a selector matches, their Services, the ports those expose, and the
    Services' names."""
    workloads = index.workloads_matching(selector)
    services = {id(svc): (svc, w) for w in workloads for svc in index.services_of(w)}
    exposed = service_ports((svc.spec, w) for svc, w in services.values())
    shown = sorted({svc.display().split(" ", 1)[1] for svc, _ in services.values()})
    return workloads, services, exposed, shown


NOT_ON_SERVICE = Variant(
    "port-not-on-service", Severity.WARNING,
    "port {port} is neither a port nor a targetPort of Service{plural} {services} of the gateway workloads "
    "({selector}): clients of the gateway cannot reach this server",
    "Add port {port} to the gateway's Service, or move the server to a port the Service exposes.")
NOT_ON_STOCK_SERVICE = Variant(
    "port-not-on-stock-service", Severity.INFO,
    "port {port} is not a port of the stock ingress gateway Service ({ports}), assumed because no "
    "workload labelled istio=ingressgateway is in the input: if it is the stock one, clients cannot "
    "reach this server",
    "Check that the ingress gateway Service exposes port {port}, or move the server to one of its ports.")

RULE = Rule(
    code="ML114",
    name="gateway-port-not-in-service",
    summary="Istio Gateway server port that the gateway's Service does not expose",
    inputs=frozenset({"Gateway", "Service", *WORKLOAD_KINDS}),
    variants=(NOT_ON_SERVICE, NOT_ON_STOCK_SERVICE),
    check=check,
    istio_codes=frozenset({"IST0162"}),  # GatewayPortNotDefinedOnService
)
