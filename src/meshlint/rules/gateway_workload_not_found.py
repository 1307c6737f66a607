"""An Istio Gateway's selector matches no gateway workload.

An Istio Gateway configures the proxies whose pod labels match its `selector` (in any
namespace). When none matches, its servers exist nowhere. Same check as `istioctl analyze`
IST0101 for a Gateway's selector (istio/istio
`pkg/config/analysis/analyzers/gateway/gateway.go`) and Kiali's KIA0302.

Unknown is not no (SPEC §2): the gateway Deployments usually come from the Istio installation
(istioctl, Helm) and are not in the input. So "selects no workload" is said only when the
input demonstrably holds the gateway workloads the selector is about: gateway workloads
(labelled `istio: ...gateway`, `gateway.networking.k8s.io/gateway-name`, with the gateway
injection template, or running the proxy as a router) that carry every key of the selector,
with other values. That is a warning, as it assumes the input holds all of them. For the
selectors of the stock gateways (`istio: ingressgateway`, `istio: egressgateway`),
`istioctl analyze` and Kiali assume the installation's gateway exists: so does meshlint,
unless the input holds gateway workloads of the root namespace that carry the key. When the
input holds no gateway workload that could be meant, the Gateway is reported at info level:
its workload is not in the input.

## Why it matters
Nothing rejects a Gateway whose selector matches nothing: its hosts and ports are simply not
configured on any proxy, and VirtualServices bound to it look fine while external requests
get connection refused or the 404 of another Gateway. The usual causes are a typo in the
label, or a gateway installed with new labels (the Helm gateway chart labels its pods with
the release name).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: partner-api, namespace: partners}
spec:
  selector: {istio: partner-gateway}   # the Deployment is labelled istio: partners-gateway
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [api.partner.example.com]
    tls: {mode: SIMPLE, credentialName: partner-api-cert}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: partners-gateway, namespace: partners}
spec:
  selector:
    matchLabels: {istio: partners-gateway}
  template:
    metadata:
      labels: {istio: partners-gateway}
      annotations: {inject.istio.io/templates: gateway}
    spec:
      containers:
      - {name: istio-proxy, image: auto}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: partner-api, namespace: partners}
spec:
  selector: {istio: partners-gateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [api.partner.example.com]
    tls: {mode: SIMPLE, credentialName: partner-api-cert}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: partners-gateway, namespace: partners}
spec:
  selector:
    matchLabels: {istio: partners-gateway}
  template:
    metadata:
      labels: {istio: partners-gateway}
      annotations: {inject.istio.io/templates: gateway}
    spec:
      containers:
      - {name: istio-proxy, image: auto}
```

## Fix
Set the Gateway's `selector` to the pod labels of the gateway that should serve it
(`kubectl get pods -A -l <selector>` must list its pods).

## References
- istio/istio `pkg/config/analysis/analyzers/gateway/gateway.go`: `istioctl analyze` IST0101 for a Gateway selector
- [Gateway: selector](https://istio.io/latest/docs/reference/config/networking/gateway/)
- [Kiali validations: KIA0302, no matching workload for the gateway selector](https://kiali.io/docs/features/validations/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.gateways import selector_text, stock_assumed
from ..mesh.workloads import WORKLOAD_KINDS

SHOWN = 3  # gateway workloads named in one message


def check(index: Index, options: Options) -> Iterator[Finding]:
    root = index.facts.root_namespace
    for gw in index.of_kind("Gateway"):
        selector = gw.spec.get("selector") or {}
        if not selector or index.workloads_matching(selector):
            continue
        candidates = index.gateway_workloads_labelled(selector)
        if stock_assumed(selector, candidates, root):
            continue
        wanted = selector_text(selector)
        if not candidates:
            yield RULE.finding(NOT_IN_INPUT, gw, ("spec", "selector"), selector=wanted)
            continue
        seen = sorted({selector_text({k: w.labels[k] for k in selector}) for w in candidates})
        names = [w.display() for w in candidates[:SHOWN]] + (["..."] if len(candidates) > SHOWN else [])
        yield RULE.finding(NO_WORKLOAD, gw, ("spec", "selector"), related=tuple(w.resource.ref for w in candidates),
                           selector=wanted, seen="; ".join(seen), workloads=", ".join(names))


NO_WORKLOAD = Variant(
    "no-workload", Severity.WARNING,
    "no workload has labels {selector}, while the gateway workloads of the input are labelled {seen} "
    "({workloads}): no proxy serves this Gateway",
    "Set the selector to the pod labels of the gateway that should serve it, or add that gateway to "
    "the input.")
NOT_IN_INPUT = Variant(
    "workload-not-in-input", Severity.INFO,
    "no workload in the input has labels {selector} (nor any gateway workload with these label keys); "
    "if none runs in the cluster, no proxy serves this Gateway",
    "Check that `kubectl get pods -A -l {selector}` lists the gateway's pods.")

RULE = Rule(
    code="ML113",
    name="gateway-workload-not-found",
    summary="Istio Gateway whose selector matches no gateway workload",
    inputs=frozenset({"Gateway", *WORKLOAD_KINDS}),
    variants=(NO_WORKLOAD, NOT_IN_INPUT),
    check=check,
    istio_codes=frozenset({"IST0101"}),  # ReferencedResourceNotFound (a selector)
)
