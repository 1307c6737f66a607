"""A policy's selector picks no workload with a proxy, or picks a Gateway API gateway.

Two `istioctl analyze` checks of workload selectors:

- IST0127 NoMatchingWorkloadsFound for AuthorizationPolicies (istio/istio
  `pkg/config/analysis/analyzers/authz/authorizationpolicies.go`): a policy with a `selector`
  that matches no pod of its namespace (of any namespace, in the root namespace), or a
  namespace-wide policy in a namespace without pods; only pods with an Istio proxy (a sidecar,
  or ambient mode) count. A namespace-wide policy in the root namespace applies to the whole
  mesh and is never reported; neither is a policy attached with `targetRef(s)`.
- IST0166 IneffectiveSelector (istio/istio
  `pkg/config/analysis/analyzers/k8sgateway/workloadselector.go`): an AuthorizationPolicy,
  RequestAuthentication, Telemetry or WasmPlugin without `targetRef` whose `selector` matches
  the pods of a Gateway API gateway (label `gateway.networking.k8s.io/gateway-name`). At runtime
  (istio/istio `pilot/pkg/model/policyattachment.go`, `ShouldAttachPolicy`) a waypoint ignores
  selector-based policies (an error here), and any other Gateway API gateway applies them only
  while istiod's `ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY` is on, which is its default (a
  warning here: the analyzer calls both ineffective).

Unknown is not no (SPEC §2): the pods a selector is meant for may be deployed from another
repository. "Selects nothing" and "has no proxy" are said only when the input holds workloads
of the namespace the policy applies to (for a selector in the root namespace: workloads of the
root namespace, where mesh-wide selectors usually point, at the ingress gateway), and are
decided against every workload kind (Deployments, StatefulSets, ... and Pods), not only the
running Pods the analyzer reads. A Gateway API gateway is found by the label on its pods in the
input, or, since Istio deploys those pods itself, by a `Gateway` of an Istio class in the
policy's namespace whose name the selector's `gateway.networking.k8s.io/gateway-name` (or
`istio.io/gateway-name`) label gives. Sidecar decisions that rest on an assumption about a
namespace are named in the message.

## Why it matters
An AuthorizationPolicy that selects nothing looks like protection and is none: a typo in a
label, a renamed Deployment or pods left out of the mesh, and the DENY rule or the ALLOW list
quietly stops existing. On a waypoint the same policy written with `selector` is ignored; it
must be attached with `targetRefs`.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: payments}
spec:
  selector:
    matchLabels: {app: ledger}
  template:
    metadata:
      labels: {app: ledger}
    spec:
      containers:
      - name: ledger
        image: ghcr.io/example/ledger:5.0.2
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ledger-deny-external, namespace: payments}
spec:
  selector:
    matchLabels: {app: legder}   # typo: selects no pod
  action: DENY
  rules:
  - from:
    - source:
        notNamespaces: [payments]
```

## Fixed example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: payments}
spec:
  selector:
    matchLabels: {app: ledger}
  template:
    metadata:
      labels: {app: ledger}
    spec:
      containers:
      - name: ledger
        image: ghcr.io/example/ledger:5.0.2
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ledger-deny-external, namespace: payments}
spec:
  selector:
    matchLabels: {app: ledger}
  action: DENY
  rules:
  - from:
    - source:
        notNamespaces: [payments]
```

## Fix
Correct the selector to the labels of the pods the policy is for, and make sure those pods
get a proxy. For a Gateway API gateway or a waypoint, attach the policy with `targetRefs`
(`group: gateway.networking.k8s.io`, `kind: Gateway`, `name: <gateway>`) instead of `selector`.

## References
- istio/istio `pkg/config/analysis/analyzers/authz/authorizationpolicies.go`: `istioctl analyze` IST0127
- istio/istio `pkg/config/analysis/analyzers/k8sgateway/workloadselector.go`: `istioctl analyze` IST0166
- istio/istio `pilot/pkg/model/policyattachment.go`: selectors on Gateway API gateways and waypoints
- [IST0127 NoMatchingWorkloadsFound](https://istio.io/latest/docs/reference/config/analysis/ist0127/)
- [IST0166 IneffectiveSelector](https://istio.io/latest/docs/reference/config/analysis/ist0166/)
- [Authorization Policy](https://istio.io/latest/docs/reference/config/security/authorization-policy/)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import SIDECAR_INPUTS, Index
from ..mesh.workloads import WORKLOAD_KINDS, Workload
from ..resource import K8S_GATEWAY, FieldPath, Resource

AUTHZ = "AuthorizationPolicy"
POLICY_KINDS = (AUTHZ, "RequestAuthentication", "Telemetry", "WasmPlugin")
GATEWAY_NAME = "gateway.networking.k8s.io/gateway-name"  # on the pods of a Gateway API gateway
GATEWAY_NAME_LABELS = (GATEWAY_NAME, "istio.io/gateway-name")
MESH_CONTROLLER = ("gateway.istio.io/managed", "istio.io-mesh-controller")  # a waypoint's pods
WAYPOINT_CLASS = "istio-waypoint"


def _match_labels(policy: Resource) -> tuple[dict[str, str] | None, FieldPath]:
    """The selector's matchLabels (None: no selector) and where it is."""
    selector = policy.spec.get("selector")
    if not isinstance(selector, dict):
        return None, ("metadata", "name")
    labels = selector.get("matchLabels")
    if not isinstance(labels, dict):
        return {}, ("spec", "selector")
    return {str(k): str(v) for k, v in labels.items()}, ("spec", "selector", "matchLabels")


