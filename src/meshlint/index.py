"""The Index: built once from all resources, queried by every rule.

Every cross-resource question a rule asks is a dict lookup here, never a scan of all resources
per resource, so analysis stays linear in the input. Derived views are computed on first use
and cached. Rules never mutate the index.

Each accessor records the kinds it reads (`accessed`), which lets a meta-test prove that a
rule's declared `inputs` are exactly the kinds it uses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .config import Facts
from .mesh import hosts as hostnames
from .mesh import routes
from .mesh.injection import Sidecar, UnlistedNamespaces, sidecar, webhook_decision
from .mesh.meshconfig import MeshSettings, settings
from .mesh.namespaces import MESH_CONFIG_KINDS, meshed_by_configuration
from .mesh.peerauth import PeerAuthentications
from .mesh.registry import Registry, Resolution, resolve
from .mesh.trafficpolicy import HostPolicies, summarise
from .mesh.workloads import WORKLOAD_KINDS, Workload, is_gateway, is_owned_by_input, pod_template, top_owner
from .resource import GATEWAY_API_ROUTES, MeshConfigFile, Ref, Resource

if TYPE_CHECKING:
    from .load import Problem
    from .mesh.callgraph import ExplicitEdge, Graph, ObservedEdge
    from .mesh.mentions import Mention

T = TypeVar("T")

# the kinds the injection decision reads (`Index.sidecar`): namespaces, the installation, and the
# Istio configuration that marks a namespace not in the input as meshed
SIDECAR_INPUTS = ("Namespace", "ConfigMap", "IstioOperator", *MESH_CONFIG_KINDS)


@dataclass(frozen=True, slots=True)
class ServerHost:
    """One host of one server of an Istio Gateway, split into its namespace filter and name."""

    gateway: Resource
    server: int
    index: int  # position in the server's hosts list
    namespace: str  # "*" = any namespace may bind
    host: str


class Index:
    """Everything that was read (resources, input problems, the `--mesh-config` file, the
    `--call-graph` edges, the calls telemetry saw) and the facts the user stated about the
    environment."""

    def __init__(self, resources: Iterable[Resource], problems: Sequence[Problem] = (),
                 facts: Facts | None = None, mesh_config: MeshConfigFile | None = None,
                 call_edges: Sequence[ExplicitEdge] = (), observed_edges: Sequence[ObservedEdge] = ()) -> None:
        self.facts = facts or Facts()
        self.problems: Sequence[Problem] = problems
        self.call_edges: Sequence[ExplicitEdge] = call_edges
        self.observed_edges: Sequence[ObservedEdge] = observed_edges
        self._mesh_config_file = mesh_config
        self.accessed: set[str] | None = None  # set by tests to record the kinds read
        self._by_kind: dict[str, list[Resource]] = defaultdict(list)
        self._by_ref: dict[Ref, Resource] = {}
        self._host_policies: dict[str, HostPolicies] = {}
        self._workloads_of_service: dict[Ref, list[Workload]] = {}
        self._matching: dict[tuple[tuple[str, str], ...], list[Workload]] = {}
        self._rules_of_hosts: dict[tuple[str, ...], tuple[Ref, ...]] = {}
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

    def annotated(self, key: str) -> list[Resource]:
        """Every resource, of any kind, that carries annotation `key` (suppressions). Reading
        every kind alike, it records none: a rule that uses it declares no inputs."""
        return [r for r in self._by_ref.values() if key in r.annotations]

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

    # -- services and hosts ------------------------------------------------------------------

    @cached_property
    def _services_by_host(self) -> Mapping[str, Resource]:
        domain = self.facts.domain
        return {hostnames.service_fqdn(s.name, s.namespace, domain): s for s in self._by_kind.get("Service", [])}

    def service_for_host(self, fqdn: str) -> Resource | None:
        """The Service whose cluster-local FQDN is `fqdn`."""
        self._touch("Service")
        return self._services_by_host.get(fqdn)

    @cached_property
    def _service_entry_hosts(self) -> HostTable[Resource]:
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
    def _destination_rules(self) -> HostTable[Resource]:
        table: HostTable[Resource] = HostTable()
        for dr in self._by_kind.get("DestinationRule", []):
            host = dr.spec.get("host")
            if host:
                table.add(hostnames.expand_host(host, dr.namespace, self.facts.domain), dr)
        return table

    def destination_rules_for(self, fqdn: str) -> list[Resource]:
        """DestinationRules whose (expanded) host overlaps `fqdn`."""
        self._touch("DestinationRule")
        return self._destination_rules.matching(fqdn)

    # -- the service registry ------------------------------------------------------------------

    @cached_property
    def _registry(self) -> Registry:
        return Registry.build(self._by_kind.get("Service", ()), self._by_kind.get("ServiceEntry", ()),
                              self.facts.domain)

    def registry(self) -> Registry:
        """Every Service and ServiceEntry host, with its ports and the namespaces that see it."""
        self._touch("Service", "ServiceEntry")
        return self._registry

    @cached_property
    def _service_namespaces(self) -> frozenset[str]:
        return frozenset(s.namespace for s in self._by_kind.get("Service", ()))

    def services_in(self, namespace: str) -> bool:
        """Does the input hold any Service of `namespace`? (When not, a Service said to be there
        is "not in the input", not missing.)"""
        self._touch("Service")
        return namespace in self._service_namespaces

    @cached_property
    def _resolutions(self) -> dict[tuple[str, str, tuple[str, ...]], Resolution]:
        return {}

    def resolve_host(self, host: str, namespace: str, export_to: tuple[str, ...] = ()) -> Resolution:
        """What a host written in `namespace` (by a resource exported to `export_to`) names: a
        registry entry, a known host, or nothing, and whether the input demonstrates that
        (`mesh.registry.resolve`: a missing Service only where the input holds Services of its
        namespace)."""
        self._touch("Service", "ServiceEntry")
        key = (host, namespace, export_to)
        found = self._resolutions.get(key)
        if found is None:
            found = self._resolutions[key] = resolve(
                self._registry, host, namespace, export_to, is_known=self.facts.is_known_host,
                holds_services_of=self._service_namespaces.__contains__)
        return found

    @cached_property
    def _void_destination_rules(self) -> dict[int, bool]:
        return {}

    def destination_rule_names_nothing(self, dr: Resource) -> bool:
        """Does the input demonstrate that the DestinationRule's host names nothing it can see
        (so none of its policies protects anything)? Wildcard hosts never do."""
        self._touch("Service", "ServiceEntry")
        void = self._void_destination_rules.get(id(dr))
        if void is None:
            host = dr.spec.get("host")
            void = False
            if isinstance(host, str) and host and not host.startswith("*"):
                export_to = tuple(e for e in dr.spec.get("exportTo") or () if isinstance(e, str))
                void = self.resolve_host(host, dr.namespace, export_to).names_nothing
            self._void_destination_rules[id(dr)] = void
        return void

    @cached_property
    def _live_destination_rules(self) -> dict[str, list[Resource]]:
        return {}

    def destination_rules_naming_something(self, fqdn: str) -> list[Resource]:
        """The DestinationRules for `fqdn` whose host names something they can see, in input
        order: the ones a fix may change. Worked out once per host, however many routes ask."""
        self._touch("DestinationRule", "Service", "ServiceEntry")
        found = self._live_destination_rules.get(fqdn)
        if found is None:
            found = self._live_destination_rules[fqdn] = [
                dr for dr in self.destination_rules_for(fqdn) if not self.destination_rule_names_nothing(dr)]
        return found

    def destination_policies(self, fqdn: str) -> HostPolicies:
        """What the DestinationRules for `fqdn` set (`mesh.trafficpolicy`; a rule whose host
        names nothing protects nothing), read once per host however many routes go there."""
        self._touch("DestinationRule", "Service", "ServiceEntry")
        found = self._host_policies.get(fqdn)
        if found is None:
            found = self._host_policies[fqdn] = summarise(self._destination_rules.matching(fqdn),
                                                          self.destination_rule_names_nothing)
        return found

    def destination_rules_of(self, fqdns: Iterable[str]) -> tuple[Ref, ...]:
        """The DestinationRules for any of `fqdns`, each once: what a finding on routes to them
        refers to. Worked out once for each set of hosts, however many routes share it."""
        self._touch("DestinationRule")
        key = tuple(dict.fromkeys(fqdns))
        found = self._rules_of_hosts.get(key)
        if found is None:
            refs = (dr.ref for fqdn in key for dr in self._destination_rules.matching(fqdn))
            found = self._rules_of_hosts[key] = tuple(dict.fromkeys(refs))
        return found

    # -- gateways ------------------------------------------------------------------------------

    @cached_property
    def _server_hosts(self) -> HostTable[ServerHost]:
        table: HostTable[ServerHost] = HostTable()
        for gw in self._by_kind.get("Gateway", []):
            for s, server in enumerate(gw.spec.get("servers") or ()):
                if not hostnames.routes_virtual_services(server):
                    continue
                for i, raw in enumerate(server.get("hosts") or ()):
                    ns, name = hostnames.split_server_host(raw, gw.namespace)
                    table.add(name, ServerHost(gw, s, i, ns, name))
        return table

    def gateway_hosts_matching(self, host: str, namespace: str) -> list[ServerHost]:
        """Gateway server hosts that a VirtualService in `namespace` with `host` would bind, on
        the servers that route by VirtualServices."""
        self._touch("Gateway")
        return [e for e in self._server_hosts.matching(host) if e.namespace in ("*", namespace)]


    # -- Gateway API ---------------------------------------------------------------------------

    @cached_property
    def _reference_grants(self) -> Mapping[str, list[Mapping[str, Any]]]:
        out: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for grant in self._by_kind.get("ReferenceGrant", ()):
            out[grant.namespace].append(grant.spec)
        return out

    def reference_grants(self, namespace: str) -> list[Mapping[str, Any]]:
        """The specs of the ReferenceGrants of `namespace` (they permit references into it)."""
        self._touch("ReferenceGrant")
        return self._reference_grants.get(namespace, [])

    # -- routing rules -------------------------------------------------------------------------

    @cached_property
    def _route_rules(self) -> list[routes.RouteRule]:
        gateway_api = [r for kind in GATEWAY_API_ROUTES for r in self._by_kind.get(kind, ())]
        return list(routes.route_rules(self._by_kind.get("VirtualService", ()), gateway_api, self.facts.domain))

    def route_rules(self, kinds: tuple[str, ...] = routes.ROUTE_KINDS) -> Iterator[routes.RouteRule]:
        """Every routing rule of VirtualServices (route lists `kinds`) and Gateway API routes."""
        self._touch("VirtualService", *GATEWAY_API_ROUTES)
        return (rule for rule in self._route_rules if rule.gateway_api or rule.kind in kinds)

    # -- workloads, injection, mTLS ---------------------------------------------------------

    @cached_property
    def _workloads(self) -> list[Workload]:
        present = {(r.kind_name or r.kind, r.namespace, r.name) for kind in WORKLOAD_KINDS
                   for r in self._by_kind.get(kind, ())}
        out = []
        for kind in WORKLOAD_KINDS:
            for r in self._by_kind.get(kind, ()):
                if is_owned_by_input(r, present):
                    continue  # the ReplicaSet of a Deployment, the Pods of a ReplicaSet
                w = pod_template(r)
                if w is not None:
                    out.append(w)
        return out

    def workloads(self) -> list[Workload]:
        """Pod templates of every workload (owned objects skipped), and bare Pods."""
        self._touch(*WORKLOAD_KINDS)
        return self._workloads

    @cached_property
    def _workload_labels(self) -> Mapping[tuple[str, str, str], list[Workload]]:
        out: dict[tuple[str, str, str], list[Workload]] = defaultdict(list)
        for w in self._workloads:
            for k, v in w.labels.items():
                out[(w.namespace, k, v)].append(w)
        return out

    def workloads_selected(self, namespace: str, selector: Mapping[str, str]) -> list[Workload]:
        """Workloads in `namespace` whose pod labels match an equality selector (a Service's);
        an empty selector selects nothing. Cost: the smallest candidate set, not all pods."""
        self._touch(*WORKLOAD_KINDS)
        if not selector:
            return []
        candidates = [self._workload_labels.get((namespace, k, v), []) for k, v in selector.items()]
        smallest = min(candidates, key=len)
        return [w for w in smallest if all(w.labels.get(k) == v for k, v in selector.items())]

    @cached_property
    def _workloads_by_namespace(self) -> Mapping[str, list[Workload]]:
        out: dict[str, list[Workload]] = defaultdict(list)
        for w in self._workloads:
            out[w.namespace].append(w)
        return out

    def workloads_in(self, namespace: str) -> list[Workload]:
        """The workloads of `namespace` in the input (none: the input does not hold them, which
        is not to say the namespace has none)."""
        self._touch(*WORKLOAD_KINDS)
        return self._workloads_by_namespace.get(namespace, [])

    @cached_property
    def _workload_labels_any(self) -> Mapping[tuple[str, str], list[Workload]]:
        out: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        for w in self._workloads:
            for k, v in w.labels.items():
                out[(k, v)].append(w)
        return out

    def workloads_matching(self, selector: Mapping[str, str]) -> list[Workload]:
        """Workloads in any namespace whose labels match (an Istio Gateway's `selector`). Worked
        out once per selector: every ingress Gateway may select the same pods."""
        self._touch(*WORKLOAD_KINDS)
        if not selector:
            return []
        key = tuple(sorted(selector.items()))
        found = self._matching.get(key)
        if found is None:
            candidates = [self._workload_labels_any.get((k, v), []) for k, v in selector.items()]
            smallest = min(candidates, key=len)
            found = self._matching[key] = [w for w in smallest if all(w.labels.get(k) == v for k, v in key)]
        return found

    @cached_property
    def _gateway_workloads_by_key(self) -> Mapping[str, list[Workload]]:
        out: dict[str, list[Workload]] = defaultdict(list)
        for w in self._workloads:
            if is_gateway(w):
                for k in w.labels:
                    out[k].append(w)
        return out

    def gateway_workloads_labelled(self, keys: Iterable[str]) -> list[Workload]:
        """Istio gateway workloads (`mesh.workloads.is_gateway`) that carry a label for each of
        `keys`, whatever its value: the gateways an Istio Gateway's selector could have meant."""
        self._touch(*WORKLOAD_KINDS)
        keys = list(keys)
        if not keys:
            return []
        smallest = min((self._gateway_workloads_by_key.get(k, []) for k in keys), key=len)
        return [w for w in smallest if all(k in w.labels for k in keys)]

    @cached_property
    def _services_of_workload(self) -> Mapping[int, list[Resource]]:
        out: dict[int, list[Resource]] = defaultdict(list)
        for svc in self._by_kind.get("Service", ()):
            selector = svc.spec.get("selector")
            if isinstance(selector, dict):
                for w in self.workloads_selected(svc.namespace, selector):
                    out[id(w)].append(svc)
        return out

    def services_of(self, w: Workload) -> list[Resource]:
        """Services whose selector picks the workload's pods."""
        self._touch("Service", *WORKLOAD_KINDS)
        return self._services_of_workload.get(id(w), [])

    def workloads_of(self, service: Resource) -> list[Workload]:
        """Workloads a Service selects (worked out once per Service: its callers ask again)."""
        self._touch("Service", *WORKLOAD_KINDS)
        found = self._workloads_of_service.get(service.ref)
        if found is None:
            selector = service.spec.get("selector")
            found = self._workloads_of_service[service.ref] = \
                self.workloads_selected(service.namespace, selector) if isinstance(selector, dict) else []
        return found

    @cached_property
    def _mesh(self) -> MeshSettings:
        return settings(self._by_kind.get("ConfigMap", ()), self._by_kind.get("IstioOperator", ()),
                        self.facts.root_namespace, self._mesh_config_file)

    def mesh(self) -> MeshSettings:
        """Installation settings: MeshConfig, Helm values, injector config, revisions (from the
        input's ConfigMaps and IstioOperators, and the `--mesh-config` file)."""
        self._touch("ConfigMap", "IstioOperator")
        return self._mesh

    @cached_property
    def _sidecars(self) -> dict[int, Sidecar]:
        return {}

    @cached_property
    def _unlisted_namespaces(self) -> UnlistedNamespaces:
        facts = self.facts
        return UnlistedNamespaces(facts.injected_namespaces, facts.uninjected_namespaces,
                                  meshed_by_configuration(self._by_kind, facts.root_namespace, facts.domain))

    def sidecar(self, w: Workload) -> Sidecar:
        """Does the workload get a mesh proxy (Istio's injection decision, or Linkerd's)? For a
        workload read from the cluster, its running Pods settle it. For a namespace whose
        Namespace object is not in the input, the configuration settles it, or else the Istio
        configuration of the input that targets it (SPEC §2); a decision that rests on that
        assumption carries it."""
        self._touch(*SIDECAR_INPUTS, *WORKLOAD_KINDS)
        found = self._sidecars.get(id(w))
        if found is None:
            ns = self._by_ref.get(Ref("Namespace", "", w.namespace))
            found = sidecar(w, ns, self._unlisted_namespaces, self._mesh, self._live_pods.get(id(w.resource), ()))
            self._sidecars[id(w)] = found
        return found

    @cached_property
    def _pod_owners(self) -> dict[int, Resource]:
        """Pod (by id) -> the workload of the input that runs it, through ReplicaSets and Jobs
        (`mesh.workloads.top_owner`); a Pod that no workload of the input owns is its own."""
        present = {(r.kind_name or r.kind, r.namespace, r.name): r for kind in WORKLOAD_KINDS
                   for r in self._by_kind.get(kind, ())}
        return {id(pod): top_owner(pod, present) for pod in self._by_kind.get("Pod", ())}

    def owner(self, pod: Resource) -> Resource:
        """The workload of the input that runs a Pod (a Deployment, through its ReplicaSet), or
        the Pod itself when none does."""
        self._touch(*WORKLOAD_KINDS)
        return self._pod_owners.get(id(pod), pod)

    @cached_property
    def _live_pods(self) -> Mapping[int, list[Resource]]:
        out: dict[int, list[Resource]] = defaultdict(list)
        for pod in self._by_kind.get("Pod", ()):
            owner = self._pod_owners[id(pod)]
            # pods settle only what they run: a workload of a file (one that overlays the
            # cluster's, say) is not what the cluster's pods were created from
            if owner is not pod and pod.cluster and owner.cluster:
                out[id(owner)].append(pod)
        return out

    def live_pods(self, w: Workload) -> list[Resource]:
        """The running Pods of a workload read from the cluster (none for a workload of a
        file: they were not created from it)."""
        self._touch(*WORKLOAD_KINDS)
        return self._live_pods.get(id(w.resource), [])

    @cached_property
    def _injections(self) -> dict[int, Sidecar]:
        return {}

    def injection(self, w: Workload) -> Sidecar:
        """Would Istio's injector inject the workload's pods (`mesh.injection.webhook_decision`),
        whatever proxy container the pod spec lists itself? Unknown namespaces are settled as
        for `sidecar`, and the decision carries the assumption it rests on."""
        self._touch(*SIDECAR_INPUTS)
        found = self._injections.get(id(w))
        if found is None:
            ns = self._by_ref.get(Ref("Namespace", "", w.namespace))
            found = webhook_decision(w, ns, self._unlisted_namespaces, self._mesh)
            self._injections[id(w)] = found
        return found

    def assumptions(self) -> list[str]:
        """The assumptions the injection decisions made so far rest on, each once."""
        decisions = [*self._sidecars.values(), *self._injections.values()]
        return list(dict.fromkeys(sc.assumption for sc in decisions if sc.assumption))

    @cached_property
    def _namespaces(self) -> frozenset[str]:
        return frozenset(r.namespace for r in self._by_ref.values() if r.namespace) | frozenset(
            r.name for r in self._by_kind.get("Namespace", ()))

    def holds_namespace(self, namespace: str) -> bool:
        """Is anything of namespace `namespace` (or its Namespace object) in the input? When
        not, an object said to be there is "not in the input", not "missing"."""
        return namespace in self._namespaces

    @cached_property
    def _peer_authentications(self) -> PeerAuthentications:
        return PeerAuthentications(self._by_kind.get("PeerAuthentication", ()), self.facts.root_namespace)

    def peer_authentications(self) -> PeerAuthentications:
        self._touch("PeerAuthentication")
        return self._peer_authentications

    def calls(self, w: Workload) -> list[tuple[Resource, Mention]]:
        """Services the workload names in its env values and args (first mention of each)."""
        from .mesh.mentions import mentions

        self._touch("Service")
        seen: dict[str, tuple[Resource, Mention]] = {}
        for m in mentions(w, self.facts.domain):
            if m.fqdn in seen:
                continue
            svc = self._services_by_host.get(m.fqdn)
            if svc is not None:
                seen[m.fqdn] = (svc, m)
        return list(seen.values())


    # -- the call graph ---------------------------------------------------------------------------

    @cached_property
    def _call_graph(self) -> Graph:
        from .mesh.callgraph_builder import build

        return build(self, self.facts.domain, self.call_edges, self.facts.default_namespace, self.facts.is_known_host,
                     self.observed_edges)

    def call_graph(self) -> Graph:
        """Services and who calls whom (env values, --call-graph, --prometheus), with the tries per hop."""
        self._touch("Service", "ServiceEntry", *SIDECAR_INPUTS, *WORKLOAD_KINDS)
        return self._call_graph


class HostTable(Generic[T]):
    """Values keyed by (possibly wildcard) host names, looked up with Istio's overlap rule
    (`mesh.hosts.matches`) in time proportional to the number of labels of the name asked,
    not to the size of the table."""

    def __init__(self) -> None:
        self._exact: dict[str, list[T]] = defaultdict(list)
        self._suffix: dict[str, list[tuple[str, T]]] = defaultdict(list)  # "*.a.com" under ".a.com"
        self._odd: list[tuple[str, T]] = []  # "*foo.com": wildcard not at a label boundary
        self._cache: dict[str, list[T]] = {}

    def add(self, host: str, value: T) -> None:
        self._cache.clear()
        if not host.startswith("*"):
            self._exact[host].append(value)
        elif host == "*" or host[1] == ".":
            self._suffix[host[1:]].append((host, value))
        else:
            self._odd.append((host, value))

    def matching(self, host: str) -> list[T]:
        found = self._cache.get(host)
        if found is None:
            found = self._cache[host] = self._matching(host)
        return found

    def _matching(self, host: str) -> list[T]:
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
