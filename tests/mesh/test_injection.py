"""mesh.injection against Istio's real injection decision.

Which webhook the API server calls: istio/istio
`manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml` (the four
selectors `namespace.`, `object.`, `rev.namespace.`, `rev.object.`, plus `auto.` with
`sidecarInjectorWebhook.enableNamespacesByDefault`). What the webhook then decides:
`pkg/kube/inject/inject.go` `injectRequired` (hostNetwork, `IgnoredNamespaces`, label over
annotation, `y/yes/true/on`, never/alwaysInjectSelector, injector policy). Ambient capture:
`cni/pkg/util/podutil.go` `PodRedirectionEnabled`. Linkerd: linkerd/linkerd2
`pkg/inject/report.go` (`disableByAnnotation`, `Injectable`).
"""

from __future__ import annotations

import pytest

from meshlint.mesh.injection import (
    NO_FACTS,
    Sidecar,
    UnlistedNamespaces,
    istio_sidecar,
    linkerd_sidecar,
    namespace_labels,
    sidecar,
)
from meshlint.mesh.meshconfig import MeshSettings
from meshlint.mesh.workloads import pod_template
from meshlint.resource import Document, FileOrigin, Ref, Resource, Source

NS = "shop"
INJECT = "sidecar.istio.io/inject"
REV = "istio.io/rev"
AMBIENT = "istio.io/dataplane-mode"
DEFAULTS = MeshSettings()


def resource(raw: dict) -> Resource:
    meta = raw.setdefault("metadata", {})
    kind = raw["kind"]
    return Resource(raw=raw, ref=Ref(kind, meta.get("namespace", ""), meta["name"]),
                    api_version=raw.get("apiVersion", "v1"),
                    origin=FileOrigin(Document(Source("t.yaml", ""), 0, 0, 1, 0)), kind_name=kind, _meta=meta)


def namespace(name: str = NS, labels: dict | None = None, annotations: dict | None = None) -> Resource:
    meta: dict = {"name": name}
    if labels is not None:
        meta["labels"] = labels
    if annotations is not None:
        meta["annotations"] = annotations
    return resource({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})


def pod_spec(**extra) -> dict:
    return {"containers": [{"name": "app", "image": "shop/app:1"}], **extra}


def deployment(labels: dict | None = None, annotations: dict | None = None, ns: str = NS,
               spec: dict | None = None):
    raw = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "app", "namespace": ns},
           "spec": {"template": {"metadata": {"labels": {"app": "app", **(labels or {})},
                                              "annotations": dict(annotations or {})},
                                 "spec": spec if spec is not None else pod_spec()}}}
    w = pod_template(resource(raw))
    assert w is not None
    return w


def live_pod(spec: dict, labels: dict | None = None, annotations: dict | None = None, ns: str = NS,
             status: dict | None = None):
    raw = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "app-7d9f", "namespace": ns, "labels": {"app": "app", **(labels or {})},
                        "annotations": dict(annotations or {})},
           "spec": spec}
    if status is not None:
        raw["status"] = status
    w = pod_template(resource(raw))
    assert w is not None
    return w


def decide(w, ns_obj=None, injected=frozenset(), mesh: MeshSettings = DEFAULTS, uninjected=frozenset(),
           meshed_by: dict | None = None) -> Sidecar:
    unlisted = UnlistedNamespaces(frozenset(injected), frozenset(uninjected), meshed_by or {})
    return istio_sidecar(w, ns_obj, unlisted, mesh)


