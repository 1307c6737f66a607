"""Two Istio injector webhooks select the same pods, or one calls an istiod Service that is
not there.

Every MutatingWebhookConfiguration of Istio (a webhook named `*istio.io`, or a revision in its
`istio.io/rev` label or selectors) is checked as `istioctl analyze` checks it (IST0139; istio/istio
`pkg/config/analysis/analyzers/webhook/webhook.go`): each combination of namespace labels
(`istio-injection` unset, `enabled`, `disabled`, each with and without `istio.io/rev=<r>` for every
revision the webhooks name) and pod labels (`sidecar.istio.io/inject` unset, `true`, `false`,
each with and without `istio.io/rev=<r>`) must be selected by at most one webhook. Istio's own
chart renders webhooks that exclude one another (`rev.namespace.`, `rev.object.`, `namespace.`,
`object.sidecar-injector.istio.io`); overlaps come from a second installation, a hand-edited
copy, a revision tag and a revision that claim the same label, or an old webhook left behind
after an upgrade.

Also reported: a webhook whose `clientConfig.service` names a Service the input does not hold
although it holds Services of that namespace (the injector is unreachable). When the input holds
no Service of that namespace, the Service is not in the input and nothing is said (SPEC §2).

## Why it matters
Kubernetes calls every mutating webhook that selects a pod. Two injectors inject two sets of
init containers and proxies (the pod fails to start: duplicate container names), or the second
revision's proxy replaces the first one's, so a canary upgrade moves pods that were pinned to
the old revision. A webhook whose Service is gone fails every pod creation in the namespaces it
selects when its `failurePolicy` is `Fail`, and silently skips injection when it is `Ignore`.

## Example
```yaml
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: istio-sidecar-injector
webhooks:
- name: namespace.sidecar-injector.istio.io
  clientConfig:
    service: {name: istiod, namespace: istio-system, path: /inject}
  namespaceSelector:
    matchLabels: {istio-injection: enabled}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: istio-sidecar-injector-1-24
  labels: {istio.io/rev: 1-24}
webhooks:
- name: namespace.sidecar-injector.istio.io
  clientConfig:
    service: {name: istiod-1-24, namespace: istio-system, path: /inject}
  namespaceSelector:
    matchLabels: {istio-injection: enabled}
```

## Fixed example
```yaml
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: istio-sidecar-injector
webhooks:
- name: namespace.sidecar-injector.istio.io
  clientConfig:
    service: {name: istiod, namespace: istio-system, path: /inject}
  namespaceSelector:
    matchLabels: {istio-injection: enabled}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: istio-sidecar-injector-1-24
  labels: {istio.io/rev: 1-24}
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig:
    service: {name: istiod-1-24, namespace: istio-system, path: /inject}
  namespaceSelector:
    matchExpressions:
    - {key: istio.io/rev, operator: In, values: [1-24]}
    - {key: istio-injection, operator: DoesNotExist}
```

## Fix
Keep one webhook per label combination: let each revision select its own `istio.io/rev`
value (install revisions with `--revision` and move the default with `istioctl tag set`), and
delete the webhooks of installations that are gone (`istioctl uninstall --revision <r>`).

## References
- istio/istio `pkg/config/analysis/analyzers/webhook/webhook.go`: `istioctl analyze` IST0139
- istio/istio `manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml`: the stock webhooks
- [Canary upgrades](https://istio.io/latest/docs/setup/upgrade/canary/)
- [IST0139 InvalidWebhook](https://istio.io/latest/docs/reference/config/analysis/ist0139/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh import webhooks

KIND = "MutatingWebhookConfiguration"


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "none"


def check(index: Index, options: Options) -> Iterator[Finding]:
    configs = index.of_kind(KIND)
    found = webhooks.overlaps([(c.name, c.raw) for c in configs])
    for (c, i), overlap in sorted(found.items()):
        config = configs[c]
        name = config.raw["webhooks"][i].get("name", i)
        yield RULE.finding(OVERLAP, config, ("webhooks", i, "name"), webhook=name,
                           others=", ".join(sorted(overlap.others)), ns=_labels(overlap.namespace_labels),
                           pod=_labels(overlap.pod_labels))
    for config in configs:
        if not webhooks.is_istio(config.raw):
            continue
        for i, hook in enumerate(config.raw.get("webhooks") or ()):
            service = (hook.get("clientConfig") or {}).get("service") if isinstance(hook, dict) else None
            if not isinstance(service, dict) or not service.get("name") or not service.get("namespace"):
                continue
            ns, name = str(service["namespace"]), str(service["name"])
            if index.get("Service", ns, name) is None and index.services_in(ns):
                yield RULE.finding(SERVICE_MISSING, config, ("webhooks", i, "clientConfig", "service", "name"),
                                   webhook=hook.get("name", i), service=f"{ns}/{name}", ns=ns)


OVERLAP = Variant(
    "overlap", Severity.ERROR,
    "webhook {webhook} selects the same pods as {others} (namespace labels {ns}, pod labels {pod}): "
    "such pods are injected twice, or by the wrong revision",
    "Make the webhooks' namespaceSelector and objectSelector exclusive (one revision per istio.io/rev "
    "value, istioctl tag set for the default), and delete webhooks of removed installations.")
SERVICE_MISSING = Variant(
    "service-missing", Severity.WARNING,
    "webhook {webhook} calls Service {service}, which the input does not hold though it holds "
    "Services of namespace {ns}: the injector is unreachable",
    "Point clientConfig.service at the istiod Service of this revision, or delete the webhook.")

RULE = Rule(
    code="ML407",
    name="overlapping-injection-webhooks",
    summary="Istio injector webhooks that select the same pods, or call no Service",
    inputs=frozenset({KIND, "Service"}),
    variants=(OVERLAP, SERVICE_MISSING),
    check=check,
    istio_codes=frozenset({"IST0139"}),
)
