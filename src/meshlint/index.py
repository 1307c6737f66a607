"""The Index: built once from all resources, queried by every rule.

Every cross-resource question a rule asks is a dict lookup here, never a scan of all resources
per resource, so analysis stays linear in the input. Derived views are computed on first use
and cached. Rules never mutate the index.

Each accessor records the kinds it reads (`accessed`), which lets a meta-test prove that a
rule's declared `inputs` are exactly the kinds it uses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Generic, Iterable, Mapping, Sequence, TypeVar

from .mesh import hosts as hostnames
from .resource import Ref, Resource

if TYPE_CHECKING:
    from .load import Problem

T = TypeVar("T")


@dataclass(frozen=True)
class Env:
    """Facts about the environment that the files cannot show (config file, SPEC §4)."""

    root_namespace: str = "istio-system"
    injected_namespaces: frozenset[str] = frozenset()
    known_gateways: frozenset[str] = frozenset()  # "ns/name"
    native_sidecars: bool = False
    istio_version: str = ""
    domain: str = hostnames.DOMAIN


@dataclass(frozen=True, slots=True)
class ServerHost:
    """One host of one server of an Istio Gateway, split into its namespace filter and name."""

    gateway: Resource
    server: int
    index: int  # position in the server's hosts list
    namespace: str  # "*" = any namespace may bind
    host: str


class Index:
    def __init__(self, resources: Iterable[Resource], problems: Sequence["Problem"] = (),
                 env: Env | None = None) -> None:
        self.env = env or Env()
        self.problems: Sequence["Problem"] = problems
        self.accessed: set[str] | None = None  # set by tests to record the kinds read
        self._by_kind: dict[str, list[Resource]] = defaultdict(list)
        self._by_ref: dict[Ref, Resource] = {}
        for r in resources:
            self._by_kind[r.kind].append(r)
            self._by_ref.setdefault(r.ref, r)

    # -- recording -------------------------------------------------------------------------

    def _touch(self, *kinds: str) -> None:
        if self.accessed is not None:
            self.accessed.update(kinds)

    # -- plain lookups ---------------------------------------------------------------------

    def of_kind(self, kind: str) -> list[Resource]:
        self._touch(kind)
        return self._by_kind.get(kind, [])

    def get(self, kind: str, namespace: str, name: str) -> Resource | None:
        self._touch(kind)
        return self._by_ref.get(Ref(kind, namespace, name))

    def has_kind(self, kind: str) -> bool:
        self._touch(kind)
        return bool(self._by_kind.get(kind))

    @cached_property
    def _by_name(self) -> Mapping[tuple[str, str], list[Resource]]:
        out: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        for r in self._by_ref.values():
            out[(r.kind, r.name)].append(r)
        return out

    def named(self, kind: str, name: str) -> list[Resource]:
        """Every resource of `kind` called `name`, in any namespace."""
        self._touch(kind)
        return self._by_name.get((kind, name), [])

    @property
    def resource_count(self) -> int:
        return len(self._by_ref)

    # -- services and hosts ------------------------------------------------------------------

    @cached_property
    def _services_by_host(self) -> Mapping[str, Resource]:
        domain = self.env.domain
        return {f"{s.name}.{s.namespace}.svc.{domain}": s for s in self._by_kind.get("Service", [])}

    def service_for_host(self, fqdn: str) -> Resource | None:
        """The Service whose cluster-local FQDN is `fqdn`."""
        self._touch("Service")
        return self._services_by_host.get(fqdn)

    @cached_property
    def _service_entry_hosts(self) -> "HostTable[Resource]":
        table: HostTable[Resource] = HostTable()
        for se in self._by_kind.get("ServiceEntry", []):
            for h in se.spec.get("hosts") or ():
                table.add(h, se)
        return table

    def service_entries_for(self, host: str) -> list[Resource]:
        """ServiceEntries declaring a host that overlaps `host`."""
        self._touch("ServiceEntry")
        return self._service_entry_hosts.matching(host)

    @cached_property
    def _destination_rules(self) -> "HostTable[Resource]":
        table: HostTable[Resource] = HostTable()
        for dr in self._by_kind.get("DestinationRule", []):
            host = dr.spec.get("host")
            if host:
                table.add(hostnames.expand_host(host, dr.namespace, self.env.domain), dr)
        return table

    def destination_rules_for(self, fqdn: str) -> list[Resource]:
        """DestinationRules whose (expanded) host overlaps `fqdn`."""
        self._touch("DestinationRule")
        return self._destination_rules.matching(fqdn)

    # -- gateways ------------------------------------------------------------------------------

    @cached_property
    def _server_hosts(self) -> "HostTable[ServerHost]":
        table: HostTable[ServerHost] = HostTable()
        for gw in self._by_kind.get("Gateway", []):
            for s, server in enumerate(gw.spec.get("servers") or ()):
                for i, raw in enumerate(server.get("hosts") or ()):
                    ns, name = hostnames.split_server_host(raw, gw.namespace)
                    table.add(name, ServerHost(gw, s, i, ns, name))
        return table

    def gateway_hosts_matching(self, host: str, namespace: str) -> list[ServerHost]:
        """Gateway server hosts that a VirtualService in `namespace` with `host` would bind."""
        self._touch("Gateway")
        return [e for e in self._server_hosts.matching(host) if e.namespace in ("*", namespace)]


class HostTable(Generic[T]):
    """Values keyed by (possibly wildcard) host names, looked up with Istio's overlap rule
    (`mesh.hosts.matches`) in time proportional to the number of labels of the name asked,
    not to the size of the table."""

    def __init__(self) -> None:
        self._exact: dict[str, list[T]] = defaultdict(list)
        self._suffix: dict[str, list[tuple[str, T]]] = defaultdict(list)  # "*.a.com" under ".a.com"
        self._odd: list[tuple[str, T]] = []  # "*foo.com": wildcard not at a label boundary

    def add(self, host: str, value: T) -> None:
        if not host.startswith("*"):
            self._exact[host].append(value)
        elif host == "*" or host[1] == ".":
            self._suffix[host[1:]].append((host, value))
        else:
            self._odd.append((host, value))

    def matching(self, host: str) -> list[T]:
        if host.startswith("*"):  # rare: a wildcard query overlaps anything under it
            everything = [(h, v) for h, vs in self._exact.items() for v in vs]
            everything += [hv for hvs in self._suffix.values() for hv in hvs] + self._odd
            return [v for h, v in everything if hostnames.matches(h, host)]
        found = list(self._exact.get(host, ()))
        # every suffix of host starting at a dot, and "" (the bare "*")
        pos = host.find(".")
        while pos >= 0:
            found += [v for _, v in self._suffix.get(host[pos:], ())]
            pos = host.find(".", pos + 1)
        found += [v for _, v in self._suffix.get("", ())]
        found += [v for h, v in self._odd if hostnames.matches(h, host)]
        return found
