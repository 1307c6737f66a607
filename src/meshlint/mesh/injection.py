"""Does a workload get a sidecar? Istio's injection decision, and Linkerd's.

Istio (istio/istio `manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml`
for which webhook is called, `pkg/kube/inject/inject.go` `injectRequired` for what it decides):

1. `hostNetwork: true` -> never; system namespaces -> never.
2. Is a webhook called at all? Namespace label `istio-injection=enabled` -> yes (it wins over
   `istio.io/rev`); any other `istio-injection` value -> no webhook selects the namespace;
   else namespace label `istio.io/rev=<rev>` -> yes; else pod *label*
   `sidecar.istio.io/inject: "true"` or pod label `istio.io/rev` -> yes; else, with
   `sidecarInjectorWebhook.enableNamespacesByDefault`, yes. A pod *annotation* alone never calls
   the webhook.
3. Once called: pod label `sidecar.istio.io/inject` (else the annotation of the same name) of
   `y`/`yes`/`true`/`on` injects, any other non-empty value opts out; when neither is set,
   `neverInjectSelector` then `alwaysInjectSelector` decide; else the injector `policy`
   (default `enabled`).

A namespace whose Namespace object is not in the input has unknown labels (SPEC §2, "unknown is
not no"). They are settled by the configuration first (`injected-namespaces`: as if labelled
`istio-injection=enabled`; `uninjected-namespaces`: as if unlabelled), then by inference: a
namespace that Istio configuration in the input targets is assumed meshed, any other is assumed
outside the mesh (`namespaces.meshed_by_configuration`). A decision that the assumption changes
carries it (`Sidecar.assumption`), so that a finding resting on it can say so and is never an
error; a decision that holds either way (a pod label, `hostNetwork`) does not.
A live Pod tells the truth directly: it has a sidecar when it has an `istio-proxy` container
(in `initContainers` for native sidecars). So do the running Pods of a workload read from the
cluster: the newest of them (the one created from the current template, through the current
namespace labels and injector) settles the workload's decision, which catches pods that were
never restarted after their namespace was labelled or unlabelled.

A workload that runs `istio-proxy` itself (an Istio gateway Deployment, a manually injected
pod) is a proxy. A workload in ambient mode (`istio.io/dataplane-mode: ambient` on the pod or
its Namespace, and not `none` on the pod) has no sidecar but is in the mesh: ztunnel
terminates mTLS for it.

Linkerd: annotation `linkerd.io/inject: enabled` (or `ingress`) on the pod template, else on
the Namespace; `disabled` on the pod opts out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..resource import Resource
from .meshconfig import MeshSettings
from .namespaces import is_system_namespace
from .workloads import Workload, label_selector_matches, pod_template

INJECT = "sidecar.istio.io/inject"
REV = "istio.io/rev"
NS_INJECTION = "istio-injection"
PROXY = "istio-proxy"
LINKERD_INJECT = "linkerd.io/inject"
TRUE_VALUES = ("y", "yes", "true", "on")


@dataclass(frozen=True)
class Sidecar:
    injected: bool
    mesh: str  # "istio", "linkerd" or "" (none)
    reason: str  # why, in words, for messages
    native: bool = False  # live pod whose istio-proxy is a native (init) sidecar
    live: bool = False  # decided from a live Pod's containers
    ambient: bool = False  # no sidecar, but meshed by ztunnel
    # the assumption about the namespace that the decision rests on ("" when it rests on none),
    # as a clause that names the setting which settles it
    assumption: str = ""
    pod: Resource | None = None  # the running pod of the workload that decided (live)

    def __bool__(self) -> bool:
        return self.injected

    @property
    def istio(self) -> bool:
        """An Istio sidecar (or the pod is an Istio proxy itself)."""
        return self.injected and self.mesh == "istio"

    @property
    def meshed(self) -> bool:
        """Inside Istio's mTLS: a sidecar, or ambient mode."""
        return self.istio or self.ambient


SETTLE = "set injected-namespaces or uninjected-namespaces"


@dataclass(frozen=True)
class UnlistedNamespaces:
    """What is known about the namespaces whose Namespace object is not in the input."""

    injected: frozenset[str] = frozenset()  # configuration: injected-namespaces
    uninjected: frozenset[str] = frozenset()  # configuration: uninjected-namespaces
    # inference: namespace -> the Istio object in the input that targets it ("VirtualService shop/cart")
    meshed_by: Mapping[str, str] = field(default_factory=dict)


NO_FACTS = UnlistedNamespaces()


