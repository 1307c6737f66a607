"""Plaintext health checks hit a STRICT mTLS port: kubelet probes and cloud load balancers.

Kubelet has no Istio client certificate. Istio normally rewrites HTTP and gRPC probes so that
they go to the sidecar agent (port 15020), which calls the application locally (istio/istio
`pkg/kube/inject/app_probe.go`, `ShouldRewriteAppHTTPProbers`: the pod annotation wins over
the injector's setting). Reported, for a workload with a sidecar whose probed port is STRICT
(istio/istio `pilot/pkg/security/authn/policy_applier.go`, with `portLevelMtls`):

- an `httpGet` or `grpc` liveness, readiness or startup probe while probe rewriting is off:
  pod annotation `sidecar.istio.io/rewriteAppHTTPProbers` false-y, or the injector values
  `sidecarInjectorWebhook.rewriteAppHTTPProbe: false` (the annotation wins either way).
  `exec` probes never go through the proxy, and `tcpSocket` probes only test that the proxy
  accepts connections;
- a `LoadBalancer` or `NodePort` Service that selects STRICT workloads which are not gateways:
  cloud load-balancer health checks and the traffic itself arrive in plaintext;
- with severity info, a pod that turns rewriting off with the annotation and has such a probe
  when the input cannot tell: its Namespace is not in the input and is assumed outside the
  mesh, and the input holds no PeerAuthentication. The annotation only matters with a sidecar,
  and under STRICT it breaks the probe.

A workload whose Namespace object is not in the input has unknown labels (SPEC §2): the
configuration settles them (`injected-namespaces`, `uninjected-namespaces`), or else the
namespace is assumed meshed when Istio configuration in the input targets it, and outside the
mesh otherwise. A finding that rests on that assumption is a warning that names it.
With no PeerAuthentication in the input at all, a pod that gets a sidecar and turns rewriting
off with the annotation is reported with severity info: whether its port is STRICT is unknown.

## Why it matters
A probe that the sidecar rejects fails every time: liveness restarts the pod forever, a
readiness probe keeps it out of every Service, and a rollout hangs at its first pod. A cloud
load balancer marks every node unhealthy, and the service is down from outside while
everything looks fine from inside the mesh.

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
metadata: {name: fraud, namespace: payments}
spec:
  template:
    metadata:
      annotations:
        sidecar.istio.io/rewriteAppHTTPProbers: "false"
    spec:
      containers:
      - name: fraud
        image: ghcr.io/example/fraud:3.0.2
        ports: [{name: http, containerPort: 8080}]
        livenessProbe:
          httpGet: {path: /healthz, port: http}
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
metadata: {name: fraud, namespace: payments}
spec:
  template:
    spec:                      # no opt-out: Istio rewrites the probe
      containers:
      - name: fraud
        image: ghcr.io/example/fraud:3.0.2
        ports: [{name: http, containerPort: 8080}]
        livenessProbe:
          httpGet: {path: /healthz, port: http}
```

## Fix
Remove `sidecar.istio.io/rewriteAppHTTPProbers: "false"` (Istio rewrites probes by default),
use an `exec` probe, or give the probe port a PERMISSIVE `portLevelMtls`. Put external
traffic through an Istio ingress gateway instead of a LoadBalancer/NodePort Service on meshed
pods, or make the Service's target ports PERMISSIVE.

## References
- istio/istio `pkg/kube/inject/app_probe.go`: probe rewriting and its annotation
- istio/istio `pilot/pkg/security/authn/policy_applier.go`: the effective mTLS mode per port
- [Health Checking of Istio Services](https://istio.io/latest/docs/ops/configuration/mesh/app-health-check/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Applicability, Edit, Finding, Fix, FixKind, Options, Rule, Severity, Variant
from ..fix import edits
from ..index import SIDECAR_INPUTS, Index
from ..mesh.peerauth import STRICT
from ..mesh.workloads import WORKLOAD_KINDS, is_gateway

REWRITE = "sidecar.istio.io/rewriteAppHTTPProbers"
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
FALSE = ("0", "f", "false")  # Go strconv.ParseBool false values (case-insensitive here)
TRUE = ("1", "t", "true")
AGENT_PORTS = (15020, 15021)  # already-rewritten probes target the agent


def _rewrite_off(index: Index, annotations) -> str:
    value = str(annotations.get(REWRITE, "")).strip().lower()
    if value in FALSE:
        return f'{REWRITE}: "{annotations[REWRITE]}"'
    if value in TRUE:
        return ""
    if index.mesh().value("sidecarInjectorWebhook", "rewriteAppHTTPProbe") is False:
        return "sidecarInjectorWebhook.rewriteAppHTTPProbe: false"
    return ""


def _probes(w) -> Iterator[tuple[tuple, str, str, object]]:
    """(path, probe name, kind, port) of every httpGet/grpc probe not aimed at the agent."""
    for i, c in w.containers():
        for probe_name in PROBES:
            probe = c.get(probe_name)
            if not isinstance(probe, dict):
                continue
            for kind in ("httpGet", "grpc"):
                action = probe.get(kind)
                if isinstance(action, dict):
                    port = w.container_port(action.get("port"))
                    if port not in AGENT_PORTS:
                        yield (w.spec_path + ("containers", i, probe_name, kind), probe_name, kind,
                               port if port is not None else action.get("port"))


def check(index: Index, options: Options) -> Iterator[Finding]:
    pas = index.peer_authentications()
    # no PeerAuthentication in the input: whether a port is STRICT is unknown, not "no"
    modes_unknown = not index.has_kind("PeerAuthentication")
    for w in index.workloads():
        why = _rewrite_off(index, w.annotations)
        if not why:
            continue
        sc = index.sidecar(w)
        explicit = REWRITE in w.annotations  # an opt-out written on this pod, not the injector's default
        opt_out = _drop_opt_out(index, w) if explicit else None
        if not sc.istio:
            if explicit and sc.assumption and modes_unknown:
                for path, probe_name, kind, port in _probes(w):
                    yield RULE.finding(PROBE_AT_RISK, w.resource, path, why=why, probe=probe_name, kind=kind,
                                       port=port, ns=w.namespace, autofix=opt_out)
            continue
        for path, probe_name, kind, port in _probes(w):
            if modes_unknown:
                if explicit:
                    yield RULE.finding(PROBE_MTLS_UNKNOWN, w.resource, path, why=why, probe=probe_name, kind=kind,
                                       port=port, ns=w.namespace, autofix=opt_out)
                continue
            mode = pas.mode(w.namespace, w.labels, port if isinstance(port, int) else None)
            if mode.mode == STRICT:
                policy = mode.decided_by
                fix, unfixable = opt_out, ""
                if fix is None:
                    fix, unfixable = _permissive(index, w, [port] if isinstance(port, int) else [])
                yield RULE.finding(PROBE_BLOCKED_ASSUMED if sc.assumption else PROBE_BLOCKED, w.resource, path,
                                   related=(policy.ref,), probe=probe_name, kind=kind, port=port, why=why,
                                   pa=f"{policy.namespace}/{policy.name}", assumption=sc.assumption, autofix=fix,
                                   unfixable=unfixable)
    for svc in index.of_kind("Service"):
        if svc.spec.get("type") not in ("LoadBalancer", "NodePort"):
            continue
        for w in index.workloads_of(svc):
            sc = index.sidecar(w)
            if is_gateway(w) or not sc.istio:
                continue
            strict = _strict_targets(pas, w, svc)
            if strict:
                mode = strict[0][1]
                fix, unfixable = _permissive(index, w, [number for number, _ in strict if number is not None])
                yield RULE.finding(
                    LOAD_BALANCER_TO_STRICT_ASSUMED if sc.assumption else LOAD_BALANCER_TO_STRICT, svc,
                    ("spec", "type"), related=(w.resource.ref, mode.decided_by.ref), type=svc.spec["type"],
                    workload=w.display(), pa=f"{mode.decided_by.namespace}/{mode.decided_by.name}",
                    assumption=sc.assumption, autofix=fix, unfixable=unfixable)
                break


def _strict_targets(pas, w, svc) -> list:
    """(container port, its STRICT mode) for each Service port that sends to a STRICT port."""
    out = []
    for port in svc.spec.get("ports") or ():
        target = port.get("targetPort", port.get("port"))
        number = w.container_port(target)
        mode = pas.mode(w.namespace, w.labels, number)
        if mode.mode == STRICT:
            out.append((number, mode))
    return out


def _drop_opt_out(index: Index, w) -> Fix:
    """SPEC §5: drop the pod's rewriteAppHTTPProbers opt-out (Istio rewrites probes by default);
    where the injector's values turn rewriting off for every pod, set it to "true" instead. Safe:
    the probes reach the application as before, through the agent."""
    if index.mesh().value("sidecarInjectorWebhook", "rewriteAppHTTPProbe") is False:
        return Fix((edits.pod_annotation(w, REWRITE, "true"),), Applicability.SAFE,
                   f'sets {REWRITE}: "true" (the injector turns rewriting off for every pod)')
    return Fix((Edit((*w.metadata_path, "annotations", REWRITE), remove=True),), Applicability.SAFE,
               f"drops the {REWRITE} opt-out: Istio rewrites the probes")


def _permissive(index: Index, w, ports: list[int]) -> tuple[Fix | None, str]:
    """SPEC §5: a PERMISSIVE portLevelMtls for the ports plaintext must reach."""
    try:
        policy = index.peer_authentications().applicable(w.namespace, w.labels)[2]
        return edits.permissive_ports(index, w, ports, policy), ""
    except edits.NoFix as exc:
        return None, str(exc)


PROBE_BLOCKED = Variant(
    "probe-blocked", Severity.ERROR,
    "{probe} {kind} on port {port} is sent by kubelet in plaintext, but probe rewriting is off ({why}) "
    "and PeerAuthentication {pa} makes the port STRICT: the probe always fails",
    "Remove the rewriteAppHTTPProbers opt-out (Istio rewrites probes by default), use an exec probe, "
    "or set a PERMISSIVE portLevelMtls for the probe port.")
PROBE_AT_RISK = Variant(
    "probe-at-risk", Severity.INFO,
    "probe rewriting is off ({why}) for this {probe} {kind} on port {port}: if the pod gets a sidecar "
    "under STRICT mTLS (namespace {ns} and its PeerAuthentications are not in the input), kubelet's "
    "plaintext probe is rejected",
    "Remove the rewriteAppHTTPProbers opt-out or use an exec probe; list injected namespaces under "
    "injected-namespaces to let meshlint decide.")
PROBE_MTLS_UNKNOWN = Variant(
    "probe-mtls-unknown", Severity.INFO,
    "probe rewriting is off ({why}) for this {probe} {kind} on port {port}: if PeerAuthentication makes "
    "the port STRICT (no PeerAuthentication is in the input), kubelet's plaintext probe is rejected",
    "Remove the rewriteAppHTTPProbers opt-out or use an exec probe; check with the PeerAuthentications "
    "of namespace {ns} and of the root namespace.")
PROBE_BLOCKED_ASSUMED = Variant(
    "probe-blocked-assumed", Severity.WARNING,
    "{probe} {kind} on port {port} is sent by kubelet in plaintext, but probe rewriting is off ({why}) "
    "and PeerAuthentication {pa} makes the port STRICT: the probe always fails ({assumption})",
    "Remove the rewriteAppHTTPProbers opt-out (Istio rewrites probes by default), use an exec probe, "
    "or set a PERMISSIVE portLevelMtls for the probe port.")
LOAD_BALANCER_TO_STRICT = Variant(
    "load-balancer-to-strict", Severity.ERROR,
    "{type} Service selects {workload}, which PeerAuthentication {pa} makes STRICT: cloud "
    "load-balancer health checks and traffic arrive in plaintext and are rejected",
    "Expose the workload through an Istio ingress gateway, or set a PERMISSIVE portLevelMtls for the "
    "Service's target ports.")

LOAD_BALANCER_TO_STRICT_ASSUMED = Variant(
    "load-balancer-to-strict-assumed", Severity.WARNING,
    "{type} Service selects {workload}, which PeerAuthentication {pa} makes STRICT: cloud "
    "load-balancer health checks and traffic arrive in plaintext and are rejected ({assumption})",
    "Expose the workload through an Istio ingress gateway, or set a PERMISSIVE portLevelMtls for the "
    "Service's target ports.")

RULE = Rule(
    code="ML202",
    name="probe-blocked-by-mtls",
    summary="Plaintext health check against a STRICT mTLS port",
    inputs=frozenset({*WORKLOAD_KINDS, *SIDECAR_INPUTS, "Service"}),
    variants=(PROBE_BLOCKED, PROBE_AT_RISK, LOAD_BALANCER_TO_STRICT, PROBE_MTLS_UNKNOWN, PROBE_BLOCKED_ASSUMED,
              LOAD_BALANCER_TO_STRICT_ASSUMED),
    check=check,
    footgun=7,
    fixes=(
        FixKind(Applicability.SAFE,
                "Drop the `sidecar.istio.io/rewriteAppHTTPProbers: \"false\"` opt-out (set it to "
                "\"true\" where the injector turns rewriting off for every pod)."),
        edits.PERMISSIVE_PORTS_FIX,
    ),
)
