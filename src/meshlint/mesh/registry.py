"""The service registry as a namespace sees it: which hosts exist, with which ports, and who may
see them.

Istio's registry is every Kubernetes Service (host `<name>.<ns>.svc.<domain>`) and every host of
every ServiceEntry. A Service is visible to the namespaces of its `networking.istio.io/exportTo`
annotation (none = all), a ServiceEntry to those of its `spec.exportTo` (`.` = its own
namespace, `*` = all, `~` = none). A route, mirror or DestinationRule names a host from its own
namespace, and, when it sets `exportTo`, from the namespaces it is exported to.

Mirrors istio/istio `pkg/config/analysis/analyzers/util/service_lookup.go`
(`InitServiceEntryHostMap`, `GetDestinationHost`): an exact host first (exported to all, then
to the asking namespaces), then a ServiceEntry wildcard host (`*.eu.example.com`) whose suffix
the host ends with. Short hosts are expanded in the namespace of the resource that writes them
(`ResolveShortnameToFQDN`); `name.namespace` is not expanded, by Istio or here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..resource import Resource
from .hosts import expand_host, service_fqdn

EXPORT_TO_ANNOTATION = "networking.istio.io/exportTo"
ALL = "*"


@dataclass(frozen=True, eq=False)
class Entry:
    """One host of the registry: a Service's, or one host of a ServiceEntry."""

    host: str  # FQDN, or a ServiceEntry wildcard (`*.example.com`)
    resource: Resource
    ports: tuple[int, ...]
    scopes: frozenset[str]  # namespaces that see it; "*" = all
    selector: Mapping[str, str] | None = None  # the pods behind it (Service selector, SE workloadSelector)

    @property
    def is_service(self) -> bool:
        return self.resource.kind == "Service"

    def visible_from(self, namespace: str) -> bool:
        return ALL in self.scopes or namespace in self.scopes


def _scopes(export_to: Iterable[str], own: str) -> frozenset[str]:
    """exportTo values -> the namespaces that see the object (`.` = own, `*` = all, `~` = none)."""
    out = set()
    for value in export_to:
        value = value.strip()
        if value == ".":
            out.add(own)
        elif value and value != "~":
            out.add(value)
    return frozenset(out)


def service_entry(svc: Resource, domain: str) -> Entry:
    ports = tuple(p["port"] for p in svc.spec.get("ports") or ()
                  if isinstance(p, dict) and isinstance(p.get("port"), int))
    annotation = svc.annotations.get(EXPORT_TO_ANNOTATION)
    scopes = _scopes(annotation.split(","), svc.namespace) if isinstance(annotation, str) and annotation.strip() \
        else frozenset({ALL})
    selector = svc.spec.get("selector")
    return Entry(service_fqdn(svc.name, svc.namespace, domain), svc, ports, scopes,
                 selector if isinstance(selector, dict) and selector else None)


def service_entry_hosts(se: Resource, domain: str) -> list[Entry]:
    spec = se.spec
    ports = tuple(p["number"] for p in spec.get("ports") or ()
                  if isinstance(p, dict) and isinstance(p.get("number"), int))
    export_to = [e for e in spec.get("exportTo") or () if isinstance(e, str)]
    scopes = _scopes(export_to, se.namespace) if export_to else frozenset({ALL})
    ws = spec.get("workloadSelector")
    labels = ws.get("labels") if isinstance(ws, dict) else None
    selector = labels if isinstance(labels, dict) and labels else None
    return [Entry(expand_host(h, se.namespace, domain), se, ports, scopes, selector)
            for h in spec.get("hosts") or () if isinstance(h, str) and h]


