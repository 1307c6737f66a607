"""Walking a VirtualService: its gateways, routes and destinations.

A VirtualService has three route lists (`http`, `tcp`, `tls`); each route sends to weighted
`route[].destination`s, and an HTTP route may also mirror to `mirror` / `mirrors[]`. Rules
that look at destinations use these generators so that every list is covered the same way.
Shapes are guaranteed by the load-time schema (`load/schema.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..resource import FieldPath, Resource
from .hosts import MESH_GATEWAY, expand_host, service_fqdn

ROUTE_KINDS = ("http", "tcp", "tls")


@dataclass(frozen=True, slots=True)
class Destination:
    """One destination of one route: where it is in the VirtualService and what it says."""

    path: FieldPath  # path of the destination mapping, e.g. ("spec", "http", 0, "route", 1, "destination")
    kind: str  # http, tcp, tls
    route: int  # index of the route in its list
    host: str
    subset: str | None
    weight: int | None
    mirror: bool = False
    port: int | None = None  # destination.port.number


def routes(vs: Resource, kinds: tuple[str, ...] = ROUTE_KINDS) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    """(kind, index, route mapping) for every route of the given kinds."""
    spec = vs.spec
    for kind in kinds:
        for i, route in enumerate(spec.get(kind) or ()):
            if isinstance(route, dict):
                yield kind, i, route


def _port(dest: Mapping[str, Any]) -> int | None:
    port = dest.get("port")
    number = port.get("number") if isinstance(port, dict) else None
    return number if isinstance(number, int) else None


def destinations(vs: Resource, mirrors: bool = True) -> Iterator[Destination]:
    for kind, i, route in routes(vs):
        for j, entry in enumerate(route.get("route") or ()):
            if not isinstance(entry, dict):
                continue
            dest = entry.get("destination")
            if isinstance(dest, dict) and dest.get("host"):
                yield Destination(("spec", kind, i, "route", j, "destination"), kind, i,
                                  dest["host"], dest.get("subset"), entry.get("weight"), port=_port(dest))
        if kind != "http" or not mirrors:
            continue
        mirror = route.get("mirror")
        if isinstance(mirror, dict) and mirror.get("host"):
            yield Destination(("spec", kind, i, "mirror"), kind, i, mirror["host"], mirror.get("subset"),
                              None, mirror=True, port=_port(mirror))
        for j, entry in enumerate(route.get("mirrors") or ()):
            dest = entry.get("destination") if isinstance(entry, dict) else None
            if isinstance(dest, dict) and dest.get("host"):
                yield Destination(("spec", kind, i, "mirrors", j, "destination"), kind, i, dest["host"],
                                  dest.get("subset"), None, mirror=True, port=_port(dest))


def gateways(vs: Resource) -> list[str]:
    """The VirtualService's top-level `gateways:` entries."""
    return [g for g in vs.spec.get("gateways") or () if isinstance(g, str)]


def match_gateways(vs: Resource) -> Iterator[tuple[tuple, str]]:
    """(path, reference) of every `match[].gateways[]` entry of every route."""
    for kind, i, route in routes(vs):
        for m, match in enumerate(route.get("match") or ()):
            if isinstance(match, dict):
                for g, ref in enumerate(match.get("gateways") or ()):
                    if isinstance(ref, str):
                        yield ("spec", kind, i, "match", m, "gateways", g), ref


def exposed_hosts(virtual_services: Iterable[Resource], domain: str) -> set[str]:
    """Destinations of VirtualServices bound to a gateway: where external requests enter."""
    out: set[str] = set()
    for vs in virtual_services:
        if any(g != MESH_GATEWAY for g in gateways(vs)):
            out |= {expand_host(d.host, vs.namespace, domain) for d in destinations(vs)}
    return out


def is_mesh_only(vs: Resource) -> bool:
    """True when the VirtualService applies only to sidecars: no `gateways:` (or only `mesh`)
    and no route that names a gateway in its matches."""
    if any(g != MESH_GATEWAY for g in gateways(vs)):
        return False
    return all(ref == MESH_GATEWAY for _, ref in match_gateways(vs))


# --- Gateway API ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backend:
    """A Service backendRef of a Gateway API route rule."""

    path: FieldPath
    rule: int
    name: str
    namespace: str
    weight: int | None


def rules(route: Resource) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for i, rule in enumerate(route.spec.get("rules") or ()):
        if isinstance(rule, dict):
            yield i, rule


def backends(route: Resource, index: int, rule: Mapping[str, Any]) -> list[Backend]:
    """Service backends of a rule (other kinds, such as ServiceImport, are skipped)."""
    out = []
    for j, ref in enumerate(rule.get("backendRefs") or ()):
        if not isinstance(ref, dict) or not ref.get("name"):
            continue
        if ref.get("group", "") not in ("", "core") or ref.get("kind", "Service") != "Service":
            continue
        out.append(Backend(("spec", "rules", index, "backendRefs", j), index, ref["name"],
                           ref.get("namespace") or route.namespace, ref.get("weight")))
    return out


# --- both: one walker over the routing rules of VirtualServices and Gateway API routes -------


@dataclass(frozen=True, slots=True)
class Target:
    """A weighted destination of a routing rule (mirrors excluded): its FQDN, the subset (never
    for Gateway API), the host or backend name as written, and the weight as written."""

    fqdn: str
    subset: str | None
    shown: str
    weight: int | None

    @property
    def label(self) -> str:
        return f"{self.shown} (subset {self.subset})" if self.subset else self.shown


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One routing rule: an `http`/`tcp`/`tls` route of a VirtualService, or a rule of a Gateway
    API route (`kind` is then the route's kind, e.g. HTTPRoute)."""

    resource: Resource
    kind: str
    index: int
    spec: Mapping[str, Any]
    targets: tuple[Target, ...]

    @property
    def gateway_api(self) -> bool:
        return self.kind not in ROUTE_KINDS

    @property
    def path(self) -> FieldPath:
        return ("spec", "rules", self.index) if self.gateway_api else ("spec", self.kind, self.index)


def route_rules(virtual_services: Iterable[Resource], gateway_api_routes: Iterable[Resource], domain: str,
                kinds: tuple[str, ...] = ROUTE_KINDS) -> Iterator[RouteRule]:
    """Every routing rule with its targets; `kinds` selects the VirtualService route lists (every
    Gateway API rule is walked)."""
    for vs in virtual_services:
        targets: dict[tuple[str, int], list[Target]] = {}
        for d in destinations(vs, mirrors=False):
            targets.setdefault((d.kind, d.route), []).append(
                Target(expand_host(d.host, vs.namespace, domain), d.subset, d.host, d.weight))
        for kind, i, route in routes(vs, kinds):
            yield RouteRule(vs, kind, i, route, tuple(targets.get((kind, i), ())))
    for gateway_api_route in gateway_api_routes:
        for i, rule in rules(gateway_api_route):
            yield RouteRule(gateway_api_route, gateway_api_route.kind, i, rule, tuple(
                Target(service_fqdn(b.name, b.namespace, domain), None, b.name, b.weight)
                for b in backends(gateway_api_route, i, rule)))
