"""A Job or CronJob gets a sidecar that never exits, so the Job never completes.

The pod template of a Job or CronJob is checked with Istio's injection decision (namespace
labels `istio-injection` / `istio.io/rev`, the pod label `sidecar.istio.io/inject`, the
injector's selectors and policy: istio/istio `pkg/kube/inject/inject.go`, `injectRequired`).
When it gets an `istio-proxy` sidecar, the Job is reported unless the sidecar can end with it:

- native sidecars are on: pod annotation `sidecar.istio.io/nativeSidecar: "true"`,
  `native-sidecars: true` in the configuration, istiod's `ENABLE_NATIVE_SIDECARS` in the Helm
  values, or a live pod whose `istio-proxy` is an init container (Kubernetes >= 1.28 then stops
  it after the main containers);
- or a container command calls the agent's `/quitquitquit` endpoint when the work is done
  (istio/istio `pilot/cmd/pilot-agent/status/server.go`).

Linkerd: a pod template annotated (or in a namespace annotated) `linkerd.io/inject: enabled`
is reported unless its command runs `linkerd-await --shutdown` or it sets
`config.alpha.linkerd.io/proxy-enable-native-sidecar: "true"`.

Read from the cluster (`--kube`), a Job or CronJob whose running pod shows the footgun
happening is reported with how long it has lasted: its application containers have all
terminated while `istio-proxy` still runs (`mesh.pods.stuck_since`), whatever the template
says. Its running pods settle the injection decision, too.

A workload whose Namespace object is not in the input has unknown labels (SPEC §2): the
configuration settles them (`injected-namespaces`, `uninjected-namespaces`), or else the
namespace is assumed meshed when Istio configuration in the input targets it, and outside the
mesh otherwise. A finding that rests on that assumption is a warning that names it.

## Why it matters
A Job is complete when all of its pod's containers have exited. A classic sidecar proxy keeps
running after the main container finishes, so the pod stays `Running` (`1/2 Ready`), the Job
never reaches `Complete`, `activeDeadlineSeconds` or `backoffLimit` fire instead, CronJobs pile
up with `concurrencyPolicy: Forbid` blocking every later run, and database migrations block
the deploys that wait on them.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: ghcr.io/example/shop-migrations:2.3.0
        command: ["/app/migrate", "up"]
```

## Fixed example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  template:
    metadata:
      annotations:
        sidecar.istio.io/nativeSidecar: "true"   # Kubernetes >= 1.28
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: ghcr.io/example/shop-migrations:2.3.0
        command: ["/app/migrate", "up"]
```

## Fix
Use native sidecars (annotation `sidecar.istio.io/nativeSidecar: "true"`, Kubernetes >= 1.28),
or end the job with `curl -fsS -XPOST http://127.0.0.1:15020/quitquitquit`, or opt the pod out
with the label `sidecar.istio.io/inject: "false"` when it needs no mesh traffic.

## References
- istio/istio `pkg/kube/inject/inject.go`: whether a pod gets a sidecar
- istio/istio `pilot/cmd/pilot-agent/status/server.go`: the agent's `/quitquitquit` endpoint
- [Kubernetes Native Sidecars in Istio](https://istio.io/latest/blog/2023/native-sidecars/)
- [Sidecar Containers](https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/)
- [Linkerd: Graceful shutdown of Jobs](https://linkerd.io/2-edge/tasks/graceful-shutdown/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Applicability, Finding, Fix, FixKind, Options, Rule, Severity, Variant
from ..fix import edits
from ..index import SIDECAR_INPUTS, Index
from ..mesh.pods import duration, stuck_since
from ..mesh.workloads import BATCH_KINDS, WORKLOAD_KINDS, Workload
from ..resource import LiveOrigin, Resource

NATIVE_ANNOTATION = "sidecar.istio.io/nativeSidecar"
LINKERD_NATIVE = "config.alpha.linkerd.io/proxy-enable-native-sidecar"
INJECT = "sidecar.istio.io/inject"


def _commands(w: Workload) -> list[str]:
    out = []
    for _, c in w.containers():
        out += [x for key in ("command", "args") for x in c.get(key) or () if isinstance(x, str)]
    return out


def _native_by_values(index: Index) -> bool:
    env = index.mesh().value("pilot", "env", "ENABLE_NATIVE_SIDECARS")
    return str(env).lower() == "true"


def check(index: Index, options: Options) -> Iterator[Finding]:
    native_everywhere = index.facts.native_sidecars or _native_by_values(index)
    native_pod: list[Workload | None] = []  # a pod with a native sidecar: looked for once, when a fix needs it
    for w in index.workloads():
        if w.kind not in BATCH_KINDS:
            continue
        stuck = _stuck(w, index.live_pods(w))
        if stuck is not None:
            yield stuck
            continue
        sc = index.sidecar(w)
        if not sc:
            continue
        commands = " ".join(_commands(w))
        if sc.mesh == "istio":
            if sc.native or native_everywhere or str(w.annotations.get(NATIVE_ANNOTATION, "")).lower() == "true":
                continue
            if "quitquitquit" in commands:
                continue
            if not native_pod:
                native_pod.append(_native_sidecar_pod(index))
            yield RULE.finding(ISTIO_SIDECAR_ASSUMED if sc.assumption else ISTIO_SIDECAR, w.resource, w.path,
                               reason=sc.reason, proxy="Istio sidecar", assumption=sc.assumption,
                               autofix=_fix(w, native_pod[0]))
        elif sc.mesh == "linkerd":
            if str(w.annotations.get(LINKERD_NATIVE, "")).lower() == "true":
                continue
            if "linkerd-await" in commands and "--shutdown" in commands:
                continue
            yield RULE.finding(LINKERD_PROXY, w.resource, w.path, reason=sc.reason, proxy="Linkerd proxy")


def _fix(w: Workload, native: Workload | None) -> Fix:
    """SPEC §5: the native-sidecar annotation when the input shows that native sidecars work
    in this cluster (`native`: a pod that has one): safe, the sidecar then ends with the job.
    Else the injection opt-out label: unsafe, the job then runs outside the mesh."""
    if native is not None:
        return Fix((edits.pod_annotation(w, NATIVE_ANNOTATION, "true"),), Applicability.SAFE,
                   f"runs the sidecar as a native sidecar, as {native.display()} does")
    return Fix((edits.pod_label(w, INJECT, "false"),), Applicability.UNSAFE,
               "opts the job's pods out of injection: they run without a sidecar (no mTLS, no mesh policy)")


def _native_sidecar_pod(index: Index) -> Workload | None:
    """A pod of the input that runs Istio's sidecar as a native sidecar, if any."""
    for w in index.workloads():
        sc = index.sidecar(w)
        if sc.istio and (sc.native or str(w.annotations.get(NATIVE_ANNOTATION, "")).lower() == "true"):
            return w
    return None