# --- which webhook is called, then injectRequired -------------------------------------------
# (namespace labels, pod labels, pod annotations, injected?, words the reason must contain)
CASES = [
    # namespace.sidecar-injector.istio.io: istio-injection In [enabled]
    ("ns-enabled", {"istio-injection": "enabled"}, {}, {}, True, ["istio-injection=enabled"]),
    # it wins over istio.io/rev (rev.namespace requires istio-injection DoesNotExist)
    ("ns-enabled-wins-over-rev", {"istio-injection": "enabled", REV: "canary"}, {}, {}, True,
     ["istio-injection=enabled"]),
    # any other istio-injection value: no webhook selects the namespace, even with pod label true
    ("ns-disabled", {"istio-injection": "disabled"}, {}, {}, False, ["istio-injection=disabled"]),
    ("ns-disabled-pod-label-true", {"istio-injection": "disabled"}, {INJECT: "true"}, {}, False,
     ["istio-injection=disabled"]),
    ("ns-disabled-pod-annotation-true", {"istio-injection": "disabled"}, {}, {INJECT: "true"}, False,
     ["istio-injection=disabled"]),
    ("ns-disabled-beats-rev", {"istio-injection": "disabled", REV: "canary"}, {}, {}, False,
     ["istio-injection=disabled"]),
    ("ns-injection-other-value", {"istio-injection": "true"}, {}, {}, False, ["istio-injection=true"]),
    # rev.namespace.sidecar-injector.istio.io: istio.io/rev In [<rev>]
    ("ns-rev", {REV: "canary"}, {}, {}, True, ["istio.io/rev=canary"]),
    ("ns-rev-default", {REV: "default"}, {}, {}, True, ["istio.io/rev=default"]),
    # object.sidecar-injector.istio.io: pod *label* sidecar.istio.io/inject In ["true"]
    ("pod-label-true", {}, {INJECT: "true"}, {}, True, ['sidecar.istio.io/inject="true"']),
    ("pod-label-true-no-ns-labels", None, {INJECT: "true"}, {}, True, ['sidecar.istio.io/inject="true"']),
    # the object selector is an exact `In ["true"]`: other truthy spellings call no webhook
    ("pod-label-yes-unlabelled-ns", {}, {INJECT: "yes"}, {}, False, ["not labelled"]),
    # rev.object.sidecar-injector.istio.io: pod label istio.io/rev In [<rev>]
    ("pod-rev-label", {}, {REV: "canary"}, {}, True, ["istio.io/rev=canary"]),
    # rev.object: objectSelector sidecar.istio.io/inject NotIn [false]; injectRequired: label wins
    ("pod-rev-label-inject-false", {}, {REV: "canary", INJECT: "false"}, {}, False, ["opts out"]),
    # the annotation alone never calls a webhook
    ("annotation-true-alone", {}, {}, {INJECT: "true"}, False,
     ["not labelled", "annotation alone cannot inject"]),
    ("annotation-yes-alone", {}, {}, {INJECT: "Yes"}, False, ["annotation alone cannot inject"]),
    ("annotation-false-alone", {}, {}, {INJECT: "false"}, False, ["not labelled"]),
    ("nothing", {}, {}, {}, False, ["namespace shop is not labelled for injection"]),
    # injectRequired: the label is the new API; if both are present the label is preferred
    ("label-false-beats-annotation-true", {"istio-injection": "enabled"}, {INJECT: "false"},
     {INJECT: "true"}, False, ['pod label sidecar.istio.io/inject="false" opts out']),
    ("label-true-beats-annotation-false", {"istio-injection": "enabled"}, {INJECT: "true"},
     {INJECT: "false"}, True, ["istio-injection=enabled"]),
    ("label-true-beats-annotation-false-object-webhook", {}, {INJECT: "true"}, {INJECT: "false"}, True,
     ['pod label sidecar.istio.io/inject="true"']),
    # a present but empty label still overrides the annotation, and "" means "use the default"
    ("empty-label-hides-annotation-false", {"istio-injection": "enabled"}, {INJECT: ""}, {INJECT: "false"},
     True, ["istio-injection=enabled"]),
    ("annotation-false-in-enabled-ns", {"istio-injection": "enabled"}, {}, {INJECT: "false"}, False,
     ['pod annotation sidecar.istio.io/inject="false" opts out']),
    ("annotation-true-in-enabled-ns", {"istio-injection": "enabled"}, {}, {INJECT: "true"}, True,
     ["istio-injection=enabled"]),
]


