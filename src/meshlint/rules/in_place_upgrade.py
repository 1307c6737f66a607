"""Namespaces and installs that only allow in-place control-plane upgrades.

Istio supports canary upgrades: a new control-plane *revision* runs beside the old one and
namespaces move to it one at a time via the `istio.io/rev` label (or a revision tag). Reported:

- (a) a Namespace with both `istio-injection` and `istio.io/rev`: the webhooks select
  `istio-injection` first, so the revision label is silently ignored;
- (b) revisions are in use (an IstioOperator or Helm values with `revision`, namespaces
  labelled `istio.io/rev`, `istio-revision-tag-*` webhooks) yet a namespace still uses
  `istio-injection=enabled`: it follows whatever holds the `default` tag and is upgraded at
  once with everything else on it;
- (c) with severity info, an IstioOperator or istiod Helm values without `revision`: the
  control plane can only be upgraded in place;
- (d) with severity info, a namespace labelled `istio-injection=enabled` when no revision is
  visible in the input: it can only follow the default control plane, in place.

## Why it matters
An in-place upgrade replaces the control plane every proxy talks to in one step. New proxies
get the new version at their next restart, old ones talk to a control plane they were not
tested with, and there is no way back for a single namespace. With revisions, one namespace
is relabelled and rolled, checked, and relabelled back if it fails.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled   # wins: istio.io/rev is ignored
    istio.io/rev: 1-22
```

## Fix
Label namespaces with `istio.io/rev=<revision>` (or a revision tag such as `prod-stable`) only,
drop `istio-injection`, and install the control plane with a `revision`.
"""

from __future__ import annotations

from typing import Iterator

from ..finding import Finding, Options, Rule, Severity
from ..index import Index

INJECTION, REV = "istio-injection", "istio.io/rev"
TAG_WEBHOOK_PREFIX = "istio-revision-tag-"


def check(index: Index, options: Options) -> Iterator[Finding]:
    namespaces = index.of_kind("Namespace")
    mesh = index.mesh()
    evidence = sorted(mesh.revisions)
    # the first by name, so that the message does not depend on the order of the input
    labelled = min((ns for ns in namespaces if ns.labels.get(REV)), key=lambda ns: ns.name, default=None)
    if labelled is not None:
        evidence.append(f"namespace {labelled.name} has {REV}={labelled.labels[REV]}")
    tags = sorted(w.name for w in index.of_kind("MutatingWebhookConfiguration") if w.name.startswith(TAG_WEBHOOK_PREFIX))
    if tags:
        evidence.append(f"webhook {tags[0]}")
    for ns in namespaces:
        labels = ns.labels
        if INJECTION in labels and REV in labels:
            yield RULE.finding(ns, ("metadata", "labels", REV), name=ns.name,
                               value=labels[INJECTION], rev=labels[REV])
        elif labels.get(INJECTION) == "enabled" and evidence:
            yield RULE.finding(
                ns, ("metadata", "labels", INJECTION),
                message="namespace {name} uses istio-injection=enabled while revisions are in use ({why}): "
                        "it follows the default revision and is upgraded in place with everything on it",
                fix="Replace istio-injection=enabled with istio.io/rev=<revision or tag>.",
                name=ns.name, why=", ".join(_revision_words(evidence)))
        elif labels.get(INJECTION) == "enabled":
            yield RULE.finding(
                ns, ("metadata", "labels", INJECTION), severity=Severity.INFO,
                message="namespace {name} uses istio-injection=enabled: it always follows the default "
                        "control plane, so its proxies can only be upgraded in place",
                fix="Install the control plane with a revision and label the namespace "
                    "istio.io/rev=<revision or tag> instead.",
                name=ns.name)
    for op in mesh.operators:
        if not op.spec.get("revision") and op.spec.get("profile") not in ("empty", "remote"):
            yield RULE.finding(
                op, ("spec",), severity=Severity.INFO,
                message="IstioOperator {name} installs the control plane without a revision: it can only "
                        "be upgraded in place",
                fix="Set spec.revision (e.g. 1-24) and move namespaces with istio.io/rev labels.",
                name=op.name)
    document = index.env.mesh_config_document
    data = index.env.mesh_config
    if document is not None and isinstance(data, dict) and data.get("kind") != "IstioOperator" \
            and isinstance(data.get("meshConfig") or data.get("pilot"), dict) and not data.get("revision"):
        yield RULE.finding(
            None, (), document=document, severity=Severity.INFO,
            message="istiod Helm values without a revision: the control plane can only be upgraded in place",
            fix="Set revision (e.g. 1-24) in the values and move namespaces with istio.io/rev labels.")


def _revision_words(evidence: list[str]) -> list[str]:
    return [e if " " in e else f"revision {e}" for e in evidence]


RULE = Rule(
    code="ML403",
    name="in-place-upgrade",
    severity=Severity.WARNING,
    summary="Namespace or install that only allows in-place Istio upgrades",
    inputs=frozenset({"Namespace", "ConfigMap", "IstioOperator", "MutatingWebhookConfiguration"}),
    message="namespace {name} has both istio-injection={value} and istio.io/rev={rev}: the revision "
            "label is ignored",
    fix="Remove the istio-injection label and keep istio.io/rev.",
    check=check,
)
