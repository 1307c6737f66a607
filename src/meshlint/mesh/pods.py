"""What running Pods say that their templates cannot: a proxy that outlived its Job, and a proxy
image that is not the one the injector gives new pods.

A Pod as the API server returns it (`--kube`, or a `kubectl get pods -o yaml` dump) shows what
runs: its containers' images and, in `status.containerStatuses`, which of them run and when
the others ended.

- `stuck_since`: a Job's pod whose application containers have all terminated while the
  classic `istio-proxy` sidecar still runs: the pod never ends, so the Job never completes.
  (A native sidecar, an init container with `restartPolicy: Always`, is stopped by the kubelet.)
- `injectors`, `injector_revision`, `proxy_image`, `image_type`: the image the injector of a
  revision puts in a new pod, as istio/istio `pkg/kube/inject/inject.go` computes it
  (`ProxyImage`, `updateImageTypeIfPresent`): the injector ConfigMap's
  `values.global.proxy.image` when it names a repository, else
  `<global.hub>/<image>:<global.tag>` with the image type appended to the tag (`-distroless`,
  `-debug`; `default` none), which is the pod's `sidecar.istio.io/proxyImageType`, else the
  mesh's `defaultConfig.image.imageType`, else `global.variant`. (istio's analyzer,
  `pkg/config/analysis/analyzers/injection/injection-image.go`, ignored the type until
  istio/istio#48017 and reported every distroless proxy: istio/istio#47964.) The revision that
  injects a pod is the one whose webhook selects it (revision tags included, since a tag's
  webhook carries the revision it points at); without webhooks in the input, the namespace's
  labels as the webhooks read them (`istio-injection=enabled`: the default revision, even
  beside `istio.io/rev`, which the revision webhooks ignore then; `istio.io/rev`: that one),
  then the pod's `istio.io/rev` label.
- `duration`: an age as kubectl prints it (`k8s.io/apimachinery/pkg/util/duration`
  `HumanDuration`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..resource import Resource
from . import webhooks
from .meshconfig import MeshSettings

PROXY = "istio-proxy"
REV = "istio.io/rev"
INJECTOR = "istio-sidecar-injector"
PROXY_IMAGE_ANNOTATION = "sidecar.istio.io/proxyImage"
IMAGE_TYPE_ANNOTATION = "sidecar.istio.io/proxyImageType"
KNOWN_IMAGE_TYPES = ("distroless", "debug")  # inject.go KnownImageTypes: replaced, not stacked


def timestamp(text: Any) -> float | None:
    """An RFC 3339 time of the API (`2024-05-01T10:00:00Z`) -> Unix seconds; None if not one."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def stuck_since(pod: Resource) -> float | None:
    """When the last application container of a pod ended, if they all did while its classic
    `istio-proxy` sidecar still runs; else None."""
    spec_names = [c.get("name") for c in pod.spec.get("containers") or () if isinstance(c, dict)]
    if PROXY not in spec_names or len(spec_names) < 2:
        return None
    status = pod.raw.get("status")
    statuses = status.get("containerStatuses") if isinstance(status, dict) else None
    if not isinstance(statuses, list):
        return None
    ended: list[float] = []
    proxy_running = False
    for s in statuses:
        if not isinstance(s, dict) or not isinstance(s.get("state"), dict):
            continue
        state = s["state"]
        if s.get("name") == PROXY:
            proxy_running = "running" in state
        elif isinstance(state.get("terminated"), dict):
            finished = timestamp(state["terminated"].get("finishedAt"))
            if finished is None:
                return None
            ended.append(finished)
        else:
            return None  # an application container still runs (or waits)
    if not proxy_running or len(ended) != len(spec_names) - 1:
        return None
    return max(ended)