@pytest.mark.parametrize("ns_labels,pod_labels,pod_annotations,injected,words",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_inject_required_and_webhook_selectors(ns_labels, pod_labels, pod_annotations, injected, words):
    ns_obj = namespace(labels=ns_labels)
    result = decide(deployment(pod_labels, pod_annotations), ns_obj)
    assert result.injected is injected
    assert bool(result) is injected
    assert result.mesh == ("istio" if injected else "")
    assert result.istio is injected
    assert not result.live and not result.ambient and not result.native
    for word in words:
        assert word in result.reason, (word, result.reason)


# injectRequired: `case "y", "yes", "true", "on": inject = true` on strings.ToLower(value);
# `case "": useDefault = true`; anything else: inject stays false (an opt-out)
@pytest.mark.parametrize("value,injected", [
    ("y", True), ("yes", True), ("on", True), ("true", True), ("TRUE", True), ("Yes", True), ("ON", True),
    ("false", False), ("no", False), ("off", False), ("n", False), ("0", False), ("1", False),
    ("garbage", False), ("enabled", False),
])
@pytest.mark.parametrize("where", ["label", "annotation"])
def test_inject_required_value_spellings(value, injected, where):
    ns_obj = namespace(labels={"istio-injection": "enabled"})
    labels, annotations = ({INJECT: value}, {}) if where == "label" else ({}, {INJECT: value})
    result = decide(deployment(labels, annotations), ns_obj)
    assert result.injected is injected
    if not injected:
        assert f'pod {where} {INJECT}="{value.lower()}" opts out' == result.reason


def test_inject_required_value_spellings_win_over_disabled_policy():
    """injectRequired, policy disabled: `required = inject` when the pod says something."""
    mesh = MeshSettings(injector={"policy": "disabled"})
    enabled = namespace(labels={"istio-injection": "enabled"})
    assert decide(deployment({INJECT: "on"}), enabled, mesh=mesh).injected is True
    assert decide(deployment({}, {INJECT: "y"}), enabled, mesh=mesh).injected is True
    assert decide(deployment({}, {INJECT: "nope"}), enabled, mesh=mesh).injected is False


@pytest.mark.parametrize("ns", ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"])
def test_ignored_namespaces_never_inject(ns):
    """inject.go IgnoredNamespaces: even an enabled namespace and a pod label "true"."""
    result = decide(deployment({INJECT: "true"}, ns=ns), namespace(ns, labels={"istio-injection": "enabled"}),
                    injected={ns})
    assert result.injected is False
    assert result.reason == f"Istio never injects in namespace {ns}"


def test_istio_system_is_not_an_ignored_namespace():
    ns_obj = namespace("istio-system", labels={"istio-injection": "enabled"})
    assert decide(deployment(ns="istio-system"), ns_obj).injected is True


@pytest.mark.parametrize("labels,annotations", [({}, {}), ({INJECT: "true"}, {}), ({}, {INJECT: "true"})])
def test_host_network_never_injects(labels, annotations):
    """injectRequired: `if podSpec.HostNetwork { return false }`, before anything else."""
    w = deployment(labels, annotations, spec=pod_spec(hostNetwork=True))
    result = decide(w, namespace(labels={"istio-injection": "enabled"}))
    assert result.injected is False
    assert "hostNetwork" in result.reason


def test_host_network_false_is_ordinary():
    w = deployment(spec=pod_spec(hostNetwork=False))
    assert decide(w, namespace(labels={"istio-injection": "enabled"})).injected is True


# --- injector config: neverInjectSelector / alwaysInjectSelector / policy ---------------------

ENABLED = {"istio-injection": "enabled"}


@pytest.mark.parametrize("selector,labels,matches", [
    ({"matchLabels": {"team": "batch"}}, {"team": "batch"}, True),
    ({"matchLabels": {"team": "batch"}}, {"team": "web"}, False),
    ({"matchLabels": {"team": "batch", "tier": "x"}}, {"team": "batch"}, False),
    ({"matchExpressions": [{"key": "team", "operator": "In", "values": ["batch", "etl"]}]}, {"team": "etl"}, True),
    ({"matchExpressions": [{"key": "team", "operator": "In", "values": ["batch"]}]}, {"team": "web"}, False),
    ({"matchExpressions": [{"key": "team", "operator": "In", "values": ["batch"]}]}, {}, False),
    ({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["web"]}]}, {"team": "batch"}, True),
    ({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["web"]}]}, {}, True),
    ({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["web"]}]}, {"team": "web"}, False),
    ({"matchExpressions": [{"key": "job", "operator": "Exists"}]}, {"job": ""}, True),
    ({"matchExpressions": [{"key": "job", "operator": "Exists"}]}, {}, False),
    ({"matchExpressions": [{"key": "job", "operator": "DoesNotExist"}]}, {}, True),
    ({"matchExpressions": [{"key": "job", "operator": "DoesNotExist"}]}, {"job": "x"}, False),
    # requirements are ANDed, matchLabels with matchExpressions too
    ({"matchLabels": {"team": "batch"}, "matchExpressions": [{"key": "job", "operator": "Exists"}]},
     {"team": "batch"}, False),
    ({"matchLabels": {"team": "batch"}, "matchExpressions": [{"key": "job", "operator": "Exists"}]},
     {"team": "batch", "job": "1"}, True),
    # `!selector.Empty()`: an empty selector is skipped, it does not match everything
    ({}, {"team": "batch"}, False),
    ({"matchLabels": {}}, {"team": "batch"}, False),
])
def test_never_inject_selector(selector, labels, matches):
    mesh = MeshSettings(injector={"neverInjectSelector": [{"matchLabels": {"unrelated": "x"}}, selector]})
    result = decide(deployment(labels), namespace(labels=ENABLED), mesh=mesh)
    assert result.injected is (not matches)
    if matches:
        assert "neverInjectSelector" in result.reason


