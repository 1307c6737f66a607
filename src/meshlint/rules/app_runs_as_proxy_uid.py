"""An application container runs as UID 1337, the UID of Istio's sidecar.

The iptables rules that send a pod's traffic through its sidecar exempt every packet of UID
1337, so that the proxy's own connections are not redirected back into it. An application
container running as 1337 is exempt too: its outbound connections leave the pod without the
proxy (no mTLS, so STRICT peers reject them; no egress policy, routing, retries or telemetry).
Same check as `istioctl analyze` IST0144 (istio/istio
`pkg/config/analysis/analyzers/deployment/pod.go`, `ApplicationUIDAnalyzer`): a `runAsUser:
1337` in the pod's or a container's `securityContext`, except in the `istio-proxy` (and
`istio-operator`) container, and nothing for the Istio control plane (a workload labelled
`istio`, or `release: istio`). Unlike the analyzer, meshlint

- reports only pods that get an Istio sidecar (`index.sidecar`): without one nothing is
  redirected and 1337 is an ordinary UID; a decision that rests on an assumption about the
  namespace gives a warning that names it;
- takes each container's effective UID: a pod-level 1337 that every application container
  overrides is not reported (init containers may run as 1337: that is Istio's documented way
  to let them reach the network before the proxy starts);
- reports each workload once, on the field that sets the UID of the first container affected.

## Why it matters
Running the application as the proxy's UID looks harmless, or is copied from the proxy's own
manifest, and everything keeps working: requests go straight to the destination. But none of
them is encrypted or authorized by the mesh, a STRICT destination refuses them, and an
egress lockdown (`REGISTRY_ONLY`, egress gateways) is bypassed silently.

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
metadata: {name: checkout, namespace: shop}
spec:
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      securityContext:
        runAsUser: 1337   # the sidecar's UID: this pod's traffic skips the proxy
      containers:
      - name: checkout
        image: ghcr.io/example/checkout:2.4.1
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
metadata: {name: checkout, namespace: shop}
spec:
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      securityContext:
        runAsUser: 10001
        runAsNonRoot: true
      containers:
      - name: checkout
        image: ghcr.io/example/checkout:2.4.1
```

## Fix
Run the application under any other UID (and `runAsNonRoot: true`). Keep 1337 for init
containers that must reach the network before the sidecar starts, if that is what it is for.

## References
- istio/istio `pkg/config/analysis/analyzers/deployment/pod.go`: `istioctl analyze` IST0144
- istio/istio `tools/istio-iptables/pkg/capture/run.go`: the redirect exempts the proxy's UID
- [IST0144 InvalidApplicationUID](https://istio.io/latest/docs/reference/config/analysis/ist0144/)
- [Application requirements: UID 1337](https://istio.io/latest/docs/ops/deployment/requirements/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import SIDECAR_INPUTS, Index
from ..mesh.workloads import WORKLOAD_KINDS, run_as_user
from ..resource import FieldPath

PROXY_UID = 1337  # pod.go `UserID`: the sidecar's UID, which the iptables redirect exempts
PROXY_CONTAINERS = ("istio-proxy", "istio-operator")  # analyzers/util IstioProxyName, IstioOperator


def _control_plane(labels) -> bool:
    """analyzers/util `IsIstioControlPlane`: the resource's own labels."""
    return "istio" in labels or labels.get("release") == "istio"


def check(index: Index, options: Options) -> Iterator[Finding]:
    for w in index.workloads():
        if _control_plane(w.resource.labels):
            continue
        affected: list[str] = []
        path: FieldPath = ()
        for i, c in w.containers():
            if c.get("name") in PROXY_CONTAINERS:
                continue
            uid, where = run_as_user(w, i, c)
            if uid == PROXY_UID:
                affected.append(str(c.get("name", i)))
                path = path or where
        if not affected:
            continue
        sc = index.sidecar(w)
        if not sc.istio:
            continue
        names = ", ".join(affected)
        if sc.assumption:
            yield RULE.finding(PROXY_UID_ASSUMED, w.resource, path, containers=names, assumption=sc.assumption)
        else:
            yield RULE.finding(PROXY_UID_VARIANT, w.resource, path, containers=names)


PROXY_UID_VARIANT = Variant(
    "proxy-uid", Severity.ERROR,
    "container {containers} runs as UID 1337, the sidecar's: its traffic bypasses the proxy, so it "
    "gets no mTLS, authorization or egress policy",
    "Run the container as another UID; keep 1337 for the istio-proxy container.")
PROXY_UID_ASSUMED = Variant(
    "proxy-uid-assumed", Severity.WARNING,
    "container {containers} runs as UID 1337, the sidecar's: its traffic bypasses the proxy, so it "
    "gets no mTLS, authorization or egress policy ({assumption})",
    "Run the container as another UID; if the namespace is not injected, list it under "
    "uninjected-namespaces.")

RULE = Rule(
    code="ML204",
    name="app-runs-as-proxy-uid",
    summary="Application container runs as the sidecar's UID 1337",
    inputs=frozenset({*WORKLOAD_KINDS, *SIDECAR_INPUTS}),
    variants=(PROXY_UID_VARIANT, PROXY_UID_ASSUMED),
    check=check,
    istio_codes=frozenset({"IST0144"}),  # InvalidApplicationUID
)