@dataclass(frozen=True)
class NamespaceLabels:
    """A namespace's labels as the decision uses them: read from its Namespace object, stated by
    the configuration, or assumed (then with the labels of the other outcome, `otherwise`)."""

    labels: Mapping[str, str]
    described: str = ""  # the namespace in reasons, when the labels are not its object's own
    assumption: str = ""  # "" unless assumed
    otherwise: Mapping[str, str] = field(default_factory=dict)


def namespace_labels(namespace: Resource | None, name: str, unlisted: UnlistedNamespaces) -> NamespaceLabels:
    """The labels the injection decision reads for namespace `name`: its Namespace object's;
    else the configuration's; else an assumption (meshed when Istio configuration in the input
    targets it, outside the mesh otherwise)."""
    if namespace is not None:
        return NamespaceLabels(namespace.labels)
    where = f"namespace {name}"
    if name in unlisted.injected:
        return NamespaceLabels({NS_INJECTION: "enabled"},
                               f"{where} has {NS_INJECTION}=enabled (from injected-namespaces)")
    if name in unlisted.uninjected:
        return NamespaceLabels({}, f"{where} is not labelled for injection (from uninjected-namespaces)")
    by = unlisted.meshed_by.get(name)
    if by is None:
        return NamespaceLabels(
            {}, f"{where} is assumed outside the mesh",
            f"assuming {where} is outside the mesh: its Namespace is not in the input and no Istio "
            f"configuration in the input targets it; {SETTLE}",
            {NS_INJECTION: "enabled"})
    return NamespaceLabels(
        {NS_INJECTION: "enabled"}, f"{where} is assumed meshed ({by} targets it)",
        f"assuming {where} is meshed: its Namespace is not in the input and {by} targets it; {SETTLE}")


AMBIENT = "istio.io/dataplane-mode"
AMBIENT_REDIRECTION = "ambient.istio.io/redirection"  # analyzers/util in_mesh.go PodInAmbientMode


def istio_sidecar(w: Workload, namespace: Resource | None, unlisted: UnlistedNamespaces,
                  mesh: MeshSettings) -> Sidecar:
    if w.kind == "Pod" and (w.spec.get("containers") or w.spec.get("initContainers")):
        live = _live_pod(w)
        if live is not None:
            return live
    if any(c.get("name") == PROXY for _, c in w.containers()):
        return Sidecar(True, "istio", f"it runs {PROXY} itself (a gateway or a manually injected pod)")
    if any(c.get("name") == PROXY for _, c in w.containers(init=True)):
        return Sidecar(True, "istio", f"it runs {PROXY} as a native sidecar", native=True)
    decided = _decision(w, namespace, unlisted, mesh)
    if decided.injected:
        return decided  # the injector ignores istio.io/dataplane-mode; ztunnel skips pods with a sidecar
    pod_mode = w.labels.get(AMBIENT)
    ns_mode = namespace.labels.get(AMBIENT) if namespace is not None else None
    if w.annotations.get(AMBIENT_REDIRECTION) == "enabled":  # istio-cni marks a live ambient pod
        pod_mode = "ambient"
    if pod_mode == "ambient" or (ns_mode == "ambient" and pod_mode != "none"):
        where = "pod" if pod_mode == "ambient" else f"namespace {w.namespace}"
        return Sidecar(False, "", f"{where} runs in ambient mode (ztunnel, no sidecar)", ambient=True)
    return decided


def webhook_decision(w: Workload, namespace: Resource | None, unlisted: UnlistedNamespaces,
                     mesh: MeshSettings) -> Sidecar:
    """Would the injector inject this pod? The webhook's decision alone, whatever containers the
    pod lists itself (a gateway Deployment's `istio-proxy` with `image: auto` is a placeholder
    that only injection fills in)."""
    return _decision(w, namespace, unlisted, mesh)


def _decision(w: Workload, namespace: Resource | None, unlisted: UnlistedNamespaces, mesh: MeshSettings) -> Sidecar:
    """The webhook's decision; with an assumed namespace, it carries the assumption only when
    the other outcome of the assumption would decide otherwise."""
    if w.spec.get("hostNetwork") is True:
        return Sidecar(False, "", "it uses hostNetwork, where Istio never injects")
    if is_system_namespace(w.namespace):
        return Sidecar(False, "", f"Istio never injects in namespace {w.namespace}")
    ns = namespace_labels(namespace, w.namespace, unlisted)
    decided = _webhook_decision(w, ns.labels, ns.described, mesh)
    if not ns.assumption:
        return decided
    other = _webhook_decision(w, ns.otherwise, "", mesh)
    if other.injected != decided.injected:
        return replace(decided, assumption=ns.assumption)
    # the namespace does not matter: say why from the pod's side, which is an opt-out under an
    # injecting namespace, or what injects under an unlabelled one (a pod label)
    meshed, unlabelled = (decided, other) if ns.labels else (other, decided)
    return unlabelled if decided.injected else meshed