def _shown(labels: Mapping[str, str]) -> str:
    """As Kubernetes prints a selector (`labels.SelectorFromSet(...).String()`)."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "{}"


def _gateway_pods(index: Index) -> dict[str, list[Workload]]:
    """Namespace -> the workloads of the input that are pods of a Gateway API gateway."""
    out: dict[str, list[Workload]] = defaultdict(list)
    for w in index.workloads():
        if GATEWAY_NAME in w.labels:
            out[w.namespace].append(w)
    return out


def _gateways(index: Index, pods: Mapping[str, list[Workload]], namespace: str,
              labels: Mapping[str, str]) -> list[tuple[str, bool]]:
    """(name, is a waypoint) of the Gateway API gateways whose pods the selector matches."""
    found: dict[str, bool] = {}
    for w in pods.get(namespace, ()):
        name = w.labels.get(GATEWAY_NAME)
        if name is not None and all(w.labels.get(k) == v for k, v in labels.items()):
            found[str(name)] = found.get(str(name), False) or _waypoint_pods(w)
    for key in GATEWAY_NAME_LABELS:
        name = labels.get(key)
        gw = index.get(K8S_GATEWAY, namespace, name) if name else None
        if gw is not None and str(gw.spec.get("gatewayClassName", "")).startswith("istio"):
            found[gw.name] = found.get(gw.name, False) or gw.spec.get("gatewayClassName") == WAYPOINT_CLASS
    for name in list(found):
        gw = index.get(K8S_GATEWAY, namespace, name)
        if gw is not None and gw.spec.get("gatewayClassName") == WAYPOINT_CLASS:
            found[name] = True
    return sorted(found.items())


def _waypoint_pods(w: Workload) -> bool:
    key, value = MESH_CONTROLLER
    return w.labels.get(key) == value or w.resource.labels.get(key) == value


def _has_target_ref(policy: Resource) -> bool:
    return bool(policy.spec.get("targetRef") or policy.spec.get("targetRefs"))


def _on_gateway(index: Index, pods: Mapping[str, list[Workload]], policy: Resource) -> Iterator[Finding]:
    labels, path = _match_labels(policy)
    if labels is None or _has_target_ref(policy):
        return
    gateways = _gateways(index, pods, policy.namespace, labels)
    if not gateways:
        return
    waypoints = [name for name, waypoint in gateways if waypoint]
    name = waypoints[0] if waypoints else gateways[0][0]
    related = tuple(r.ref for r in [index.get(K8S_GATEWAY, policy.namespace, name)] if r is not None)
    variant = SELECTOR_ON_WAYPOINT if waypoints else SELECTOR_ON_GATEWAY
    yield RULE.finding(variant, policy, path, related=related, selector=_shown(labels), gateway=name,
                       kind=policy.kind)


def _applies_to(index: Index, policy: Resource, labels: dict[str, str] | None) -> tuple[list[Workload] | None, str]:
    """The workloads an AuthorizationPolicy applies to, and the scope they were looked for in;
    None when the input cannot tell (it holds no workload of that scope) or the policy is
    mesh-wide."""
    root = index.facts.root_namespace
    if policy.namespace == root:
        if not labels or not index.workloads_in(root):
            return None, ""
        return index.workloads_matching(labels), "any namespace"
    held = index.workloads_in(policy.namespace)
    if not held:
        return None, ""
    scope = f"namespace {policy.namespace}"
    return (index.workloads_selected(policy.namespace, labels) if labels else held), scope


def _selects_nothing(index: Index, policy: Resource) -> Iterator[Finding]:
    labels, path = _match_labels(policy)
    if _has_target_ref(policy):
        return
    workloads, scope = _applies_to(index, policy, labels)
    if workloads is None:
        return
    if not workloads:
        yield RULE.finding(SELECTS_NOTHING, policy, path, selector=_shown(labels or {}), scope=scope)
        return
    decisions = [(w, index.sidecar(w)) for w in sorted(workloads, key=lambda w: w.display())]
    if any(sc.meshed for _, sc in decisions):
        return
    w, sc = decisions[0]
    assumption = next((s.assumption for _, s in decisions if s.assumption), "")
    variant = NOT_ENFORCED_ASSUMED if assumption else NOT_ENFORCED
    target = f"selector {_shown(labels)}" if labels else "the namespace-wide policy"
    yield RULE.finding(variant, policy, path, related=(w.resource.ref,), target=target,
                       workload=w.display(), reason=sc.reason, assumption=assumption)


def check(index: Index, options: Options) -> Iterator[Finding]:
    pods = _gateway_pods(index)
    for kind in POLICY_KINDS:
        for policy in index.of_kind(kind):
            found = list(_on_gateway(index, pods, policy))
            yield from found
            if kind == AUTHZ and not found:
                yield from _selects_nothing(index, policy)


SELECTS_NOTHING = Variant(
    "selects-nothing", Severity.WARNING,
    "selector {selector} matches no workload of {scope} in the input: the policy applies to nothing",
    "Correct the selector to the labels of the pods the policy is for, or delete the policy.")
NOT_ENFORCED = Variant(
    "not-enforced", Severity.WARNING,
    "the workloads {target} applies to have no Istio proxy ({workload}: {reason}): "
    "nothing enforces the policy",
    "Inject a sidecar into those workloads (or enrol them in ambient mode), or delete the policy.")
NOT_ENFORCED_ASSUMED = Variant(
    "not-enforced-assumed", Severity.WARNING,
    "the workloads {target} applies to have no Istio proxy ({workload}: {reason}): "
    "nothing enforces the policy ({assumption})",
    "Settle the assumption with injected-namespaces or uninjected-namespaces; if it holds, inject a "
    "sidecar into those workloads.")
SELECTOR_ON_WAYPOINT = Variant(
    "selector-on-waypoint", Severity.ERROR,
    "selector {selector} picks waypoint {gateway}, which ignores selector-based policies: this "
    "{kind} does not apply there",
    "Attach the {kind} with targetRefs (group gateway.networking.k8s.io, kind Gateway, name "
    "{gateway}) instead of selector.")
SELECTOR_ON_GATEWAY = Variant(
    "selector-on-gateway", Severity.WARNING,
    "selector {selector} picks the pods of Gateway API gateway {gateway}: Istio applies this {kind} "
    "there only while istiod's ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY is on (its default)",
    "Attach the {kind} with targetRefs (group gateway.networking.k8s.io, kind Gateway, name "
    "{gateway}) instead of selector.")

RULE = Rule(
    code="ML205",
    name="ineffective-policy-selector",
    summary="Policy selector matches no proxied workload, or a Gateway API gateway",
    inputs=frozenset({*POLICY_KINDS, K8S_GATEWAY, *WORKLOAD_KINDS, *SIDECAR_INPUTS}),
    variants=(SELECTS_NOTHING, NOT_ENFORCED, SELECTOR_ON_GATEWAY, SELECTOR_ON_WAYPOINT, NOT_ENFORCED_ASSUMED),
    check=check,
    istio_codes=frozenset({"IST0127", "IST0166"}),  # NoMatchingWorkloadsFound, IneffectiveSelector
)
