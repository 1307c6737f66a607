"""Services that select the same pods give one container port different protocols.

A sidecar builds one inbound listener per container port (the Services' `targetPort`), from
the Services that select its pod. When several Service ports reach the same container port,
istiod keeps the oldest Service's and drops the others, protocol included (istio/istio
`pilot/pkg/networking/core/listener_inbound.go`, `getFilterChainsByServicePort`; the conflict
is reported in the `pilot_conflict_inbound_listener` metric). Mirrors `istioctl analyze`
IST0116 and IST0137 (istio/istio `pkg/config/analysis/analyzers/deployment/services.go`,
`ServiceAssociationAnalyzer`) as the sidecar behaves, on the pods that get an Istio sidecar:
the Service ports that reach one container port give it different protocols (Istio's:
`appProtocol`, else the port name's prefix, else sniffing; `mesh.protocol.port_protocol`).
One of them loses: HTTP traffic handled as opaque TCP, or TCP bytes parsed as HTTP and reset.

Where the analyzer differs from the sidecar, meshlint follows the sidecar:
- the analyzer groups by Service `port` number and the Kubernetes L4 `protocol` field; the
  listener is keyed by the container port each Service port reaches (a named `targetPort`
  resolved against the pod's container ports). Two Services on port 80 that reach different
  container ports do not conflict; two that reach one container port through ports 80 and
  8080 with different protocols do. UDP and SCTP ports are not captured by the sidecar at
  all (a DNS server's `53/TCP` and `53/UDP` Services are fine);
- IST0137 also reports Services that agree on the protocol and differ only in port number
  (a LoadBalancer on 80 next to a ClusterIP on 8080); the sidecar builds the same listener
  for both and istiod says there is nothing to report ("no need to report to the user",
  `reportInboundConflict`), so meshlint does not report them either;
- every workload kind is checked, not only Deployments; gateways and waypoints build no
  inbound listeners from Services and are skipped.

A sidecar decision that rests on an assumption about the namespace is named in the message.

## Why it matters
Two teams expose the same pods twice, one Service named `http` for the web tier and one named
`tcp` (or unnamed) for a metrics scraper or a legacy client. Whichever Service is older decides
how the sidecar handles the port for everyone: requests through the other one lose their
routing rules and retries, or are broken outright, and which one loses depends on the order
the Services were created in.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: catalog, namespace: shop}
spec:
  selector:
    matchLabels: {app: catalog}
  template:
    metadata:
      labels: {app: catalog}
    spec:
      containers:
      - name: catalog
        image: ghcr.io/example/catalog:3.2.0
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec:
  selector: {app: catalog}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: catalog-legacy, namespace: shop}
spec:
  selector: {app: catalog}
  ports:
  - {name: tcp-legacy, port: 8080}   # the same container port, as opaque TCP
```

## Fixed example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: catalog, namespace: shop}
spec:
  selector:
    matchLabels: {app: catalog}
  template:
    metadata:
      labels: {app: catalog}
    spec:
      containers:
      - name: catalog
        image: ghcr.io/example/catalog:3.2.0
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec:
  selector: {app: catalog}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: catalog-legacy, namespace: shop}
spec:
  selector: {app: catalog}
  ports:
  - {name: http-legacy, port: 8080}   # the same protocol
```

## Fix
Give every Service port that reaches one container port the same protocol (port name prefix
or `appProtocol`), or point the Services at different container ports.

## References
- istio/istio `pkg/config/analysis/analyzers/deployment/services.go`: `istioctl analyze` IST0116 and IST0137
- istio/istio `pilot/pkg/networking/core/listener_inbound.go`: one inbound chain per target port, the oldest wins
- [IST0116 DeploymentAssociatedToMultipleServices](https://istio.io/latest/docs/reference/config/analysis/ist0116/)
- [IST0137 DeploymentConflictingPorts](https://istio.io/latest/docs/reference/config/analysis/ist0137/)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any, NamedTuple

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import SIDECAR_INPUTS, Index
from ..mesh.protocol import UNSUPPORTED, port_protocol
from ..mesh.workloads import WORKLOAD_KINDS, Workload, is_gateway
from ..resource import FieldPath, Resource

NOT_CAPTURED = ("UDP", "SCTP")  # the sidecar's iptables redirect only TCP
WAYPOINT = ("gateway.istio.io/managed", "istio.io-mesh-controller")  # services.go isWaypointDeployment


class Use(NamedTuple):
    service: Resource
    port: Any  # the Service port number
    protocol: str  # Istio's protocol for it


def _protocol_name(protocol: str) -> str:
    return "auto-detected" if protocol == UNSUPPORTED else protocol


def _uses(w: Workload, services: list[Resource]) -> dict[Any, list[Use]]:
    """Container port (or an unresolved named targetPort) -> the Service ports reaching it,
    for the container ports that more than one Service port reaches (the protocol, the costly
    part, is worked out only for those)."""
    reaching: dict[Any, list[tuple[Resource, dict]]] = defaultdict(list)
    for svc in services:
        for p in svc.spec.get("ports") or ():
            if not isinstance(p, dict) or str(p.get("protocol") or "TCP").upper() in NOT_CAPTURED:
                continue
            target = p.get("targetPort")
            if target in (None, 0, "", "0"):  # defaults to the port (services.go does the same)
                target = p.get("port")
            resolved = w.container_port(target)
            reaching[resolved if resolved is not None else str(target)].append((svc, p))
    return {key: [Use(svc, p.get("port"), port_protocol(p.get("port") if isinstance(p.get("port"), int) else None,
                                                           p.get("name"), p.get("protocol"), p.get("appProtocol")))
                  for svc, p in found]
            for key, found in reaching.items() if len(found) > 1}


def _declared(w: Workload, port: Any) -> FieldPath:
    """The containerPort declaration of `port`, else the pod template."""
    for i, c in w.containers():
        for j, p in enumerate(c.get("ports") or ()):
            if isinstance(p, dict) and p.get("containerPort") == port:
                return (*w.spec_path, "containers", i, "ports", j, "containerPort")
    return w.path or ("metadata",)


def check(index: Index, options: Options) -> Iterator[Finding]:
    for w in index.workloads():
        services = index.services_of(w)
        if not services or is_gateway(w) or w.resource.labels.get(WAYPOINT[0]) == WAYPOINT[1]:
            continue
        groups = _uses(w, services)
        if not groups:
            continue
        sc = index.sidecar(w)
        if not sc.istio:
            continue
        for port, found in sorted(groups.items(), key=lambda kv: str(kv[0])):
            uses = sorted(found, key=lambda u: (u.service.namespace, u.service.name, str(u.port)))
            if len({u.protocol for u in uses}) < 2:
                continue  # one protocol: the same listener whichever Service built it
            listed = ", ".join(f"{_protocol_name(u.protocol)} from {u.service.namespace}/{u.service.name} "
                               f"port {u.port}" for u in uses)
            related = tuple(dict.fromkeys(u.service.ref for u in uses))
            variant = PROTOCOL_CONFLICT_ASSUMED if sc.assumption else PROTOCOL_CONFLICT
            yield RULE.finding(variant, w.resource, _declared(w, port), related=related, port=port,
                               uses=listed, assumption=sc.assumption)


PROTOCOL_CONFLICT = Variant(
    "protocol-conflict", Severity.WARNING,
    "container port {port} gets different protocols from its Services ({uses}): the sidecar serves "
    "it with the oldest Service's, and mishandles the traffic of the others",
    "Give every Service port that targets container port {port} the same protocol (port name or "
    "appProtocol).")
PROTOCOL_CONFLICT_ASSUMED = Variant(
    "protocol-conflict-assumed", Severity.WARNING,
    "container port {port} gets different protocols from its Services ({uses}): the sidecar serves "
    "it with the oldest Service's, and mishandles the traffic of the others ({assumption})",
    "Give every Service port that targets container port {port} the same protocol (port name or "
    "appProtocol).")

RULE = Rule(
    code="ML117",
    name="conflicting-port-protocols",
    summary="Services give one container port different protocols",
    inputs=frozenset({"Service", *WORKLOAD_KINDS, *SIDECAR_INPUTS}),
    variants=(PROTOCOL_CONFLICT, PROTOCOL_CONFLICT_ASSUMED),
    check=check,
    istio_codes=frozenset({"IST0116", "IST0137"}),  # DeploymentAssociatedToMultipleServices, ...ConflictingPorts
)
