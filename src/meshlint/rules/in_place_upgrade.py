"""Namespaces and installs that only allow in-place control-plane upgrades.

Istio supports canary upgrades: a new control-plane *revision* runs beside the old one and
namespaces move to it one at a time via the `istio.io/rev` label (or a revision tag). Reported:

- (a) a Namespace with both `istio-injection` and `istio.io/rev`: the webhooks select
  `istio-injection` first, so the revision label is silently ignored (istio/istio
  `manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml`: a
  revision's webhook needs `istio-injection` absent; `istioctl analyze` reports it as IST0123,
  istio/istio `pkg/config/analysis/analyzers/injection/injection.go`);
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

## Fixed example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio.io/rev: 1-22         # moves to 1-23 when that revision is ready
```

## Fix
Label namespaces with `istio.io/rev=<revision>` (or a revision tag such as `prod-stable`) only,
drop `istio-injection`, and install the control plane with a `revision`.

## References
- istio/istio `manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml`:
  which namespaces each revision's webhook injects
- istio/istio `pkg/config/analysis/analyzers/injection/injection.go`: `istioctl analyze` IST0123
- [Canary Upgrades](https://istio.io/latest/docs/setup/upgrade/canary/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Applicability, Edit, Finding, Fix, FixKind, Options, Rule, Severity, Variant, some_of
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
    tags = sorted(w.name for w in index.of_kind("MutatingWebhookConfiguration")
                  if w.name.startswith(TAG_WEBHOOK_PREFIX))
    if tags:
        evidence.append(f"webhook {tags[0]}")
    why = some_of(_revision_words(evidence))
    for ns in namespaces:
        labels = ns.labels
        if INJECTION in labels and REV in labels:
            fix = Fix((Edit(("metadata", "labels", INJECTION), remove=True),), Applicability.UNSAFE,
                      f"removes istio-injection: the namespace follows revision {labels[REV]} (restart its pods)")
            yield RULE.finding(BOTH_LABELS, ns, ("metadata", "labels", REV), name=ns.name,
                               value=labels[INJECTION], rev=labels[REV], autofix=fix)
        elif labels.get(INJECTION) == "enabled" and evidence:
            yield RULE.finding(
                LEGACY_LABEL_WITH_REVISIONS, ns, ("metadata", "labels", INJECTION), name=ns.name, why=why,
                unfixable="which revision or tag the namespace follows is a choice to make")
        elif labels.get(INJECTION) == "enabled":
            yield RULE.finding(LEGACY_LABEL, ns, ("metadata", "labels", INJECTION), name=ns.name)
    for op in mesh.operators:
        if not op.spec.get("revision") and op.spec.get("profile") not in ("empty", "remote"):
            yield RULE.finding(OPERATOR_WITHOUT_REVISION, op, ("spec",), name=op.name)
    installation = mesh.file
    if installation is not None and installation.data.get("kind") != "IstioOperator" \
            and isinstance(installation.data.get("meshConfig") or installation.data.get("pilot"), dict) \
            and not installation.data.get("revision"):
        yield RULE.finding(VALUES_WITHOUT_REVISION, None, (), document=installation.document)


def _revision_words(evidence: list[str]) -> list[str]:
    return [e if " " in e else f"revision {e}" for e in evidence]


BOTH_LABELS = Variant(
    "both-labels", Severity.WARNING,
    "namespace {name} has both istio-injection={value} and istio.io/rev={rev}: the revision label is "
    "ignored",
    "Remove the istio-injection label and keep istio.io/rev.")
LEGACY_LABEL_WITH_REVISIONS = Variant(
    "legacy-label-with-revisions", Severity.WARNING,
    "namespace {name} uses istio-injection=enabled while revisions are in use ({why}): it follows the "
    "default revision and is upgraded in place with everything on it",
    "Replace istio-injection=enabled with istio.io/rev=<revision or tag>.")
LEGACY_LABEL = Variant(
    "legacy-label", Severity.INFO,
    "namespace {name} uses istio-injection=enabled: it always follows the default control plane, so "
    "its proxies can only be upgraded in place",
    "Install the control plane with a revision and label the namespace istio.io/rev=<revision or tag> "
    "instead.")
OPERATOR_WITHOUT_REVISION = Variant(
    "operator-without-revision", Severity.INFO,
    "IstioOperator {name} installs the control plane without a revision: it can only be upgraded in place",
    "Set spec.revision (e.g. 1-24) and move namespaces with istio.io/rev labels.")
VALUES_WITHOUT_REVISION = Variant(
    "values-without-revision", Severity.INFO,
    "istiod Helm values without a revision: the control plane can only be upgraded in place",
    "Set revision (e.g. 1-24) in the values and move namespaces with istio.io/rev labels.")

RULE = Rule(
    code="ML403",
    name="in-place-upgrade",
    summary="Namespace or install that only allows in-place Istio upgrades",
    inputs=frozenset({"Namespace", "ConfigMap", "IstioOperator", "MutatingWebhookConfiguration"}),
    variants=(BOTH_LABELS, LEGACY_LABEL_WITH_REVISIONS, LEGACY_LABEL, OPERATOR_WITHOUT_REVISION,
              VALUES_WITHOUT_REVISION),
    check=check,
    footgun=9,
    fixes=(
        FixKind(Applicability.UNSAFE,
                "Remove the `istio-injection` label of a Namespace that also has `istio.io/rev` (its pods "
                "follow the revision once restarted)."),
    ),
)
