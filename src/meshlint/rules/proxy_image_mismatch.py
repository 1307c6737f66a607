"""A running pod's sidecar is not the proxy its injector gives new pods: an upgrade half done.

For every Pod that runs `istio-proxy` (as the API server returns it: `--kube`, or a
`kubectl get pods -o yaml` dump), the revision that injects it is the one whose webhook selects
it (a revision tag's webhook carries the revision it points at), and that revision's injector
ConfigMap in the root namespace (`istio-sidecar-injector`, `istio-sidecar-injector-<rev>`)
names the proxy image new pods get (istio/istio `pkg/kube/inject/inject.go` `ProxyImage`:
`global.proxy.image` when it names a repository, else `<global.hub>/<image>:<global.tag>`, the
tag ending in the image type: `-distroless` for `global.variant: distroless`, the mesh's
`defaultConfig.image.imageType` or the pod's `sidecar.istio.io/proxyImageType`; `istioctl
analyze` ignored the type until istio/istio#48017 and reported every distroless proxy). A pod
whose proxy runs another image was injected before the control plane changed and was never
restarted. It is reported once on the workload that runs it (the Deployment of its
ReplicaSet, the CronJob of its Job), naming the first such pod and how many more there are.
Pods that pin an image with `sidecar.istio.io/proxyImage` are left alone, as istio's analyzer
leaves them.

## Why it matters
An in-place upgrade (or a revision tag moved to a new revision) changes the injector at once,
but a sidecar only changes when its pod is recreated. Until then old proxies talk to the new
control plane: Istio supports one minor version of skew at most, features and fixes are
missing in some pods only, and the next node drain mixes versions at random. This is footgun
9 caught in the middle: the upgrade looks done, half the mesh still runs the old proxy.

## Example
```yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  values: '{"global": {"hub": "docker.io/istio", "tag": "1.22.3", "proxy": {"image": "proxyv2"}}}'
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: v1
kind: Pod
metadata: {name: cart-7d9c5b7f4-x2kqp, namespace: shop}
spec:
  containers:
  - name: cart
    image: ghcr.io/example/cart:3.1.0
  - name: istio-proxy
    image: docker.io/istio/proxyv2:1.21.2
```

## Fixed example
```yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  values: '{"global": {"hub": "docker.io/istio", "tag": "1.22.3", "proxy": {"image": "proxyv2"}}}'
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: v1
kind: Pod
metadata: {name: cart-7d9c5b7f4-b8w2z, namespace: shop}
spec:
  containers:
  - name: cart
    image: ghcr.io/example/cart:3.1.0
  - name: istio-proxy
    image: docker.io/istio/proxyv2:1.22.3
```

## Fix
Restart the workload (`kubectl rollout restart deployment/cart -n shop`) so that the injector
gives its pods the current proxy; with revisions, relabel the namespace and restart it
namespace by namespace. Pin an image on purpose with `sidecar.istio.io/proxyImage`.

## References
- istio/istio `pkg/kube/inject/inject.go`: `ProxyImage`, the image the injector writes
- istio/istio `pkg/config/analysis/analyzers/injection/injection-image.go`: `istioctl analyze`
  IST0158 (IST0105 before it)
- [Upgrade with Helm: restart the workloads](https://istio.io/latest/docs/setup/upgrade/helm/)
- [Supported releases: control plane and proxy skew](https://istio.io/latest/docs/releases/supported-releases/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.pods import (
    PROXY,
    PROXY_IMAGE_ANNOTATION,
    image_type,
    injector_revision,
    injectors,
    proxy_image,
    running_proxy_image,
)
from ..mesh.workloads import POD_TEMPLATES, WORKLOAD_KINDS
from ..resource import FieldPath, Resource


def check(index: Index, options: Options) -> Iterator[Finding]:
    mesh = index.mesh()
    values_of = injectors(mesh)
    if not values_of:
        return
    configs = index.of_kind("MutatingWebhookConfiguration")
    outdated: dict[int, tuple[Resource, list[tuple[Resource, str, str, str]]]] = {}
    for pod in index.of_kind("Pod"):
        image = running_proxy_image(pod)
        if not image or image == "auto" or pod.annotations.get(PROXY_IMAGE_ANNOTATION):
            continue
        namespace = index.get("Namespace", "", pod.namespace)
        revision = injector_revision(pod.labels, namespace.labels if namespace is not None else None, configs)
        if revision is None or revision not in values_of:
            continue
        expected = proxy_image(values_of[revision][0], image_type(pod, mesh))
        owner = index.owner(pod)
        # a workload of a file over the cluster's (`--kube PATH`) is what would be applied: its
        # pods are rolled with the new template, and the running ones do not speak for it
        if image != expected and owner.cluster == pod.cluster:
            outdated.setdefault(id(owner), (owner, []))[1].append((pod, image, expected, revision))
    for owner, pods in outdated.values():
        pods.sort(key=lambda found: found[0].name)
        pod, image, expected, revision = pods[0]
        more = f" (and {len(pods) - 1} more pod{'s' if len(pods) > 2 else ''})" if len(pods) > 1 else ""
        kind = (owner.kind_name or owner.kind).lower()
        restart = (f"recreate the pod {owner.name}" if owner.kind == "Pod" else
                   f"kubectl rollout restart {kind}/{owner.name} -n {owner.namespace}")
        yield RULE.finding(OUTDATED_PROXY, owner, _path(owner), pod=pod.name, image=image, expected=expected,
                           revision=revision, more=more, restart=restart)


def _path(owner: Resource) -> FieldPath:
    """The pod's proxy image, or the pod template of the workload that runs the pod."""
    if owner.kind != "Pod":
        return POD_TEMPLATES.get(owner.kind, ())
    for key in ("containers", "initContainers"):
        for i, c in enumerate(owner.spec.get(key) or ()):
            if isinstance(c, dict) and c.get("name") == PROXY:
                return ("spec", key, i, "image")
    return ()


OUTDATED_PROXY = Variant(
    "outdated-proxy", Severity.WARNING,
    "pod {pod} runs istio-proxy {image}, not {expected}, which the injector of revision {revision} gives new "
    "pods{more}: it was injected before the control plane changed and never restarted",
    "Restart it so that the injector gives it the current proxy ({restart}), or pin the image on purpose with "
    "sidecar.istio.io/proxyImage.")

RULE = Rule(
    code="ML410",
    name="proxy-image-mismatch",
    summary="Running sidecar proxy differs from the image the injector gives new pods",
    inputs=frozenset({*WORKLOAD_KINDS, "Namespace", "MutatingWebhookConfiguration", "ConfigMap", "IstioOperator"}),
    variants=(OUTDATED_PROXY,),
    check=check,
    istio_codes=frozenset({"IST0105", "IST0158"}),
    footgun=9,
)
