"""A DestinationRule turns TLS off (`tls.mode: DISABLE`) for workloads that require mTLS.

`tls.mode: DISABLE` makes the client's sidecar send plaintext, overriding auto-mTLS. Towards a
workload whose effective PeerAuthentication mode is STRICT on that port (`mesh.peerauth`: mesh,
namespace, workload and port level, as istio/istio `pilot/pkg/security/authn/policy_applier.go`
composes them), the server's proxy refuses every connection. Mirrors Kiali's validations
KIA0207 (a namespace-wide DestinationRule, host `*.<ns>.svc.<domain>`, disabling TLS where the
namespace's PeerAuthentication is STRICT) and KIA0208 (the same against a mesh-wide STRICT
PeerAuthentication; also for a mesh-wide host such as `*.local`), from kiali/kiali
`business/checkers/destinationrules/disabled_namespacewide_mtls_checker.go` and
`disabled_meshwide_mtls_checker.go`. meshlint goes further than Kiali:

- a `DISABLE` at port level (`portLevelSettings[].tls`, the Service port mapped to its
  container port) or in a subset (only the subset's pods) is checked too, and the top-level
  one only for the ports no `portLevelSettings` entry replaces;
- for the host of one Service, each workload it selects is checked with its own mode (a
  workload-level or port-level PERMISSIVE exception is honoured);
- only workloads with an Istio proxy (a sidecar, or ambient mode, where ztunnel enforces
  STRICT) are held to their mode: a sidecar-less workload does not enforce STRICT, and is
  ML201's business (which also reports the opposite mistake, ISTIO_MUTUAL towards workloads
  without sidecars).

Unknown is not no (SPEC §2): a host that is no Service of the input (a ServiceEntry, or not in
the input) is not checked. When the Service is in the input but its workloads are not, their
mode is taken to be their namespace's, and the finding is a warning that says so; so is one
that rests on an assumed sidecar.

## Why it matters
`DISABLE` is often copied from a migration guide or left over from before mTLS was turned on,
and works until someone makes the namespace STRICT: from then on, every request from the
clients this DestinationRule applies to fails with `connection reset by peer` (503 `UF,URX`),
while clients without the rule keep working, which makes the outage look random.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: billing}
spec:
  mtls: {mode: STRICT}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: billing-plaintext, namespace: billing}
spec:
  host: "*.billing.svc.cluster.local"
  trafficPolicy:
    tls:
      mode: DISABLE   # plaintext to workloads that only accept mTLS
```

## Fixed example
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: billing}
spec:
  mtls: {mode: STRICT}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: billing-mtls, namespace: billing}
spec:
  host: "*.billing.svc.cluster.local"
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
```

## Fix
Drop the `tls` block (auto-mTLS then uses mTLS wherever the server has a proxy) or set
`ISTIO_MUTUAL`. If a port must stay plaintext, make it PERMISSIVE with a workload-level
`portLevelMtls` and disable TLS for that port only.

## References
- istio/istio `pilot/pkg/security/authn/policy_applier.go`: the effective PeerAuthentication mode
- kiali/kiali `business/checkers/destinationrules/disabled_namespacewide_mtls_checker.go`: KIA0207
- kiali/kiali `business/checkers/destinationrules/disabled_meshwide_mtls_checker.go`: KIA0208
- [KIA0207 and KIA0208](https://kiali.io/docs/features/validations/)
- [PeerAuthentication](https://istio.io/latest/docs/reference/config/security/peer_authentication/)
- [DestinationRule: ClientTLSSettings](https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import SIDECAR_INPUTS, Index
from ..mesh.hosts import expand_host, matches
from ..mesh.namespaces import namespace_of_host
from ..mesh.peerauth import STRICT, Mode, PeerAuthentications
from ..mesh.trafficpolicy import TLSSetting, tls_settings
from ..mesh.workloads import WORKLOAD_KINDS, Workload
from ..resource import Resource


def _pa(mode: Mode) -> str:
    return f"{mode.decided_by.namespace}/{mode.decided_by.name}"


def _where(setting: TLSSetting) -> str:
    parts = []
    if setting.port is not None:
        parts.append(f"port {setting.port}")
    if setting.subset is not None:
        parts.append(f"subset {setting.subset}")
    return f" ({', '.join(parts)})" if parts else ""


def _container_ports(service: Resource, w: Workload, setting: TLSSetting) -> list[int | None]:
    """The container ports the setting sends plaintext to ([None]: the Service lists no port)."""
    ports = [p for p in service.spec.get("ports") or () if isinstance(p, dict)]
    if not ports:
        return [None] if setting.port is None else []
    out: list[int | None] = []
    for p in ports:
        number = p.get("port")
        if setting.port is not None and number != setting.port:
            continue
        if setting.port is None and number in setting.overridden:
            continue
        target = p.get("targetPort")
        out.append(w.container_port(number if target in (None, 0, "", "0") else target))
    return out


def _for_service(index: Index, pas: PeerAuthentications, dr: Resource, host: str, service: Resource,
                 setting: TLSSetting) -> Iterator[Finding]:
    path = (*setting.path, "mode")
    workloads = index.workloads_of(service)
    if setting.subset_labels is not None:
        labels = setting.subset_labels
        workloads = [w for w in workloads if all(w.labels.get(k) == v for k, v in labels.items())]
    if not workloads:
        if not isinstance(service.spec.get("selector"), dict) or index.workloads_in(service.namespace):
            return  # no selector, or the namespace's workloads are in the input and none is selected
        mode = pas.mode(service.namespace, {})
        if mode.mode == STRICT:
            assumption = (f"the workloads of {host} are not in the input: assuming they have sidecars "
                          f"and the mode of namespace {service.namespace}")
            yield RULE.finding(DISABLED_FOR_STRICT_ASSUMED, dr, path, related=(service.ref, mode.decided_by.ref),
                               host=host, where=_where(setting), workload=f"namespace {service.namespace}",
                               pa=_pa(mode), assumption=assumption)
        return
    for w in sorted(workloads, key=lambda w: w.display()):
        sc = index.sidecar(w)
        if not sc.meshed:
            continue
        for port in _container_ports(service, w, setting):
            mode = pas.mode(w.namespace, w.labels, port)
            if mode.mode != STRICT:
                continue
            shown = w.display() + (f" port {port}" if port is not None else "")
            variant = DISABLED_FOR_STRICT_ASSUMED if sc.assumption else DISABLED_FOR_STRICT
            yield RULE.finding(variant, dr, path, related=(service.ref, w.resource.ref, mode.decided_by.ref),
                               host=host, where=_where(setting), workload=shown, pa=_pa(mode),
                               assumption=sc.assumption)
            return


def _for_wildcard(index: Index, pas: PeerAuthentications, dr: Resource, host: str, fqdn: str,
                  setting: TLSSetting) -> Iterator[Finding]:
    domain = index.facts.domain
    namespace = namespace_of_host(fqdn, domain)
    if namespace:
        scope, mode = f"namespace {namespace}", pas.mode(namespace, {})  # KIA0207, or KIA0208 from the mesh
        held = index.workloads_in(namespace)
        if held and not any(index.sidecar(w).meshed for w in held):
            return  # nothing there enforces STRICT: ML201 reports it
    elif matches(fqdn, f"*.svc.{domain}"):
        scope, mode = "every namespace", pas.mode(index.facts.root_namespace, {})  # KIA0208
    else:
        return
    if mode.mode == STRICT:
        yield RULE.finding(DISABLED_FOR_STRICT_NAMESPACE, dr, (*setting.path, "mode"),
                           related=(mode.decided_by.ref,), host=host, where=_where(setting), scope=scope,
                           pa=_pa(mode))


def check(index: Index, options: Options) -> Iterator[Finding]:
    pas = index.peer_authentications()
    domain = index.facts.domain
    for dr in index.of_kind("DestinationRule"):
        host = dr.spec.get("host")
        if not isinstance(host, str) or not host:
            continue
        disabled = [s for s in tls_settings(dr) if s.mode == "DISABLE"]
        if not disabled:
            continue
        fqdn = expand_host(host, dr.namespace, domain)
        service = None if fqdn.startswith("*") else index.service_for_host(fqdn)
        for setting in disabled:
            if fqdn.startswith("*"):
                yield from _for_wildcard(index, pas, dr, host, fqdn, setting)
            elif service is not None:
                yield from _for_service(index, pas, dr, host, service, setting)


DISABLED_FOR_STRICT = Variant(
    "disabled-for-strict", Severity.ERROR,
    "tls.mode DISABLE for {host}{where} sends plaintext to {workload}, which PeerAuthentication {pa} "
    "makes STRICT: its proxy rejects the requests",
    "Drop tls (auto-mTLS uses mTLS) or use tls.mode ISTIO_MUTUAL for {host}; make the port "
    "PERMISSIVE if it must take plaintext.")
DISABLED_FOR_STRICT_NAMESPACE = Variant(
    "disabled-for-strict-namespace", Severity.ERROR,
    "tls.mode DISABLE for {host}{where} sends plaintext to {scope}, which PeerAuthentication {pa} "
    "makes STRICT: the proxies there reject the requests",
    "Drop tls (auto-mTLS uses mTLS) or use tls.mode ISTIO_MUTUAL for {host}.")
DISABLED_FOR_STRICT_ASSUMED = Variant(
    "disabled-for-strict-assumed", Severity.WARNING,
    "tls.mode DISABLE for {host}{where} sends plaintext to {workload}, which PeerAuthentication {pa} "
    "makes STRICT: its proxy rejects the requests ({assumption})",
    "Drop tls (auto-mTLS uses mTLS) or use tls.mode ISTIO_MUTUAL for {host}; make the port "
    "PERMISSIVE if it must take plaintext.")

RULE = Rule(
    code="ML207",
    name="tls-disabled-for-strict-workload",
    summary="DestinationRule disables TLS towards STRICT mTLS workloads",
    inputs=frozenset({"DestinationRule", "PeerAuthentication", "Service", *WORKLOAD_KINDS, *SIDECAR_INPUTS}),
    variants=(DISABLED_FOR_STRICT, DISABLED_FOR_STRICT_NAMESPACE, DISABLED_FOR_STRICT_ASSUMED),
    check=check,
)
