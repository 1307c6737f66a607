"""Which Istio injector webhooks select the same pods.

Mirrors istio/istio `pkg/config/analysis/analyzers/webhook/webhook.go`: the webhooks of every
MutatingWebhookConfiguration that is Istio's (a webhook named `*istio.io`, or a revision in its
`istio.io/rev` label or selectors) are tried against every combination of the namespace labels
`{}`, `istio-injection=enabled|disabled` and the pod labels `{}`,
`sidecar.istio.io/inject=true|false`, each also with `istio.io/rev=<r>` for every revision seen.
A combination that more than one webhook selects is a pod that two injectors mutate (injected
twice, or by the revision it did not ask for). Selectors follow Kubernetes
(`metav1.LabelSelectorAsSelector`): an absent or empty selector matches everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

REV = "istio.io/rev"
NS_INJECTION = "istio-injection"
INJECT = "sidecar.istio.io/inject"


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A webhook's namespaceSelector/objectSelector against a label set (None or {} = all)."""
    if selector is None:
        return True
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in expressions:
        if not isinstance(expr, dict):
            return False
        key, op, values = str(expr.get("key")), expr.get("operator"), expr.get("values") or []
        if op == "In":
            ok = key in labels and labels[key] in values
        elif op == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif op == "Exists":
            ok = key in labels
        elif op == "DoesNotExist":
            ok = key not in labels
        else:
            return False  # LabelSelectorAsSelector fails: istio treats it as no match
        if not ok:
            return False
    return True


def _webhooks(config: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    return [(i, w) for i, w in enumerate(config.get("webhooks") or ()) if isinstance(w, dict)]


def revisions(config: Mapping[str, Any]) -> set[str]:
    """webhook.go `extractRevisions`: the configuration's `istio.io/rev` label and the revisions
    its selectors name."""
    meta = config.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    found = {str(labels[REV])} if isinstance(labels, dict) and REV in labels else set()
    for _, hook in _webhooks(config):
        for key in ("namespaceSelector", "objectSelector"):
            selector = hook.get(key)
            if not isinstance(selector, dict):
                continue
            match_labels = selector.get("matchLabels") or {}
            if isinstance(match_labels, dict) and REV in match_labels:
                found.add(str(match_labels[REV]))
            for expr in selector.get("matchExpressions") or ():
                if isinstance(expr, dict) and expr.get("key") == REV:
                    found.update(str(v) for v in expr.get("values") or ())
    return found


def is_istio(config: Mapping[str, Any]) -> bool:
    """webhook.go: a configuration with a revision, or a webhook named `*istio.io`."""
    return bool(revisions(config)) or any(str(h.get("name", "")).endswith("istio.io") for _, h in _webhooks(config))


def label_combinations(revs: Iterable[str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The namespace and pod label sets webhook.go tries."""
    namespaces: list[dict[str, str]] = [{}, {NS_INJECTION: "enabled"}, {NS_INJECTION: "disabled"}]
    pods: list[dict[str, str]] = [{}, {INJECT: "true"}, {INJECT: "false"}]
    ordered = sorted(set(revs))
    namespaces += [{**base, REV: rev} for rev in ordered for base in namespaces[:3]]
    pods += [{**base, REV: rev} for rev in ordered for base in pods[:3]]
    return namespaces, pods


@dataclass
class Overlap:
    """What one webhook shares pods with: the other webhooks (`configuration/webhook`) and the
    first namespace and pod labels that both select."""

    others: set[str] = field(default_factory=set)
    namespace_labels: dict[str, str] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)


def overlaps(configs: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[tuple[int, int], Overlap]:
    """(position in `configs`, webhook index) -> its Overlap, for the webhooks of Istio's
    configurations (`configs`: name and object) that select a pod another one selects too."""
    hooks = [(c, i, f"{name}/{hook.get('name', i)}", hook)
             for c, (name, config) in enumerate(configs) if is_istio(config) for i, hook in _webhooks(config)]
    revs = set().union(*(revisions(config) for _, config in configs if is_istio(config))) if configs else set()
    namespaces, pods = label_combinations(revs)
    out: dict[tuple[int, int], Overlap] = {}
    for ns in namespaces:
        for pod in pods:
            matched = [(c, i, label) for c, i, label, hook in hooks
                       if selector_matches(hook.get("namespaceSelector"), ns)
                       and selector_matches(hook.get("objectSelector"), pod)]
            if len(matched) < 2:
                continue
            for c, i, label in matched:
                found = out.get((c, i))
                if found is None:
                    found = out[(c, i)] = Overlap(namespace_labels=dict(ns), pod_labels=dict(pod))
                found.others.update(other for _, _, other in matched if other != label)
    return out
