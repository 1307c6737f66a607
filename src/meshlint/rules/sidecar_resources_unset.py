"""Sidecar proxies run without resource requests, so their memory is nobody's.

Istio's injection template (istio/istio
`manifests/charts/istio-control/istio-discovery/files/injection-template.yaml`) uses the
global `values.global.proxy.resources` *unless* a pod sets any of the annotations
`sidecar.istio.io/proxyCPU`, `proxyMemory`, `proxyCPULimit`, `proxyMemoryLimit`: then those
annotations replace the whole block. Reported:

- (a) a pod template that gets a sidecar and sets some of them so that CPU or memory ends up
  with neither a request nor a limit (with only a limit, Kubernetes copies it to the request);
- (b) global proxy resources (IstioOperator `spec.values.global.proxy.resources`, Helm values
  in `--mesh-config`, the injector ConfigMap's `values`) given without `requests`;
- (c) a live pod whose `istio-proxy` container has no requests, and, read from the cluster
  (`--kube`), a workload whose newest running pod's `istio-proxy` has none: the resources
  the injector really gave it, whatever the annotations and values say;
- (d) a Linkerd-injected pod template without `config.linkerd.io/proxy-memory-request` and
  `proxy-cpu-request` (on the pod or its Namespace): Linkerd's own defaults request nothing
  (linkerd2 `charts/linkerd-control-plane/values.yaml`: `proxy.resources.*.request: ""`).

Stock Istio's defaults (100m CPU, 128Mi memory requested) are not a finding.

A workload whose Namespace object is not in the input has unknown labels (SPEC §2): the
configuration settles them (`injected-namespaces`, `uninjected-namespaces`), or else the
namespace is assumed meshed when Istio configuration in the input targets it, and outside the
mesh otherwise. A finding that rests on that assumption is a warning that names it.

## Why it matters
The scheduler places pods by their requests. A sidecar without a memory request is invisible
to it: on a node with 60 pods, 60 proxies of 50-200 MiB each are unaccounted for, the node
overcommits, and the kubelet evicts or OOM-kills whatever it picks, usually not the proxy.
Setting only `proxyCPULimit` to tune one service is the classic way to get there, because it
silently drops the memory request that the global defaults provided.

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
metadata: {name: recommendations, namespace: shop}
spec:
  template:
    metadata:
      annotations:
        sidecar.istio.io/proxyCPULimit: "1"   # replaces the defaults entirely
    spec:
      containers:
      - name: app
        image: ghcr.io/example/recommendations:4.2.0
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
metadata: {name: recommendations, namespace: shop}
spec:
  template:
    metadata:
      annotations:
        sidecar.istio.io/proxyCPU: "100m"        # the requests, with the limit
        sidecar.istio.io/proxyMemory: "128Mi"
        sidecar.istio.io/proxyCPULimit: "1"
    spec:
      containers:
      - name: app
        image: ghcr.io/example/recommendations:4.2.0
```

## Fix
Set the requests too (`sidecar.istio.io/proxyCPU`, `sidecar.istio.io/proxyMemory`) whenever
you set a limit annotation, and give `global.proxy.resources` a `requests` block.

## References
- istio/istio `manifests/charts/istio-control/istio-discovery/files/injection-template.yaml`:
  how the annotations replace the global resources
- linkerd/linkerd2 `charts/linkerd-control-plane/values.yaml`: Linkerd's proxy resource defaults
- [Resource Annotations](https://istio.io/latest/docs/reference/config/annotations/)
- [Resource Management for Pods and Containers](https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Applicability, Edit, Finding, Fix, FixKind, Options, Rule, Severity, Variant
from ..fix import edits
from ..index import SIDECAR_INPUTS, Index
from ..mesh.workloads import WORKLOAD_KINDS, Workload, pod_template
from ..resource import Resource

PREFIX = "sidecar.istio.io/"
REQUEST = {"cpu": "proxyCPU", "memory": "proxyMemory"}
LIMIT = {"cpu": "proxyCPULimit", "memory": "proxyMemoryLimit"}
ANNOTATIONS = ("proxyCPU", "proxyMemory", "proxyCPULimit", "proxyMemoryLimit")


def check(index: Index, options: Options) -> Iterator[Finding]:
    for w in index.workloads():
        sc = index.sidecar(w)
        if sc.mesh == "linkerd" and not sc.live:
            yield from _linkerd(index, w)
            continue
        if not sc.istio:
            continue
        if sc.live:
            yield from _live(w, sc.pod)
            continue
        present = [a for a in ANNOTATIONS if PREFIX + a in w.annotations]
        if not present:
            continue
        bare = [r for r in ("memory", "cpu")
                if PREFIX + REQUEST[r] not in w.annotations and PREFIX + LIMIT[r] not in w.annotations]
        if not bare:
            continue
        shown = ", ".join(PREFIX + a for a in present)
        requests = {PREFIX + REQUEST[r]: _request(r, w.annotations.get(PREFIX + LIMIT[r])) for r in bare}
        fix = Fix(tuple(edits.pod_annotation(w, key, value) for key, value in requests.items()), Applicability.SAFE,
                  "requests " + " and ".join(f"{value} {r}" for r, value in zip(bare, requests.values())))
        yield RULE.finding(PARTIAL_ANNOTATIONS_ASSUMED if sc.assumption else PARTIAL_ANNOTATIONS, w.resource,
                           w.metadata_path + ("annotations", PREFIX + present[0]), set=shown,
                           missing=" and ".join(bare), suggestion=", ".join(f"{PREFIX}{REQUEST[r]}" for r in bare),
                           assumption=sc.assumption, autofix=fix)
    for source in index.mesh().value_sources:
        proxy = source.values.get("global", {}).get("proxy") if isinstance(source.values.get("global"), dict) else None
        resources = proxy.get("resources") if isinstance(proxy, dict) else None
        if isinstance(resources, dict) and not resources.get("requests"):
            # inside a ConfigMap the values are JSON text: point at the key that holds them
            inside = source.prefix[:1] == ("data",)
            path = source.prefix if inside else source.prefix + ("global", "proxy", "resources")
            limits = resources["limits"] if isinstance(resources.get("limits"), dict) else {}
            requests = {r: _request(r, limits.get(r)) for r in ("cpu", "memory")}
            where = ("global", "proxy", "resources", "requests")
            change = Edit(source.prefix, requests, within=where) if inside else Edit(source.prefix + where, requests)
            add: Fix | None = None  # the --mesh-config file is not an input to fix
            if source.resource is not None:
                add = Fix((change,), Applicability.SAFE,
                          f"requests {requests['cpu']} cpu and {requests['memory']} memory")
            yield RULE.finding(GLOBAL_WITHOUT_REQUESTS, source.resource, path, document=source.document, autofix=add)


# SPEC §5 Fixes: Istio's own default proxy requests
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}


def _request(resource: str, limit: object) -> str:
    """Istio's default request, or the limit when the limit is lower (a request above its limit
    is refused)."""
    default = DEFAULT_REQUESTS[resource]
    if limit is None:
        return default
    below = edits.quantity(limit)
    if below is None or below < (edits.quantity(default) or 0):
        return str(limit)
    return default


LINKERD_REQUESTS = {"memory": "config.linkerd.io/proxy-memory-request", "cpu": "config.linkerd.io/proxy-cpu-request"}


def _linkerd(index: Index, w) -> Iterator[Finding]:
    ns = index.get("Namespace", "", w.namespace)
    ns_annotations = ns.annotations if ns is not None else {}
    missing = [r for r, key in LINKERD_REQUESTS.items() if key not in w.annotations and key not in ns_annotations]
    if missing:
        path = w.metadata_path + ("annotations",) if w.annotations else w.path
        yield RULE.finding(
            LINKERD_WITHOUT_REQUESTS, w.resource, path, missing=" or ".join(missing),
            keys=", ".join(LINKERD_REQUESTS[r] for r in missing))


def _live(w: Workload, pod: Resource | None) -> Iterator[Finding]:
    """A running pod's istio-proxy (classic or native) without requests: the pod's own, or that
    of the workload's newest running pod (`pod`), reported on the workload."""
    running = pod_template(pod) if pod is not None else w
    if running is None:
        return
    for key in ("containers", "initContainers"):
        for i, c in running.containers(init=key == "initContainers"):
            if c.get("name") != "istio-proxy":
                continue
            requests = (c.get("resources") or {}).get("requests") or {}
            missing = " or ".join(r for r in ("memory", "cpu") if r not in requests)
            if not missing:
                continue
            if pod is None:
                yield RULE.finding(LIVE_WITHOUT_REQUESTS, w.resource, w.spec_path + (key, i), missing=missing)
            else:
                yield RULE.finding(LIVE_POD_WITHOUT_REQUESTS, w.resource, w.path, missing=missing, pod=pod.name)