@pytest.mark.parametrize("selector,labels,matches", [
    ({"matchLabels": {"team": "batch"}}, {"team": "batch"}, True),
    ({"matchLabels": {"team": "batch"}}, {"team": "web"}, False),
    ({"matchExpressions": [{"key": "team", "operator": "In", "values": ["batch"]}]}, {"team": "batch"}, True),
    ({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["batch"]}]}, {"team": "web"}, True),
    ({"matchExpressions": [{"key": "job", "operator": "Exists"}]}, {"job": "1"}, True),
    ({"matchExpressions": [{"key": "job", "operator": "DoesNotExist"}]}, {"job": "1"}, False),
    ({}, {"team": "batch"}, False),
])
def test_always_inject_selector_under_disabled_policy(selector, labels, matches):
    mesh = MeshSettings(injector={"policy": "disabled", "alwaysInjectSelector": [selector]})
    result = decide(deployment(labels), namespace(labels=ENABLED), mesh=mesh)
    assert result.injected is matches
    assert ("alwaysInjectSelector matches" in result.reason) is matches
    if not matches:
        assert result.reason.endswith("but the injector policy is disabled")


def test_never_inject_selector_takes_precedence_over_always():
    mesh = MeshSettings(injector={"neverInjectSelector": [{"matchLabels": {"team": "batch"}}],
                                  "alwaysInjectSelector": [{"matchLabels": {"team": "batch"}}]})
    result = decide(deployment({"team": "batch"}), namespace(labels=ENABLED), mesh=mesh)
    assert result.injected is False
    assert "neverInjectSelector" in result.reason


def test_pod_label_or_annotation_beats_the_selectors():
    """Selectors are only consulted when the pod says nothing (`useDefault`)."""
    never = MeshSettings(injector={"neverInjectSelector": [{"matchLabels": {"team": "batch"}}]})
    always = MeshSettings(injector={"alwaysInjectSelector": [{"matchLabels": {"team": "batch"}}]})
    ns_obj = namespace(labels=ENABLED)
    assert decide(deployment({"team": "batch", INJECT: "true"}), ns_obj, mesh=never).injected is True
    assert decide(deployment({"team": "batch"}, {INJECT: "yes"}), ns_obj, mesh=never).injected is True
    assert decide(deployment({"team": "batch", INJECT: "false"}), ns_obj, mesh=always).injected is False
    assert decide(deployment({"team": "batch"}, {INJECT: "off"}), ns_obj, mesh=always).injected is False


def test_selectors_from_helm_values_when_the_injector_config_has_none():
    mesh = MeshSettings(values={"sidecarInjectorWebhook": {"neverInjectSelector": [{"matchLabels": {"a": "b"}}]}})
    assert decide(deployment({"a": "b"}), namespace(labels=ENABLED), mesh=mesh).injected is False
    assert decide(deployment({"a": "c"}), namespace(labels=ENABLED), mesh=mesh).injected is True


@pytest.mark.parametrize("mesh,injected", [
    (MeshSettings(), True),
    (MeshSettings(injector={"policy": "enabled"}), True),
    (MeshSettings(injector={"policy": "disabled"}), False),
    (MeshSettings(values={"global": {"proxy": {"autoInject": "disabled"}}}), False),
])
def test_injector_policy_decides_when_nothing_else_does(mesh, injected):
    result = decide(deployment(), namespace(labels=ENABLED), mesh=mesh)
    assert result.injected is injected
    if not injected:
        assert result.reason == "namespace shop has istio-injection=enabled but the injector policy is disabled"


# inject.go injectRequired: a policy other than enabled/disabled logs 'Illegal value for autoInject'
# and sets required=false, even for sidecar.istio.io/inject=true.
def test_illegal_injector_policy_disables_all_injection():
    mesh = MeshSettings(injector={"policy": "off"})
    assert decide(deployment({INJECT: "true"}), namespace(labels=ENABLED), mesh=mesh).injected is False


# --- enableNamespacesByDefault (the `auto.` webhook) ------------------------------------------

AUTO = MeshSettings(values={"sidecarInjectorWebhook": {"enableNamespacesByDefault": True}})