@dataclass
class Registry:
    """Every host of the input, looked up as Istio's analyzers look them up; cost per lookup is
    the number of labels of the host asked, not the size of the registry."""

    domain: str
    _exact: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    _wild: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))  # "*.a.com" under ".a.com"
    _odd: list[Entry] = field(default_factory=list)  # "*a.com", "*"

    @classmethod
    def build(cls, services: Iterable[Resource], service_entries: Iterable[Resource], domain: str) -> Registry:
        registry = cls(domain)
        for se in service_entries:
            for entry in service_entry_hosts(se, domain):
                registry._add(entry)
        for svc in services:
            registry._add(service_entry(svc, domain))
        return registry

    def _add(self, entry: Entry) -> None:
        host = entry.host
        if not host.startswith("*"):
            self._exact[host].append(entry)
        elif host[1:2] == ".":
            self._wild[host[1:]].append(entry)
        else:
            self._odd.append(entry)

    def named(self, fqdn: str) -> list[Entry]:
        """Every entry of exactly this host, whoever may see it."""
        return self._exact.get(fqdn, [])

    def lookup(self, host: str, namespace: str, export_to: Sequence[str] = ()) -> Entry | None:
        """The entry `host`, written in `namespace` by a resource exported to `export_to`, names
        (GetDestinationHost); None when it names none the namespace may see."""
        fqdn = expand_host(host, namespace, self.domain)
        asking = {namespace} if not export_to else {namespace if e == "." else e for e in export_to}
        exact = self._exact.get(fqdn, ())
        for entry in exact:
            if ALL in entry.scopes:
                return entry
        for entry in exact:
            if entry.scopes & asking:
                return entry
        # wildcard ServiceEntry hosts seen from the namespace itself (as istio's analyzer does)
        bare = fqdn[1:] if fqdn.startswith("*") else fqdn
        candidates: list[Entry] = []
        pos = bare.find(".")
        while pos >= 0:
            candidates += self._wild.get(bare[pos:], ())
            pos = bare.find(".", pos + 1)
        candidates += [e for e in self._odd if bare.endswith(e.host[1:])]
        for entry in candidates:
            if entry.visible_from(namespace):
                return entry
        return None


def is_service_shorthand(host: str) -> bool:
    """`name.namespace` or `name.namespace.svc`: a Service written the way Kubernetes DNS accepts
    it, but Istio only expands names without a dot, so it names no registry host."""
    parts = host.split(".")
    return 2 <= len(parts) <= 3 and all(parts) and (len(parts) == 2 or parts[2] == "svc") and "*" not in host


def cluster_local_parts(fqdn: str, domain: str) -> tuple[str, str] | None:
    """`name.ns.svc.<domain>` -> (name, ns); None for any other host."""
    suffix = f".svc.{domain}"
    if not fqdn.endswith(suffix):
        return None
    parts = fqdn[:-len(suffix)].split(".")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


FOUND, KNOWN, HIDDEN, SHORTHAND, MISSING, NOT_IN_INPUT = "found", "known", "hidden", "shorthand", "missing", \
    "not-in-input"
NAMES_NOTHING = frozenset({HIDDEN, SHORTHAND, MISSING})  # what the input demonstrates


@dataclass(frozen=True)
class Resolution:
    """What a host written in a namespace names. `state` is one of:

    - `found`: an entry the namespace sees (`entry`);
    - `known`: a host the configuration says exists outside the input (`known-hosts`);
    - `hidden`: entries of that host exist, but none is exported to the namespace (`hidden`);
    - `shorthand`: `name.ns` (or `name.ns.svc`) where the input holds Service ns/name (`hidden`);
    - `missing`: a cluster-local host of a namespace the input holds, and no such Service;
    - `not-in-input`: anything else the input does not define (unknown is not no: SPEC §2)."""

    state: str
    fqdn: str
    entry: Entry | None = None
    hidden: tuple[Entry, ...] = ()

    @property
    def names_nothing(self) -> bool:
        """Does the input demonstrate that the host names nothing the namespace sees?"""
        return self.state in NAMES_NOTHING


def resolve(registry: Registry, host: str, namespace: str, export_to: Sequence[str], *,
            is_known: Callable[[str], bool], holds_services_of: Callable[[str], bool]) -> Resolution:
    fqdn = expand_host(host, namespace, registry.domain)
    entry = registry.lookup(host, namespace, export_to)
    if entry is not None:
        return Resolution(FOUND, fqdn, entry)
    if is_known(host) or is_known(fqdn):
        return Resolution(KNOWN, fqdn)
    hidden = registry.named(fqdn)
    if hidden:
        return Resolution(HIDDEN, fqdn, hidden=tuple(hidden))
    if is_service_shorthand(host):
        name, ns = host.split(".")[:2]
        services = [e for e in registry.named(service_fqdn(name, ns, registry.domain)) if e.is_service]
        if services:
            return Resolution(SHORTHAND, fqdn, hidden=tuple(services))
    parts = cluster_local_parts(fqdn, registry.domain)
    if parts is not None and holds_services_of(parts[1]):
        return Resolution(MISSING, fqdn)
    return Resolution(NOT_IN_INPUT, fqdn)