LIVE_POD_WITHOUT_REQUESTS = Variant(
    "live-pod-without-requests", Severity.WARNING,
    "the istio-proxy container of its running pod {pod} has no {missing} request",
    "Set sidecar.istio.io/proxyCPU and sidecar.istio.io/proxyMemory on the pod template, or requests in "
    "global.proxy.resources, and restart the pods.")
PARTIAL_ANNOTATIONS = Variant(
    "partial-annotations", Severity.WARNING,
    "{set} replaces the global proxy resources entirely, leaving the sidecar with no {missing} request "
    "or limit",
    "Also set {suggestion} on the pod template.")
PARTIAL_ANNOTATIONS_ASSUMED = Variant(
    "partial-annotations-assumed", Severity.WARNING,
    "{set} replaces the global proxy resources entirely, leaving the sidecar with no {missing} request "
    "or limit ({assumption})",
    "Also set {suggestion} on the pod template.")
GLOBAL_WITHOUT_REQUESTS = Variant(
    "global-without-requests", Severity.WARNING,
    "global proxy resources (values.global.proxy.resources) set no requests: every injected sidecar "
    "runs without a CPU or memory request",
    "Add requests (e.g. cpu: 100m, memory: 128Mi) to global.proxy.resources.")
LINKERD_WITHOUT_REQUESTS = Variant(
    "linkerd-without-requests", Severity.WARNING,
    "the Linkerd proxy gets no {missing} request: Linkerd's defaults request nothing unless "
    "config.linkerd.io/proxy-*-request annotations (or install values) set them",
    "Annotate the pod template (or its Namespace) with {keys}.")
LIVE_WITHOUT_REQUESTS = Variant(
    "live-without-requests", Severity.WARNING,
    "the running istio-proxy container has no {missing} request",
    "Set sidecar.istio.io/proxyCPU and sidecar.istio.io/proxyMemory on the pod template, or requests in "
    "global.proxy.resources, and restart the pods.")

RULE = Rule(
    code="ML402",
    name="sidecar-resources-unset",
    summary="Sidecar proxy without CPU or memory requests",
    inputs=frozenset({*WORKLOAD_KINDS, *SIDECAR_INPUTS}),
    variants=(PARTIAL_ANNOTATIONS, GLOBAL_WITHOUT_REQUESTS, LINKERD_WITHOUT_REQUESTS, LIVE_WITHOUT_REQUESTS,
              PARTIAL_ANNOTATIONS_ASSUMED, LIVE_POD_WITHOUT_REQUESTS),
    check=check,
    footgun=6,
    fixes=(
        FixKind(Applicability.SAFE,
                "Add the missing proxy requests with Istio's defaults (100m CPU, 128Mi memory, or the "
                "limit when it is lower)."),
    ),
)