@pytest.mark.parametrize("ns_labels,pod_labels,pod_annotations,injected", [
    ({}, {}, {}, True),
    ({"istio-injection": "disabled"}, {}, {}, False),  # auto.: istio-injection DoesNotExist
    ({}, {INJECT: "false"}, {}, False),  # auto.: sidecar.istio.io/inject DoesNotExist
    ({}, {}, {INJECT: "false"}, False),  # injectRequired opt-out
    ({}, {}, {INJECT: "true"}, True),
])
def test_enable_namespaces_by_default(ns_labels, pod_labels, pod_annotations, injected):
    result = decide(deployment(pod_labels, pod_annotations), namespace(labels=ns_labels), mesh=AUTO)
    assert result.injected is injected


def test_enable_namespaces_by_default_reason_and_system_namespaces():
    assert decide(deployment(), namespace(), mesh=AUTO).reason == \
        "sidecarInjectorWebhook.enableNamespacesByDefault is on"
    # kubernetes.io/metadata.name NotIn [kube-system, ...] and IgnoredNamespaces
    assert decide(deployment(ns="kube-system"), namespace("kube-system"), mesh=AUTO).injected is False


def test_enable_namespaces_by_default_must_be_true():
    off = MeshSettings(values={"sidecarInjectorWebhook": {"enableNamespacesByDefault": False}})
    assert decide(deployment(), namespace(), mesh=off).injected is False


# --- Namespace objects absent from the input: `injected-namespaces` ---------------------------

def test_absent_namespace_listed_in_injected_namespaces():
    result = decide(deployment(), None, injected={NS})
    assert result.injected is True
    assert result.reason == "namespace shop has istio-injection=enabled (from injected-namespaces)"


def test_absent_namespace_listed_still_honours_pod_opt_out():
    assert decide(deployment({INJECT: "false"}), None, injected={NS}).injected is False
    assert decide(deployment({}, {INJECT: "false"}), None, injected={NS}).injected is False


def test_absent_namespace_that_nothing_targets_is_assumed_outside_the_mesh():
    """SPEC §2: a namespace the input does not hold is unknown; with no Istio configuration
    targeting it, it is assumed outside the mesh, and the decision says so."""
    outside = decide(deployment(), None, injected={"other"})
    assert outside.injected is False
    assert outside.reason == "namespace shop is assumed outside the mesh"
    assert outside.assumption == (
        "assuming namespace shop is outside the mesh: its Namespace is not in the input and no Istio "
        "configuration in the input targets it; set injected-namespaces or uninjected-namespaces")


def test_absent_namespace_that_istio_configuration_targets_is_assumed_meshed():
    meshed = decide(deployment(), None, meshed_by={NS: "VirtualService shop/cart"})
    assert meshed.injected is True
    assert meshed.reason == "namespace shop is assumed meshed (VirtualService shop/cart targets it)"
    assert meshed.assumption.startswith("assuming namespace shop is meshed: its Namespace is not in the input "
                                        "and VirtualService shop/cart targets it; set injected-namespaces")


def test_a_decision_the_namespace_does_not_change_rests_on_no_assumption():
    """The object webhook (pod label "true") injects in any namespace that does not opt out, and
    an opt-out or hostNetwork keeps the sidecar out in any: nothing is assumed."""
    by_label = decide(deployment({INJECT: "true"}), None)
    assert (by_label.injected, by_label.assumption) == (True, "")
    assert by_label.reason == 'pod label sidecar.istio.io/inject="true"'
    opted_out = decide(deployment({INJECT: "false"}), None, meshed_by={NS: "VirtualService shop/cart"})
    assert (opted_out.injected, opted_out.assumption) == (False, "")
    assert opted_out.reason == 'pod label sidecar.istio.io/inject="false" opts out'
    host_network = decide(deployment(spec=pod_spec(hostNetwork=True)), None, meshed_by={NS: "VirtualService shop/x"})
    assert (host_network.injected, host_network.assumption) == (False, "")


def test_configuration_settles_an_absent_namespace_before_inference():
    targeted = {NS: "DestinationRule shop/cart"}
    on = decide(deployment(), None, injected={NS})
    assert (on.injected, on.assumption) == (True, "")
    assert on.reason == "namespace shop has istio-injection=enabled (from injected-namespaces)"
    off = decide(deployment(), None, uninjected={NS}, meshed_by=targeted)
    assert (off.injected, off.assumption) == (False, "")
    assert off.reason == "namespace shop is not labelled for injection (from uninjected-namespaces)"


