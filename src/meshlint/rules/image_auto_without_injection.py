"""A pod's `istio-proxy` container has `image: auto`, and no injector will fill it in.

`image: auto` is the placeholder of Istio's gateway injection: a gateway Deployment lists an
`istio-proxy` container with `image: auto`, and the injector replaces it with the proxy image
(and the rest of the proxy's configuration) when it injects the pod. Reported, as
`istioctl analyze` does (istio/istio `pkg/config/analysis/analyzers/injection/image-auto.go`),
for every workload whose pods the injector will not inject (the injection decision of
istio/istio `pkg/kube/inject/inject.go`, shared with the other rules: namespace labels
`istio-injection` / `istio.io/rev`, the pod label `sidecar.istio.io/inject`, `hostNetwork`, the
injector's policy), and for a running pod that still has the placeholder (IST0147: it was not
injected).

`istioctl analyze` decides with the MutatingWebhookConfigurations in its input, so it warns
(IST0146) on every Deployment when the files hold none; meshlint decides as the stock webhooks
do, so a namespace known to be unlabelled is an error. A namespace whose Namespace object is not
in the input has unknown labels (SPEC §2): the configuration settles them
(`injected-namespaces`, `uninjected-namespaces`), or else it is assumed meshed when Istio
configuration in the input targets it and outside the mesh otherwise; a finding that rests on
that assumption is a warning that names it. A pod manifest (no `status`) is judged like a
Deployment: admission has not happened yet.

## Why it matters
Without injection the container image stays `auto`, which no registry serves: the pods sit in
`ErrImagePull`/`ImagePullBackOff` and the gateway never comes up. It happens when a gateway is
deployed to a namespace without the injection label, with a revision label no installed
revision has, or with `sidecar.istio.io/inject: "false"` copied from an application template.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata: {name: ingress}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingressgateway, namespace: ingress}
spec:
  selector:
    matchLabels: {istio: ingressgateway}
  template:
    metadata:
      annotations: {inject.istio.io/templates: gateway}
      labels: {istio: ingressgateway}
    spec:
      containers:
      - name: istio-proxy
        image: auto
```

## Fixed example
```yaml
apiVersion: v1
kind: Namespace
metadata: {name: ingress}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingressgateway, namespace: ingress}
spec:
  selector:
    matchLabels: {istio: ingressgateway}
  template:
    metadata:
      annotations: {inject.istio.io/templates: gateway}
      labels:
        istio: ingressgateway
        sidecar.istio.io/inject: "true"   # calls the injector, whatever the namespace
    spec:
      containers:
      - name: istio-proxy
        image: auto
```

## Fix
Give the gateway's pods the label `sidecar.istio.io/inject: "true"` (Istio's gateway chart
does), or label its namespace `istio-injection=enabled` or `istio.io/rev=<revision>`, and
remove any `sidecar.istio.io/inject: "false"` from the pod template.

## References
- istio/istio `pkg/config/analysis/analyzers/injection/image-auto.go`: `istioctl analyze` IST0146, IST0147
- istio/istio `pkg/kube/inject/inject.go`: whether a pod gets injected
- [Installing Gateways: gateway injection](https://istio.io/latest/docs/setup/additional-setup/gateway/)
- [IST0146 ImageAutoWithoutInjectionWarning](https://istio.io/latest/docs/reference/config/analysis/ist0146/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import SIDECAR_INPUTS, Index
from ..mesh.injection import PROXY
from ..mesh.workloads import WORKLOAD_KINDS, Workload

AUTO = "auto"


def _auto_proxy(w: Workload) -> int | None:
    """The index of the `istio-proxy` container with `image: auto` (image-auto.go hasAutoImage)."""
    for i, c in w.containers():
        if c.get("name") == PROXY and c.get("image") == AUTO:
            return i
    return None


def _live(w: Workload) -> bool:
    return w.kind == "Pod" and bool(w.spec.get("nodeName") or w.resource.raw.get("status"))


def check(index: Index, options: Options) -> Iterator[Finding]:
    for w in index.workloads():
        i = _auto_proxy(w)
        if i is None:
            continue
        path = (*w.spec_path, "containers", i, "image")
        if _live(w):
            yield RULE.finding(LIVE_POD, w.resource, path)
            continue
        decision = index.injection(w)
        if decision.istio:
            continue
        if decision.assumption:
            yield RULE.finding(NOT_INJECTED_ASSUMED, w.resource, path, reason=decision.reason,
                               assumption=decision.assumption)
        else:
            yield RULE.finding(NOT_INJECTED, w.resource, path, reason=decision.reason)


_NEVER = ("istio-proxy has image: auto, but no injector injects these pods ({reason}): the placeholder "
          "image is never replaced and the pods cannot start")
_FIX = ('Label the pod template sidecar.istio.io/inject: "true", or the namespace istio-injection=enabled '
        "(or istio.io/rev=<revision>).")
NOT_INJECTED = Variant("not-injected", Severity.ERROR, _NEVER, _FIX)
NOT_INJECTED_ASSUMED = Variant(
    "not-injected-assumed", Severity.WARNING, _NEVER + " ({assumption})",
    "If the namespace is injected, list it under injected-namespaces; otherwise " + _FIX[0].lower() + _FIX[1:])
LIVE_POD = Variant(
    "live-pod", Severity.ERROR,
    "the running pod's istio-proxy still has image: auto: it was not injected, so the container cannot start",
    "Make the injector select the pod (namespace or pod label), then recreate it.")

RULE = Rule(
    code="ML406",
    name="image-auto-without-injection",
    summary="istio-proxy with image: auto in a pod no injector injects",
    inputs=frozenset({*WORKLOAD_KINDS, *SIDECAR_INPUTS}),
    variants=(NOT_INJECTED, NOT_INJECTED_ASSUMED, LIVE_POD),
    check=check,
    istio_codes=frozenset({"IST0146", "IST0147"}),
)
