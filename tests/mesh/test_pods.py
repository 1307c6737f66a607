"""mesh/pods.py: what running Pods say (a proxy that outlived its Job, the proxy image the
injector gives new pods, which revision injects a pod) and ages as kubectl prints them."""

from __future__ import annotations

import json

import pytest

from meshlint.load import Loaded
from meshlint.load.objects import add_value
from meshlint.mesh.meshconfig import settings
from meshlint.mesh.pods import duration, image_type, injector_revision, injectors, proxy_image, stuck_since
from meshlint.resource import LiveOrigin, Resource

HOUR = 3600


def resource(obj: dict) -> Resource:
    out = Loaded()
    add_value(out, obj, LiveOrigin("test", 0.0), "default")
    assert not out.problems, out.problems
    return out.resources[0]


@pytest.mark.parametrize("seconds, shown", [
    # k8s.io/apimachinery/pkg/util/duration/duration_test.go TestHumanDuration
    (1, "1s"), (70, "70s"), (190, "3m10s"), (70 * 60, "70m"), (47 * HOUR, "47h"), (49 * HOUR, "2d1h"),
    ((8 * 24 + 2) * HOUR, "8d"), (367 * 24 * HOUR, "367d"), ((365 * 2 * 24 + 25) * HOUR, "2y1d"),
    ((365 * 8 * 24 + 2) * HOUR, "8y"),
    # and the boundaries between the forms
    (120, "2m"), (5 * HOUR, "5h"), (5 * HOUR + 3 * 60, "5h3m"), (3 * 24 * HOUR, "3d"),
])
def test_duration_is_kubectls(seconds, shown):
    assert duration(seconds) == shown


def job_pod(app_state: dict, proxy_state: dict, native: bool = False) -> Resource:
    proxy = {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.3"}
    spec: dict = {"containers": [{"name": "migrate", "image": "migrate:1"}]}
    if native:
        spec["initContainers"] = [{**proxy, "restartPolicy": "Always"}]
    else:
        spec["containers"].append(proxy)
    statuses = [{"name": "migrate", "state": app_state}]
    key = "initContainerStatuses" if native else "containerStatuses"
    status: dict = {"phase": "Running", "containerStatuses": statuses}
    status.setdefault(key, []).append({"name": "istio-proxy", "state": proxy_state})
    return resource({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "migrate-x", "namespace": "shop"},
                     "spec": spec, "status": status})


DONE = {"terminated": {"exitCode": 0, "finishedAt": "2024-06-01T10:00:00Z"}}
RUNNING = {"running": {"startedAt": "2024-06-01T09:00:00Z"}}


def test_a_pod_whose_containers_ended_while_its_proxy_runs_is_stuck_since_they_ended():
    assert stuck_since(job_pod(DONE, RUNNING)) == 1717236000.0


@pytest.mark.parametrize("app, proxy, native", [
    (RUNNING, RUNNING, False),  # still working
    (DONE, {"terminated": {"exitCode": 0}}, False),  # the proxy was told to quit
    (DONE, RUNNING, True),  # a native sidecar: the kubelet stops it
    ({"waiting": {"reason": "ContainerCreating"}}, RUNNING, False),
])
def test_a_pod_that_works_or_ends_is_not_stuck(app, proxy, native):
    assert stuck_since(job_pod(app, proxy, native)) is None


def test_the_injectors_proxy_image_follows_the_injector():
    # istio/istio pkg/kube/inject/inject.go ProxyImage (and the analyzer's GetIstioProxyImage)
    assert proxy_image({"global": {"hub": "docker.io/istio", "tag": "1.22.3", "proxy": {"image": "proxyv2"}}}) == \
        "docker.io/istio/proxyv2:1.22.3"
    assert proxy_image({"global": {"hub": "docker.io/istio", "tag": "1.22.3",
                                   "proxy": {"image": "registry.corp/istio/proxyv2:1.22.3-distroless"}}}) == \
        "registry.corp/istio/proxyv2:1.22.3-distroless"
    assert proxy_image({"global": {"proxy": {"image": "proxyv2"}}}) == ""  # no hub and tag: unknown