def test_present_namespace_object_wins_over_configuration_and_inference():
    assert decide(deployment(), namespace(labels={}), injected={NS}).injected is False
    assert decide(deployment(), namespace(labels={"istio-injection": "disabled"}), injected={NS}).injected is False
    present = decide(deployment(), namespace(labels={}), meshed_by={NS: "VirtualService shop/cart"})
    assert (present.injected, present.assumption) == (False, "")


def test_namespace_labels_helper():
    ns_obj = namespace(labels={REV: "canary"})
    unlisted = UnlistedNamespaces(injected=frozenset({NS}))
    assert namespace_labels(ns_obj, NS, unlisted).labels == {REV: "canary"}
    assert namespace_labels(None, NS, unlisted).labels == {"istio-injection": "enabled"}
    assumed = namespace_labels(None, NS, NO_FACTS)
    assert (assumed.labels, assumed.otherwise) == ({}, {"istio-injection": "enabled"})


# --- pods that run the proxy themselves ------------------------------------------------------

def test_gateway_deployment_runs_istio_proxy_itself():
    """The istio/gateway chart's Deployment: an `istio-proxy` container (image `auto`) and
    `inject.istio.io/templates: gateway`; it is an Envoy whatever the namespace says."""
    spec = {"containers": [{"name": "istio-proxy", "image": "auto", "args": ["proxy", "router"]}]}
    w = deployment({"istio": "ingressgateway"}, {"inject.istio.io/templates": "gateway"}, ns="edge", spec=spec)
    result = decide(w, namespace("edge"))
    assert result.injected is True and result.istio is True
    assert result.native is False and result.live is False
    assert "istio-proxy" in result.reason


def test_native_sidecar_in_init_containers_of_a_template():
    spec = {"initContainers": [{"name": "istio-proxy", "image": "auto", "restartPolicy": "Always"}],
            "containers": [{"name": "app", "image": "app"}]}
    result = decide(deployment(spec=spec), namespace())
    assert result.injected is True
    assert result.native is True
    assert "native" in result.reason


# --- ambient mode ----------------------------------------------------------------------------

@pytest.mark.parametrize("ns_labels,pod_labels,ambient,where", [
    ({AMBIENT: "ambient"}, {}, True, "namespace shop"),
    ({}, {AMBIENT: "ambient"}, True, "pod"),
    ({AMBIENT: "ambient"}, {AMBIENT: "ambient"}, True, "pod"),
    ({AMBIENT: "ambient"}, {AMBIENT: "none"}, False, None),  # the pod opts out of ambient
    ({AMBIENT: "none"}, {}, False, None),
    ({}, {AMBIENT: "none"}, False, None),
])
def test_ambient_mode(ns_labels, pod_labels, ambient, where):
    result = decide(deployment(pod_labels), namespace(labels=ns_labels))
    assert result.injected is False
    assert result.ambient is ambient
    assert result.meshed is ambient
    assert result.istio is False
    if ambient:
        assert result.reason.startswith(f"{where} runs in ambient mode")


def test_ambient_opt_out_falls_back_to_the_sidecar_decision():
    ns_obj = namespace(labels={AMBIENT: "ambient"})
    result = decide(deployment({AMBIENT: "none", INJECT: "true"}), ns_obj)
    assert result.injected is True and result.ambient is False


# The injector never reads istio.io/dataplane-mode (webhook.go inject -> injectRequired), and ambient
# capture skips pods with a sidecar (PodRedirectionEnabled).
def test_sidecar_injection_wins_over_ambient_namespace():
    ns_obj = namespace(labels={AMBIENT: "ambient", "istio-injection": "enabled"})
    result = decide(deployment(), ns_obj)
    assert result.injected is True
    assert result.ambient is False


# --- live Pods: what runs is what is listed --------------------------------------------------

@pytest.mark.parametrize("spec,annotations,status,injected,native", [
    ({"nodeName": "n1", "containers": [{"name": "app"}, {"name": "istio-proxy"}]}, {}, None, True, False),
    ({"nodeName": "n1", "containers": [{"name": "app"}],
      "initContainers": [{"name": "istio-init"}, {"name": "istio-proxy", "restartPolicy": "Always"}]},
     {}, None, True, True),
    ({"nodeName": "n1", "containers": [{"name": "app"}]}, {}, None, False, False),
    ({"containers": [{"name": "app"}]}, {}, {"phase": "Running"}, False, False),
    ({"containers": [{"name": "app"}]}, {"sidecar.istio.io/status": "{}"}, None, True, False),
])
def test_live_pod(spec, annotations, status, injected, native):
    # the namespace says "enabled": a live pod's containers override what the labels predict
    w = live_pod(spec, annotations=annotations, status=status)
    result = decide(w, namespace(labels=ENABLED))
    assert result.live is True
    assert result.injected is injected
    assert result.native is native
    assert result.mesh == ("istio" if injected else "")


