"""A ServiceEntry port the sidecar cannot tell apart: TCP without addresses, or conflicting protocols.

Two `istioctl analyze` checks of ServiceEntries, with their semantics:

- `addresses-required` (IST0134, istio/istio
  `pkg/config/analysis/analyzers/serviceentry/protocoladdresses.go`): a port whose `protocol`
  is TCP (any case) or unset, on a ServiceEntry without `addresses`. HTTP can be told apart by
  its Host header and TLS by SNI, but plain TCP only by destination address: without one the
  sidecar's listener for it is `0.0.0.0:<port>`, matched by port number alone. Not reported
  when Istio allocates the address itself: the ServiceEntry's `status.addresses` holds one (a
  live object), or the mesh config turns on DNS capture with auto-allocation
  (`defaultConfig.proxyMetadata`: `ISTIO_META_DNS_CAPTURE` and `ISTIO_META_DNS_AUTO_ALLOCATE`
  or `PILOT_ENABLE_IP_AUTOALLOCATE`). When no mesh config is in the input, Istio's default
  (no auto-allocation) is assumed and the finding is info, naming the assumption.
- `conflicting-protocols` (IST0177, istio/istio
  `pkg/config/analysis/analyzers/serviceentry/conflictingserviceentries.go`): ServiceEntries
  visible in one namespace (`exportTo`: none or `*` is every namespace, `.` their own) give the
  same host and port number different protocols (compared in upper case; unset is a protocol
  of its own). Each ServiceEntry involved is reported once.

## Why it matters
A TCP ServiceEntry without addresses quietly claims a port number for the whole pod: a
`ServiceEntry` for an external PostgreSQL on 5432 sends every other connection to port 5432 that
no Service address matches to that database host. Two ServiceEntries that disagree on a
port's protocol (one team says HTTPS, another HTTP) are merged by istiod with one protocol, so
one team's traffic is handled as the other's.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: billing-db, namespace: payments}
spec:
  hosts: [billing-db.example.internal]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - {number: 5432, name: postgres, protocol: TCP}   # no addresses: matched by port alone
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: billing-db, namespace: payments}
spec:
  hosts: [billing-db.example.internal]
  addresses: [10.40.12.7/32]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - {number: 5432, name: postgres, protocol: TCP}
```

## Fix
Give a TCP ServiceEntry the addresses its clients connect to (or turn on DNS capture with
auto-allocation in the mesh config). Declare one protocol per host and port across all
ServiceEntries, or merge them.

## References
- istio/istio `pkg/config/analysis/analyzers/serviceentry/protocoladdresses.go`: `istioctl analyze` IST0134
- istio/istio `pkg/config/analysis/analyzers/serviceentry/conflictingserviceentries.go`: `istioctl analyze` IST0177
- [ServiceEntry: addresses](https://istio.io/latest/docs/reference/config/networking/service-entry/)
- [IST0134 ServiceEntryAddressesRequired](https://istio.io/latest/docs/reference/config/analysis/ist0134/)
- [DNS Proxying: address auto allocation](https://istio.io/latest/docs/ops/configuration/traffic-management/dns-proxy/)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..resource import FieldPath, Resource

EVERYWHERE = "*"
TRUE = ("1", "t", "true")  # Go strconv.ParseBool, as the proxy reads its metadata


def _on(metadata: Mapping[str, Any], key: str) -> bool:
    return str(metadata.get(key, "")).lower() in TRUE


def auto_allocates(mesh: Mapping[str, Any]) -> bool:
    """protocoladdresses.go: DNS capture on, and auto-allocation by the agent or istiod."""
    default = mesh.get("defaultConfig")
    metadata = default.get("proxyMetadata") if isinstance(default, dict) else None
    if not isinstance(metadata, dict) or not _on(metadata, "ISTIO_META_DNS_CAPTURE"):
        return False
    return _on(metadata, "ISTIO_META_DNS_AUTO_ALLOCATE") or _on(metadata, "PILOT_ENABLE_IP_AUTOALLOCATE")


def _port_path(i: int, port: Mapping[str, Any]) -> FieldPath:
    return ("spec", "ports", i, "protocol") if "protocol" in port else ("spec", "ports", i)


def _ports(se: Resource) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for i, p in enumerate(se.spec.get("ports") or ()):
        if isinstance(p, dict):
            yield i, p


def _addresses_required(index: Index) -> Iterator[Finding]:
    mesh = index.mesh()
    if auto_allocates(mesh.mesh):
        return
    for se in index.of_kind("ServiceEntry"):
        status = se.raw.get("status")
        if se.spec.get("addresses") or (isinstance(status, dict) and status.get("addresses")):
            continue
        hosts = ", ".join(str(h) for h in se.spec.get("hosts") or ()) or "its hosts"
        for i, p in _ports(se):
            protocol = p.get("protocol")
            if protocol is None or str(protocol) == "" or str(protocol).upper() == "TCP":
                variant = ADDRESSES_REQUIRED if mesh.has_mesh_config else ADDRESSES_REQUIRED_DEFAULT
                yield RULE.finding(variant, se, _port_path(i, p), port=p.get("number", "?"), hosts=hosts)


class Entry(NamedTuple):
    se: Resource
    protocol: str
    path: FieldPath


def _scopes(se: Resource) -> set[str]:
    """conflictingserviceentries.go `exportToScopes`: `*` (or nothing) is every namespace."""
    export = [str(e) for e in se.spec.get("exportTo") or ()]
    if not export or EVERYWHERE in export:
        return {EVERYWHERE}
    return {se.namespace if e == "." else e for e in export}


def _conflicting_protocols(index: Index) -> Iterator[Finding]:
    table: dict[tuple[str, str, Any], list[Entry]] = defaultdict(list)
    for se in index.of_kind("ServiceEntry"):
        scopes = _scopes(se)
        for host in se.spec.get("hosts") or ():
            for i, p in _ports(se):
                entry = Entry(se, str(p.get("protocol") or "").upper(), _port_path(i, p))
                for scope in scopes:
                    table[(scope, str(host), p.get("number"))].append(entry)
    reported: set = set()
    for key in sorted(table, key=lambda k: (k[1], str(k[2]), k[0])):
        scope, host, port = key
        entries = table[key] + (table.get((EVERYWHERE, host, port), []) if scope != EVERYWHERE else [])
        protocols = sorted({e.protocol for e in entries})
        if len(protocols) < 2:
            continue
        refs = list(dict.fromkeys(e.se.ref for e in entries))
        names = ", ".join(sorted(f"{r.namespace}/{r.name}" for r in refs))
        shown = ", ".join(p or "unset" for p in protocols)
        for e in entries:
            if e.se.ref in reported:
                continue
            reported.add(e.se.ref)
            yield RULE.finding(CONFLICTING_PROTOCOLS, e.se, e.path, related=tuple(r for r in refs if r != e.se.ref),
                               names=names, host=host, port=port, protocols=shown)


def check(index: Index, options: Options) -> Iterator[Finding]:
    yield from _addresses_required(index)
    yield from _conflicting_protocols(index)


ADDRESSES_REQUIRED = Variant(
    "addresses-required", Severity.WARNING,
    "port {port} is TCP on a ServiceEntry without addresses: the sidecar matches its traffic by port "
    "alone, so connections to port {port} of other hosts can be sent to {hosts}",
    "Add the addresses clients connect to under spec.addresses, or turn on DNS capture with "
    "auto-allocation in the mesh config.")
ADDRESSES_REQUIRED_DEFAULT = Variant(
    "addresses-required-default", Severity.INFO,
    "port {port} is TCP on a ServiceEntry without addresses: the sidecar matches its traffic by port "
    "alone, so connections to port {port} of other hosts can be sent to {hosts} (assuming Istio's "
    "default mesh config, without DNS auto-allocation: no mesh config is in the input)",
    "Add the addresses clients connect to under spec.addresses; if the mesh allocates addresses, "
    "check the input with its mesh config (--mesh-config).")
CONFLICTING_PROTOCOLS = Variant(
    "conflicting-protocols", Severity.WARNING,
    "ServiceEntries {names} give host {host} port {port} different protocols ({protocols}): istiod "
    "keeps one, and the traffic the others describe is handled as that one",
    "Declare one protocol for {host} port {port} in every ServiceEntry, or merge them into one.")

RULE = Rule(
    code="ML118",
    name="ambiguous-service-entry-port",
    summary="TCP ServiceEntry without addresses, or conflicting protocols",
    inputs=frozenset({"ServiceEntry", "ConfigMap", "IstioOperator"}),
    variants=(ADDRESSES_REQUIRED, CONFLICTING_PROTOCOLS, ADDRESSES_REQUIRED_DEFAULT),
    check=check,
    istio_codes=frozenset({"IST0134", "IST0177"}),  # ServiceEntryAddressesRequired, ConflictingServiceEntryProtocol
)