def _stuck(w: Workload, pods: list[Resource]) -> Finding | None:
    """The finding for the pod that has run its proxy longest since its containers exited, if
    any pod of the Job (or of the CronJob's Jobs) has."""
    stuck = []
    for pod in pods:
        since = stuck_since(pod)
        if since is not None and isinstance(pod.origin, LiveOrigin) and pod.origin.read_at:
            stuck.append((pod.origin.read_at - since, pod))
    if not stuck:
        return None
    age, pod = max(stuck, key=lambda found: (found[0], found[1].name))
    job = next((o.get("name") for o in pod.metadata.get("ownerReferences") or ()
                if isinstance(o, dict) and o.get("kind") == "Job"), w.name)
    more = f" (and {len(stuck) - 1} more pod{'s' if len(stuck) > 2 else ''})" if len(stuck) > 1 else ""
    return RULE.finding(STUCK, w.resource, w.path, pod=pod.name, job=job, age=duration(age), more=more)


_NEVER_COMPLETES = ("the pod gets an {proxy} ({reason}) that keeps running after the job's containers exit, "
                    "so the Job never completes")
ISTIO_SIDECAR = Variant(
    "istio-sidecar", Severity.ERROR, _NEVER_COMPLETES,
    'Set the pod annotation sidecar.istio.io/nativeSidecar: "true" (Kubernetes >= 1.28), call curl -fsS '
    "-XPOST http://127.0.0.1:15020/quitquitquit when the work is done, or opt out with the pod label "
    'sidecar.istio.io/inject: "false".')
ISTIO_SIDECAR_ASSUMED = Variant(
    "istio-sidecar-assumed", Severity.WARNING, _NEVER_COMPLETES + " ({assumption})",
    'If the namespace is not injected, list it under uninjected-namespaces; otherwise set the pod '
    'annotation sidecar.istio.io/nativeSidecar: "true" (Kubernetes >= 1.28), call the agent\'s '
    '/quitquitquit when the work is done, or opt out with the pod label sidecar.istio.io/inject: "false".')
STUCK = Variant(
    "stuck-job", Severity.ERROR,
    "pod {pod} of Job {job} has run istio-proxy for {age} since its containers exited{more}: the Job never "
    "completes",
    'Set the pod annotation sidecar.istio.io/nativeSidecar: "true" (Kubernetes >= 1.28) or call the agent\'s '
    "/quitquitquit when the work is done; end the stuck pod now with kubectl exec {pod} -c istio-proxy -- "
    "pilot-agent request POST quitquitquit.")
LINKERD_PROXY = Variant(
    "linkerd-proxy", Severity.ERROR, _NEVER_COMPLETES,
    f'Wrap the command in `linkerd-await --shutdown --`, or set the annotation {LINKERD_NATIVE}: "true" '
    "(Kubernetes >= 1.28).")

RULE = Rule(
    code="ML401",
    name="job-sidecar-injected",
    summary="Job or CronJob gets a sidecar that keeps it from completing",
    inputs=frozenset({*WORKLOAD_KINDS, *SIDECAR_INPUTS}),
    variants=(ISTIO_SIDECAR, LINKERD_PROXY, ISTIO_SIDECAR_ASSUMED, STUCK),
    check=check,
    footgun=2,
    fixes=(
        FixKind(Applicability.SAFE,
                "Annotate the pod template `sidecar.istio.io/nativeSidecar: \"true\"` when the input "
                "shows native sidecars at work in the cluster."),
        FixKind(Applicability.UNSAFE,
                "Otherwise label the pod template `sidecar.istio.io/inject: \"false\"`: the job runs "
                "without a sidecar."),
    ),
)