def _webhook_decision(w: Workload, labels: Mapping[str, str], described: str, mesh: MeshSettings) -> Sidecar:
    """`described`: the namespace in reasons when `labels` are not its object's own."""
    where = f"namespace {w.namespace}"
    ns_inject, ns_rev = labels.get(NS_INJECTION), labels.get(REV)
    pod_label, pod_rev = w.labels.get(INJECT), w.labels.get(REV)
    if ns_inject == "enabled":
        called = described or f"{where} has {NS_INJECTION}=enabled"
    elif ns_inject is not None:
        return Sidecar(False, "", f"{where} has {NS_INJECTION}={ns_inject}")
    elif ns_rev:
        called = f"{where} has {REV}={ns_rev}"
    elif REV in labels:
        return Sidecar(False, "", f"{where} has an empty {REV} label, which no injection webhook selects")
    elif pod_label == "true":
        called = f'pod label {INJECT}="true"'
    elif pod_rev:
        called = f"pod label {REV}={pod_rev}"
    elif mesh.value("sidecarInjectorWebhook", "enableNamespacesByDefault") is True:
        called = "sidecarInjectorWebhook.enableNamespacesByDefault is on"
    else:
        why = described or f"{where} is not labelled for injection"
        if str(w.annotations.get(INJECT, "")).lower() in TRUE_VALUES:
            why += f' (the {INJECT} annotation alone cannot inject)'
        return Sidecar(False, "", why)
    # the webhook is called: pkg/kube/inject/inject.go injectRequired
    illegal = _illegal_policy(mesh)
    if illegal:
        return Sidecar(False, "", f'the injector policy "{illegal}" is not enabled or disabled: Istio disables '
                                  "injection altogether")
    selector = w.annotations.get(INJECT)
    source = "annotation"
    if INJECT in w.labels:
        selector, source = w.labels[INJECT], "label"
    selector = str(selector or "").lower()
    if selector in TRUE_VALUES:
        return Sidecar(True, "istio", f"{called}")
    if selector:
        return Sidecar(False, "", f'pod {source} {INJECT}="{selector}" opts out')
    for never in mesh.selectors("neverInjectSelector"):
        if label_selector_matches(never, w.labels):
            return Sidecar(False, "", "the injector's neverInjectSelector matches its labels")
    for always in mesh.selectors("alwaysInjectSelector"):
        if label_selector_matches(always, w.labels):
            return Sidecar(True, "istio", f"{called} and alwaysInjectSelector matches")
    if mesh.injection_policy == "enabled":
        return Sidecar(True, "istio", called)
    return Sidecar(False, "", f"{called} but the injector policy is {mesh.injection_policy}")


def _illegal_policy(mesh: MeshSettings) -> str:
    policy = mesh.injection_policy
    return "" if policy in ("enabled", "disabled") else policy


def _live_pod(w: Workload, the_pod: str = "the pod") -> Sidecar | None:
    """What a pod as the API server returns it runs; `the_pod` names it in the reason."""
    for _, c in w.containers():
        if c.get("name") == PROXY:
            return Sidecar(True, "istio", f"{the_pod} has an {PROXY} container", live=True)
    for _, c in w.containers(init=True):
        if c.get("name") == PROXY:
            return Sidecar(True, "istio", f"{the_pod} has a native {PROXY} sidecar", native=True, live=True)
    for _, c in w.containers():
        if c.get("name") == "linkerd-proxy":
            return Sidecar(True, "linkerd", f"{the_pod} has a linkerd-proxy container", live=True)
    if "sidecar.istio.io/status" in w.annotations:
        return Sidecar(True, "istio", f"{the_pod} was injected (sidecar.istio.io/status)", live=True)
    if w.annotations.get(AMBIENT_REDIRECTION) == "enabled":
        return Sidecar(False, "", f"ztunnel redirects {the_pod} (ambient mode, no sidecar)", ambient=True, live=True)
    if w.spec.get("nodeName") or w.resource.raw.get("status"):
        # a pod as the API server returns it: what runs is what is listed
        running = "the running pod" if the_pod == "the pod" else the_pod
        return Sidecar(False, "", f"{running} has no {PROXY} container", live=True)
    return None