def test_live_pod_without_proxy_in_unlabelled_namespace_with_label_true():
    w = live_pod({"nodeName": "n1", "containers": [{"name": "app"}]}, labels={INJECT: "true"})
    result = decide(w, namespace())
    assert result.injected is False and result.live is True
    assert result.reason == "the running pod has no istio-proxy container"


def test_pod_manifest_not_yet_scheduled_follows_the_decision():
    w = live_pod({"containers": [{"name": "app"}]})
    assert decide(w, namespace(labels=ENABLED)).injected is True
    assert decide(w, namespace(labels=ENABLED)).live is False
    assert decide(w, namespace()).injected is False


def test_live_pod_with_linkerd_proxy():
    w = live_pod({"nodeName": "n1", "containers": [{"name": "app"}, {"name": "linkerd-proxy"}]})
    result = sidecar(w, namespace(), NO_FACTS, DEFAULTS)
    assert (result.injected, result.mesh, result.live, result.istio, result.meshed) == \
        (True, "linkerd", True, False, False)


# --- Linkerd ---------------------------------------------------------------------------------

LINKERD = "linkerd.io/inject"


@pytest.mark.parametrize("pod_annotation,ns_annotation,injected", [
    ("enabled", None, True),
    ("ingress", None, True),
    (None, "enabled", True),
    (None, "ingress", True),
    ("disabled", "enabled", False),  # the pod opts out of its namespace
    ("enabled", "disabled", True),
    (None, "disabled", False),
    (None, None, False),
])
def test_linkerd_inject_annotation(pod_annotation, ns_annotation, injected):
    annotations = {LINKERD: pod_annotation} if pod_annotation else {}
    ns_obj = namespace(annotations={LINKERD: ns_annotation} if ns_annotation else None)
    result = linkerd_sidecar(deployment({}, annotations), ns_obj)
    assert result.injected is injected
    assert result.mesh == ("linkerd" if injected else "")
    assert result.istio is False


def test_linkerd_namespace_label_is_not_the_annotation():
    """Linkerd reads the Namespace *annotation*; a label of the same name does nothing."""
    ns_obj = namespace(labels={LINKERD: "enabled"})
    assert linkerd_sidecar(deployment(), ns_obj).injected is False
    assert linkerd_sidecar(deployment(), None).injected is False


def test_sidecar_prefers_istio_then_linkerd():
    both = sidecar(deployment({}, {LINKERD: "enabled"}), namespace(labels=ENABLED), NO_FACTS, DEFAULTS)
    assert (both.injected, both.mesh) == (True, "istio")
    only_linkerd = sidecar(deployment({}, {LINKERD: "enabled"}), namespace(), NO_FACTS, DEFAULTS)
    assert (only_linkerd.injected, only_linkerd.mesh) == (True, "linkerd")
    assert "linkerd.io/inject: enabled" in only_linkerd.reason
    neither = sidecar(deployment(), namespace(), NO_FACTS, DEFAULTS)
    assert (neither.injected, neither.mesh) == (False, "")
    assert neither.reason == "namespace shop is not labelled for injection"  # Istio's reason is kept


def test_sidecar_keeps_a_live_istio_verdict_over_linkerd_annotations():
    w = live_pod({"nodeName": "n1", "containers": [{"name": "app"}]}, annotations={LINKERD: "enabled"})
    result = sidecar(w, namespace(), NO_FACTS, DEFAULTS)
    assert result.injected is False and result.live is True


# linkerd2 pkg/inject/report.go Injectable(): hostNetwork pods are never injected.
def test_linkerd_never_injects_host_network_pods():
    w = deployment({}, {LINKERD: "enabled"}, spec=pod_spec(hostNetwork=True))
    assert sidecar(w, namespace(), NO_FACTS, DEFAULTS).injected is False


# linkerd2 pkg/inject/report.go disableByAnnotation: a pod value other than enabled/disabled/ingress
# disables injection even in an enabled namespace.
def test_linkerd_invalid_pod_annotation_disables_injection():
    ns_obj = namespace(annotations={LINKERD: "enabled"})
    assert linkerd_sidecar(deployment({}, {LINKERD: "true"}), ns_obj).injected is False


