"""STRICT mTLS applies to workloads that have no sidecar to enforce it, or that must call it.

Each workload's effective PeerAuthentication mode is computed as Istio does (mesh-wide policy
in the root namespace, then the namespace's, then a workload selector's, then
`portLevelMtls`; `UNSET` inherits; oldest wins within a level; nothing means PERMISSIVE: istio/istio
`pilot/pkg/security/authn/policy_applier.go`, `ComposePeerAuthentication`). Sidecar presence
is Istio's injection decision (istio/istio `pkg/kube/inject/inject.go`, `injectRequired`; or,
for live pods, an `istio-proxy` container); ambient-mode workloads count as meshed. Reported:

- every workload *without* a sidecar in the scope of a STRICT policy: the policy is not
  enforced on it, and its own plaintext calls to STRICT workloads are rejected;
- every sidecar-less workload that is known to call a STRICT workload with a sidecar (a Service
  host named in its env values or args);
- a DestinationRule with `tls.mode: ISTIO_MUTUAL` for a host whose workloads have no sidecar:
  they cannot terminate Istio mTLS, so the host becomes unreachable (auto-mTLS would have sent
  plaintext).

A workload whose Namespace object is not in the input has unknown labels (SPEC §2): the
configuration settles them (`injected-namespaces`, `uninjected-namespaces`), or else the
namespace is assumed meshed when Istio configuration in the input targets it, and outside the
mesh otherwise. A finding that rests on that assumption is a warning that names it.
Workloads that Linkerd meshes have Linkerd's own mTLS and are not held to Istio's policies.

## Why it matters
STRICT is the switch that turns "mTLS where possible" into "mTLS or nothing". Workloads that
were left out of injection (an opt-out label, `hostNetwork`, a namespace nobody labelled) do
not enforce it, so the security review that relies on it is wrong, and everything they call in
the mesh now answers `connection reset by peer`: plaintext clients are cut off the moment the
policy is applied.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: payments
  labels: {istio-injection: enabled}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: payments}
spec:
  mtls: {mode: STRICT}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: settlement-exporter, namespace: payments}
spec:
  template:
    metadata:
      labels:
        app: settlement-exporter
        sidecar.istio.io/inject: "false"   # no sidecar, in a STRICT namespace
    spec:
      containers:
      - name: exporter
        image: ghcr.io/example/settlement-exporter:1.3.0
```

## Fixed example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: payments
  labels: {istio-injection: enabled}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: payments}
spec:
  mtls: {mode: STRICT}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: settlement-exporter, namespace: payments}
spec:
  template:
    metadata:
      labels:
        app: settlement-exporter   # no opt-out: the namespace injects it
    spec:
      containers:
      - name: exporter
        image: ghcr.io/example/settlement-exporter:1.3.0
```

## Fix
Inject a sidecar into the workload (remove the opt-out, label its namespace) or move it to
ambient mode; if it must stay outside the mesh, give the workloads it calls a PERMISSIVE
`portLevelMtls` for the ports it uses. For a DestinationRule, use `tls.mode: DISABLE` (or drop
`tls` and let auto-mTLS decide) for hosts without sidecars.

## References
- istio/istio `pilot/pkg/security/authn/policy_applier.go`: the effective PeerAuthentication mode
- istio/istio `pkg/kube/inject/inject.go`: whether a pod gets a sidecar
- [PeerAuthentication](https://istio.io/latest/docs/reference/config/security/peer_authentication/)
- [Sidecar injection](https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..finding import Applicability, Edit, Finding, Fix, FixKind, Options, Rule, Severity, Variant
from ..fix import edits
from ..index import SIDECAR_INPUTS, Index
from ..mesh.hosts import expand_host
from ..mesh.injection import Sidecar
from ..mesh.peerauth import STRICT, Mode, PeerAuthentications
from ..mesh.workloads import WORKLOAD_KINDS
from ..resource import Ref, Resource

if TYPE_CHECKING:
    from ..mesh.workloads import Workload


def _pa(mode: Mode) -> str:
    return f"{mode.decided_by.namespace}/{mode.decided_by.name}"


def check(index: Index, options: Options) -> Iterator[Finding]:
    pas = index.peer_authentications()
    # once per Service and port called: many workloads may call it
    strict_behind: dict[tuple[Ref, int | None], tuple[Mode, Sidecar, Fix | None, str] | None] = {}
    for w in index.workloads():
        sc = index.sidecar(w)
        if sc.meshed or sc.mesh == "linkerd":  # Linkerd's own mTLS: Istio's policies do not apply
            continue
        strict = pas.strict_somewhere(w.namespace, w.labels)
        if strict is not None:
            variant, assumed = (IN_STRICT_SCOPE_ASSUMED, sc.assumption) if sc.assumption else (IN_STRICT_SCOPE, "")
            yield RULE.finding(variant, w.resource, w.path or ("metadata",), related=(strict.decided_by.ref,),
                               reason=sc.reason, pa=_pa(strict), assumption=assumed,
                               unfixable="a PeerAuthentication is not enforced on a pod without a sidecar: inject "
                                         "one, or keep the workload out of STRICT scope")
            continue
        for svc, mention in index.calls(w):
            key = (svc.ref, mention.port)
            if key not in strict_behind:
                strict_behind[key] = _strict_target(index, pas, svc, mention.port)
            found = strict_behind[key]
            if found is not None:
                mode, target_sidecar, fix, unfixable = found
                assumed = sc.assumption or target_sidecar.assumption
                yield RULE.finding(
                    CALLS_STRICT_WORKLOAD_ASSUMED if assumed else CALLS_STRICT_WORKLOAD, w.resource,
                    mention.path, related=(svc.ref, mode.decided_by.ref), reason=sc.reason,
                    service=f"{svc.namespace}/{svc.name}", pa=_pa(mode), assumption=assumed, autofix=fix,
                    unfixable=unfixable)
    domain = index.facts.domain
    for dr in index.of_kind("DestinationRule"):
        host = dr.spec.get("host")
        if not host:
            continue
        destination = index.service_for_host(expand_host(host, dr.namespace, domain))
        if destination is None:
            continue
        targets = index.workloads_of(destination)
        if not targets or any(index.sidecar(t).meshed for t in targets):
            continue
        for path in _istio_mutual(dr):
            fix = Fix((Edit(path, "DISABLE"),), Applicability.UNSAFE,
                      f"sends plaintext to {host}, whose pods cannot terminate Istio mTLS")
            yield RULE.finding(
                ISTIO_MUTUAL_WITHOUT_SIDECAR, dr, path, related=(destination.ref,), host=host,
                reason=index.sidecar(targets[0]).reason, autofix=fix)


def _called_ports(svc: Resource, called: int | None, target: Workload) -> list[int]:
    """The container ports of `target` that a call through `svc` reaches: the Service port the
    call names (`cart:8080`), or every Service port when it names none."""
    out = []
    for port in svc.spec.get("ports") or ():
        if not isinstance(port, dict) or (called is not None and port.get("port") != called):
            continue
        number = target.container_port(port.get("targetPort", port.get("port")))
        if isinstance(number, int) and not isinstance(number, bool) and number not in out:
            out.append(number)
    return out


def _strict_target(index: Index, pas: PeerAuthentications, svc: Resource,
                   called: int | None) -> tuple[Mode, Sidecar, Fix | None, str] | None:
    """The STRICT mode that a call through `svc` (to Service port `called`, or any) meets at the
    first workload behind it that an Istio sidecar serves, that sidecar, and the fix (a
    PERMISSIVE portLevelMtls for the STRICT ports the call reaches) or why there is none."""
    for target in index.workloads_of(svc):
        target_sidecar = index.sidecar(target)
        if not target_sidecar.meshed:
            continue
        ports = _called_ports(svc, called, target)
        strict_ports = [p for p in ports if pas.mode(target.namespace, target.labels, p).mode == STRICT]
        if ports:
            mode = pas.mode(target.namespace, target.labels, strict_ports[0]) if strict_ports else None
        else:  # the ports it calls are not known: STRICT anywhere is STRICT for it
            mode = pas.strict_somewhere(target.namespace, target.labels)
        if mode is not None and target_sidecar.istio:
            try:
                policy = pas.applicable(target.namespace, target.labels)[2]
                return mode, target_sidecar, edits.permissive_ports(index, target, strict_ports, policy), ""
            except edits.NoFix as exc:
                return mode, target_sidecar, None, str(exc)
    return None


def _istio_mutual(dr) -> Iterator[tuple]:
    top = dr.spec.get("trafficPolicy") or {}
    if (top.get("tls") or {}).get("mode") == "ISTIO_MUTUAL":
        yield ("spec", "trafficPolicy", "tls", "mode")
    for i, port in enumerate(top.get("portLevelSettings") or ()):
        if (port.get("tls") or {}).get("mode") == "ISTIO_MUTUAL":
            yield ("spec", "trafficPolicy", "portLevelSettings", i, "tls", "mode")
    for i, subset in enumerate(dr.spec.get("subsets") or ()):
        tls = ((subset.get("trafficPolicy") or {}).get("tls") or {}) if isinstance(subset, dict) else {}
        if tls.get("mode") == "ISTIO_MUTUAL":
            yield ("spec", "subsets", i, "trafficPolicy", "tls", "mode")


IN_STRICT_SCOPE = Variant(
    "in-strict-scope", Severity.ERROR,
    "the pod has no sidecar ({reason}) but PeerAuthentication {pa} makes it STRICT: the policy is not "
    "enforced on it, and its plaintext calls to STRICT workloads are rejected",
    "Inject a sidecar (remove the opt-out or label the namespace) or use ambient mode; keep workloads "
    "that must stay outside the mesh out of STRICT scope.")
CALLS_STRICT_WORKLOAD = Variant(
    "calls-strict-workload", Severity.ERROR,
    "the pod has no sidecar ({reason}) but calls {service}, which PeerAuthentication {pa} makes "
    "STRICT: its plaintext requests are rejected",
    "Inject a sidecar into this workload, or give {service} a PERMISSIVE portLevelMtls for the port "
    "it calls.")
IN_STRICT_SCOPE_ASSUMED = Variant(
    "in-strict-scope-assumed", Severity.WARNING,
    "the pod has no sidecar ({reason}) but PeerAuthentication {pa} makes it STRICT: the policy is not "
    "enforced on it, and its plaintext calls to STRICT workloads are rejected ({assumption})",
    "If the namespace is injected, list it under injected-namespaces; otherwise inject a sidecar or "
    "keep the workload out of STRICT scope.")
CALLS_STRICT_WORKLOAD_ASSUMED = Variant(
    "calls-strict-workload-assumed", Severity.WARNING,
    "the pod has no sidecar ({reason}) but calls {service}, which PeerAuthentication {pa} makes "
    "STRICT: its plaintext requests are rejected ({assumption})",
    "Settle the assumption with injected-namespaces or uninjected-namespaces; if it holds, inject a "
    "sidecar into this workload or give {service} a PERMISSIVE portLevelMtls for the port it calls.")
ISTIO_MUTUAL_WITHOUT_SIDECAR = Variant(
    "istio-mutual-without-sidecar", Severity.ERROR,
    "tls.mode ISTIO_MUTUAL for {host}, whose workloads have no sidecar ({reason}): they cannot "
    "terminate Istio mTLS, so requests to them fail",
    "Use tls.mode DISABLE for {host} (or drop tls and let auto-mTLS send plaintext).")

RULE = Rule(
    code="ML201",
    name="strict-mtls-without-sidecar",
    summary="STRICT mTLS in scope of a workload without a sidecar",
    inputs=frozenset({*WORKLOAD_KINDS, *SIDECAR_INPUTS, "Service"}),
    variants=(IN_STRICT_SCOPE, CALLS_STRICT_WORKLOAD, ISTIO_MUTUAL_WITHOUT_SIDECAR, IN_STRICT_SCOPE_ASSUMED,
              CALLS_STRICT_WORKLOAD_ASSUMED),
    check=check,
    footgun=3,
    fixes=(
        edits.PERMISSIVE_PORTS_FIX,
        FixKind(Applicability.UNSAFE,
                "Set a DestinationRule's `tls.mode` ISTIO_MUTUAL to DISABLE for a host whose pods have "
                "no sidecar."),
    ),
)