@pytest.mark.parametrize("tag, variant, image_type, expected", [
    ("1.22.3", "distroless", None, "1.22.3-distroless"),  # global.variant
    ("1.22.3", "distroless", "debug", "1.22.3-debug"),  # the pod's or the mesh's type wins
    ("1.22.3", "distroless", "default", "1.22.3"),  # `default`: no suffix
    ("1.22.3", "distroless", "", "1.22.3"),  # the mesh sets an image without a type
    ("1.22.3-distroless", None, "debug", "1.22.3-debug"),  # a known type in the tag is replaced
    ("1.22.3-asm.1", "distroless", None, "1.22.3-asm.1-distroless"),
])
def test_the_image_type_ends_the_tag_as_the_injector_writes_it(tag, variant, image_type, expected):
    # inject.go updateImageTypeIfPresent
    glob = {"hub": "docker.io/istio", "tag": tag, "proxy": {"image": "proxyv2"}}
    if variant:
        glob["variant"] = variant
    assert proxy_image({"global": glob}, image_type) == f"docker.io/istio/proxyv2:{expected}"


def test_the_pods_image_type_overrides_the_meshs_which_overrides_the_variant():
    from meshlint.mesh.meshconfig import MeshSettings

    plain = resource({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}})
    typed = resource({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "q", "namespace": "shop", "annotations": {"sidecar.istio.io/proxyImageType": "debug"}}})
    distroless = MeshSettings(mesh={"defaultConfig": {"image": {"imageType": "distroless"}}})
    assert image_type(plain, MeshSettings()) is None
    assert image_type(plain, distroless) == "distroless"
    assert image_type(typed, distroless) == "debug"


def configmap(name: str, tag: str) -> Resource:
    values = json.dumps({"global": {"hub": "docker.io/istio", "tag": tag, "proxy": {"image": "proxyv2"}}})
    return resource({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": name, "namespace": "istio-system"}, "data": {"values": values}})


def test_each_revisions_injector_configmap_gives_its_image():
    mesh = settings([configmap("istio-sidecar-injector", "1.22.3"), configmap("istio-sidecar-injector-1-23", "1.23.1")],
                    [], "istio-system")
    assert {rev: proxy_image(values) for rev, (values, _) in injectors(mesh).items()} == {
        "default": "docker.io/istio/proxyv2:1.22.3", "1-23": "docker.io/istio/proxyv2:1.23.1"}


def webhook(name: str, revision: str, namespace_selector: dict, object_selector: dict | None = None) -> Resource:
    hook = {"name": "rev.namespace.sidecar-injector.istio.io", "namespaceSelector": namespace_selector,
            "clientConfig": {"service": {"name": "istiod", "namespace": "istio-system"}}}
    if object_selector is not None:
        hook["objectSelector"] = object_selector
    return resource({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                     "metadata": {"name": name, "labels": {"istio.io/rev": revision}}, "webhooks": [hook]})


def test_the_revision_that_injects_a_pod_is_the_one_whose_webhook_selects_it():
    default = webhook("istio-sidecar-injector", "default",
                      {"matchExpressions": [{"key": "istio-injection", "operator": "In", "values": ["enabled"]}]})
    tag = webhook("istio-revision-tag-prod-stable", "1-23",
                  {"matchExpressions": [{"key": "istio.io/rev", "operator": "In", "values": ["prod-stable"]},
                                        {"key": "istio-injection", "operator": "DoesNotExist"}]})
    hooks = [default, tag]
    assert injector_revision({}, {"istio-injection": "enabled"}, hooks) == "default"
    assert injector_revision({}, {"istio.io/rev": "prod-stable"}, hooks) == "1-23"  # the tag's revision
    assert injector_revision({}, {}, hooks) is None


def test_without_webhooks_the_namespace_labels_decide_as_istios_webhooks_select():
    # istio/istio manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml:
    # a revision's webhook requires istio-injection to be absent, so with both labels the
    # default revision injects (istio's analyzer, injection-image.go, would take istio.io/rev)
    assert injector_revision({}, {"istio-injection": "enabled", "istio.io/rev": "1-23"}, []) == "default"
    assert injector_revision({}, {"istio.io/rev": "1-23"}, []) == "1-23"
    assert injector_revision({"istio.io/rev": "canary"}, None, []) == "canary"
    assert injector_revision({}, None, []) is None