def running_pods_sidecar(pods: Sequence[Resource]) -> Sidecar | None:
    """A workload's sidecar as its running pods show it: the newest pod's (created from the
    current template and the current injector), or None when no pod says."""
    newest = max(pods, key=lambda p: (str(p.metadata.get("creationTimestamp") or ""), p.name))
    w = pod_template(newest)
    decided = _live_pod(w, f"its running pod {newest.name}") if w is not None else None
    return replace(decided, pod=newest) if decided is not None else None


def linkerd_sidecar(w: Workload, namespace: Resource | None) -> Sidecar:
    """linkerd2 `pkg/inject/report.go`: `Injectable()` (never with hostNetwork) and
    `disableByAnnotation` (a pod value other than enabled/ingress/disabled disables)."""
    if w.spec.get("hostNetwork") is True:
        return Sidecar(False, "", "it uses hostNetwork, where Linkerd never injects")
    value = w.annotations.get(LINKERD_INJECT)
    if value in ("enabled", "ingress"):
        return Sidecar(True, "linkerd", f"pod annotation {LINKERD_INJECT}: {value}")
    if value is not None:
        return Sidecar(False, "", f"pod annotation {LINKERD_INJECT}: {value}")
    if namespace is not None and namespace.annotations.get(LINKERD_INJECT) in ("enabled", "ingress"):
        return Sidecar(True, "linkerd", f"namespace {w.namespace} has annotation {LINKERD_INJECT}: enabled")
    return Sidecar(False, "", "no linkerd.io/inject annotation")


def sidecar(w: Workload, namespace: Resource | None, unlisted: UnlistedNamespaces, mesh: MeshSettings,
            pods: Sequence[Resource] = ()) -> Sidecar:
    """The mesh proxy a workload gets: as its running `pods` show it, else Istio's decision,
    else Linkerd's."""
    running = running_pods_sidecar(pods) if pods else None
    if running is not None:
        return running
    istio = istio_sidecar(w, namespace, unlisted, mesh)
    if istio or istio.live:
        return istio
    linkerd = linkerd_sidecar(w, namespace)
    return linkerd if linkerd else istio


NATIVE_SIDECAR = "sidecar.istio.io/nativeSidecar"


def native_sidecar(w: Workload, sc: Sidecar, mesh: MeshSettings, configured: bool) -> bool:
    """Is the Istio sidecar of the workload a native (init container) sidecar? The pod
    annotation `sidecar.istio.io/nativeSidecar` decides when set (istio/istio
    `pkg/kube/inject/inject.go`: it takes precedence over `ENABLE_NATIVE_SIDECARS`); else a live
    pod's own containers, `native-sidecars` in the configuration, or istiod's
    `ENABLE_NATIVE_SIDECARS` in the Helm values."""
    annotation = str(w.annotations.get(NATIVE_SIDECAR, "")).lower()
    if annotation in ("true", "false"):
        return annotation == "true"
    env = mesh.value("pilot", "env", "ENABLE_NATIVE_SIDECARS")
    return sc.native or configured or str(env).lower() == "true"


def istio_cni(mesh: MeshSettings, cni_daemonsets: list[Resource]) -> tuple[bool | None, str]:
    """Does the installation set up the pods' traffic redirect with Istio CNI (at pod network
    setup, before any init container) rather than the `istio-init` container (which the
    injector moves after the application's init containers: istio/istio
    `pkg/kube/inject/inject.go`, `reorderPod`)? (None, "") when the input does not say; else
    the answer and where it was read."""
    operators = [(op.spec, f"IstioOperator {op.namespace}/{op.name}") for op in mesh.operators]
    if mesh.file is not None and isinstance(mesh.file.data.get("spec"), dict):
        operators.append((mesh.file.data["spec"], mesh.file.name))
    for spec, where in operators:
        components = spec.get("components")
        cni = components.get("cni") if isinstance(components, dict) else None
        enabled = cni.get("enabled") if isinstance(cni, dict) else None
        if isinstance(enabled, bool):
            return enabled, f"{where} sets components.cni.enabled: {str(enabled).lower()}"
        if spec.get("profile") == "ambient":
            return True, f"{where} installs the ambient profile, which runs Istio CNI"
    for path in (("pilot", "cni", "enabled"), ("istio_cni", "enabled")):
        value = mesh.value(*path)
        if isinstance(value, bool):
            return value, f"the Helm values set {'.'.join(path)}: {str(value).lower()}"
    for ds in cni_daemonsets:
        return True, f"DaemonSet {ds.namespace}/{ds.name} runs Istio CNI"
    return None, ""