def duration(seconds: float) -> str:
    """kubectl's HumanDuration: `45s`, `3m12s`, `47m`, `5h3m`, `30h`, `3d4h`, `12d`, `2y40d`."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24
        return f"{days // 365}y{days % 365}d" if days % 365 else f"{days // 365}y"
    return f"{hours // (24 * 365)}y"


def proxy_image(values: Mapping[str, Any], image_type: str | None = None) -> str:
    """The proxy image an injector's Helm values give a new pod of this image type (None:
    `global.variant`, see `image_type`); "" when the values do not say."""
    glob = values.get("global")
    if not isinstance(glob, dict):
        return ""
    proxy = glob.get("proxy")
    image = proxy.get("image") if isinstance(proxy, dict) else None
    if not isinstance(image, str) or not image:
        return ""
    if "/" in image:
        return image  # the injection template takes a full image name as it is
    hub, tag = glob.get("hub"), glob.get("tag")
    if isinstance(tag, (int, float)) and not isinstance(tag, bool):
        tag = str(tag)  # `tag: 1.22` in YAML values: the injector prints it (`%v`)
    if not isinstance(hub, str) or not hub or not isinstance(tag, str) or not tag:
        return ""
    variant = glob.get("variant") if image_type is None else image_type
    return f"{hub}/{image}:{_typed(tag, variant if isinstance(variant, str) else '')}"


def _typed(tag: str, image_type: str) -> str:
    """inject.go `updateImageTypeIfPresent`: a type already in the tag is replaced."""
    if not image_type:
        return tag
    for known in KNOWN_IMAGE_TYPES:
        if tag.endswith("-" + known):
            tag = tag[:-len(known) - 1]
            break
    return tag if image_type == "default" else f"{tag}-{image_type}"


def image_type(pod: Resource, mesh: MeshSettings) -> str | None:
    """The image type the injector gave a pod, when something overrides `global.variant`: the
    pod's `sidecar.istio.io/proxyImageType`, else the mesh's `defaultConfig.image`."""
    annotated = pod.annotations.get(IMAGE_TYPE_ANNOTATION)
    if isinstance(annotated, str):
        return annotated
    default = mesh.mesh.get("defaultConfig")
    image = default.get("image") if isinstance(default, dict) else None
    if isinstance(image, dict):
        kind = image.get("imageType")
        return kind if isinstance(kind, str) else ""
    return None


def injectors(mesh: MeshSettings) -> dict[str, tuple[Mapping[str, Any], Resource]]:
    """Revision -> (the Helm values of its injector ConfigMap, the ConfigMap), for those whose
    values name a proxy image: `istio-sidecar-injector` is the default revision's,
    `istio-sidecar-injector-<rev>` rev's."""
    out: dict[str, tuple[Mapping[str, Any], Resource]] = {}
    for source in mesh.value_sources:
        cm = source.resource
        if cm is None or cm.kind != "ConfigMap" or not cm.name.startswith(INJECTOR):
            continue
        revision = cm.name[len(INJECTOR) + 1:] or "default"
        if proxy_image(source.values):
            out[revision] = (source.values, cm)
    return out


def injector_revision(pod_labels: Mapping[str, str], namespace_labels: Mapping[str, str] | None,
                      configs: Iterable[Resource]) -> str | None:
    """The revision whose injector injects a pod with these labels: the first Istio webhook
    (by name) that selects it, else the labels as Istio's webhooks read them; None when no
    injector would (or the namespace's labels are unknown and the pod names no revision)."""
    istio = sorted((c for c in configs if webhooks.is_istio(c.raw)), key=lambda c: c.name)
    if istio and namespace_labels is not None:
        for config in istio:
            for hook in config.raw.get("webhooks") or ():
                if isinstance(hook, dict) and webhooks.selector_matches(hook.get("namespaceSelector"),
                                                                        namespace_labels) \
                        and webhooks.selector_matches(hook.get("objectSelector"), pod_labels):
                    return config.labels.get(REV) or "default"
        return None
    labels = namespace_labels or {}
    if labels.get("istio-injection") == "enabled":
        return "default"
    if labels.get(REV):
        return labels[REV]
    return pod_labels.get(REV) or None


def running_proxy_image(pod: Resource) -> str:
    """The image of the pod's `istio-proxy` container (classic or native); "" for none."""
    for key in ("containers", "initContainers"):
        for c in pod.spec.get(key) or ():
            if isinstance(c, dict) and c.get("name") == PROXY and isinstance(c.get("image"), str):
                return c["image"]
    return ""