# --- the pod template of each workload kind --------------------------------------------------

def test_cronjob_template_is_read_from_job_template():
    raw = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": NS},
           "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {
               "metadata": {"labels": {INJECT: "true"}, "annotations": {"a": "b"}},
               "spec": {"restartPolicy": "Never", "containers": [{"name": "job", "image": "j"}]}}}}}}
    w = pod_template(resource(raw))
    assert w.path == ("spec", "jobTemplate", "spec", "template")
    assert w.spec_path == ("spec", "jobTemplate", "spec", "template", "spec")
    assert w.labels == {INJECT: "true"} and w.annotations == {"a": "b"}
    result = decide(w, namespace())
    assert result.injected is True
    assert result.reason == 'pod label sidecar.istio.io/inject="true"'
    # the CronJob's own metadata does not count: only the pod template's
    raw2 = {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "n2", "namespace": NS, "labels": {INJECT: "true"}},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
    assert decide(pod_template(resource(raw2)), namespace()).injected is False


def test_job_and_deployment_template_paths():
    job = pod_template(resource({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": NS},
                                 "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}))
    assert job.path == ("spec", "template")
    assert decide(job, namespace(labels=ENABLED)).injected is True
    pod = live_pod({"containers": [{"name": "c"}]})
    assert pod.path == () and pod.spec_path == ("spec",)


def _deployment(annotations: dict | None = None) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": NS},
            "spec": {"template": {"metadata": {"annotations": annotations or {}},
                                  "spec": {"containers": [{"name": "api"}]}}}}


@pytest.mark.parametrize("annotation,values,configured,native", [
    (None, {}, False, False),
    ("true", {}, False, True),
    ("false", {"pilot": {"env": {"ENABLE_NATIVE_SIDECARS": "true"}}}, True, False),  # the pod's word wins
    (None, {"pilot": {"env": {"ENABLE_NATIVE_SIDECARS": "true"}}}, False, True),
    (None, {}, True, True),  # native-sidecars: true
])
def test_native_sidecar_annotation_takes_precedence(annotation, values, configured, native):
    """pkg/kube/inject/inject.go: sidecar.istio.io/nativeSidecar over ENABLE_NATIVE_SIDECARS."""
    from meshlint.mesh.injection import NATIVE_SIDECAR, native_sidecar

    w = pod_template(resource(_deployment({NATIVE_SIDECAR: annotation} if annotation else {})))
    assert w is not None
    assert native_sidecar(w, Sidecar(True, "istio", "test"), MeshSettings(values=values), configured) is native


def test_istio_cni_is_read_from_the_installation():
    """Istio CNI (components.cni / the ambient profile / Helm pilot.cni.enabled or istio_cni.enabled /
    the istio-cni-node DaemonSet) sets up the redirect before init containers run."""
    from meshlint.mesh.injection import istio_cni

    operator = resource({"kind": "IstioOperator", "metadata": {"name": "installed", "namespace": "istio-system"},
                         "spec": {"components": {"cni": {"enabled": True}}}})
    ambient = resource({"kind": "IstioOperator", "metadata": {"name": "ambient", "namespace": "istio-system"},
                        "spec": {"profile": "ambient"}})
    daemonset = resource({"kind": "DaemonSet", "metadata": {"name": "istio-cni-node", "namespace": "kube-system"}})
    assert istio_cni(MeshSettings(), []) == (None, "")
    assert istio_cni(MeshSettings(operators=[operator]), [])[0] is True
    assert istio_cni(MeshSettings(operators=[ambient]), [])[0] is True
    assert istio_cni(MeshSettings(values={"pilot": {"cni": {"enabled": False}}}), [daemonset])[0] is False
    assert istio_cni(MeshSettings(values={"istio_cni": {"enabled": True}}), [])[0] is True
    assert istio_cni(MeshSettings(), [daemonset]) == (True, "DaemonSet kube-system/istio-cni-node runs Istio CNI")

def test_a_pod_that_istio_cni_redirects_is_ambient():
    """analyzers/util in_mesh.go `PodInAmbientMode`: the `ambient.istio.io/redirection: enabled`
    annotation istio-cni puts on a pod it enrolled in ambient mode, on a pod as written and on
    one as the API server returns it."""
    redirected = {"ambient.istio.io/redirection": "enabled"}
    for status in (None, {"phase": "Running"}):
        sc = sidecar(live_pod(pod_spec(), annotations=redirected, status=status), None, NO_FACTS, DEFAULTS)
        assert sc.ambient and sc.meshed and not sc.istio, sc
