"""Edit builders that several rules share: they say what changes, never how the text changes
(the `fix` engine does that). Each returns the edits, or why there are none."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..finding import Applicability, Edit, Fix, FixKind, some_of
from ..mesh.hosts import DOMAIN
from ..resource import Ref, Resource

if TYPE_CHECKING:
    from ..index import Index
    from ..mesh.workloads import Workload

# SPEC §5 Fixes: what ML303/ML304 add to a DestinationRule
OUTLIER_DETECTION = {"consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s"}
ISTIO_NETWORKING = "networking.istio.io/v1beta1"  # served by every Istio release meshlint knows
ISTIO_SECURITY = "security.istio.io/v1beta1"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# What the shared fixes do, for the doc pages of the rules that use them (`Rule.fixes`)
OUTLIER_DETECTION_FIXES = (
    FixKind(Applicability.SAFE, "Add `outlierDetection` (consecutive5xxErrors 5, interval 10s, baseEjectionTime "
            "30s) to the host's DestinationRule, creating its `trafficPolicy` when missing."),
    FixKind(Applicability.UNSAFE, "Create a DestinationRule with that `outlierDetection` when the input has none "
            "for the host (one may exist elsewhere, and Istio applies only one)."),
)
PERMISSIVE_PORTS_FIX = FixKind(
    Applicability.UNSAFE, "Accept plaintext on the affected ports: a PERMISSIVE `portLevelMtls` in the "
    "workload's PeerAuthentication, or a new PeerAuthentication selecting its pods.")
BIND_GATEWAY_FIX = FixKind(
    Applicability.UNSAFE, "Point the `gateways` entry at the `ns/name` of the one Gateway of the input that "
    "serves the host (none when several do: which is meant is a choice).")


class NoFix(Exception):
    """Why no automatic fix fits (the finding's `unfixable`)."""


def pod_annotation(w: Workload, key: str, value: str) -> Edit:
    """Set an annotation on a pod template (creating `annotations`, and `metadata`, if missing)."""
    return Edit((*w.metadata_path, "annotations", key), value, target=w.resource.ref)


def pod_annotation_within(w: Workload, key: str, within: tuple[str, ...], value: Any) -> Edit:
    """Set a field inside the YAML an annotation of a pod template holds (`proxy.istio.io/config`),
    creating the annotation if missing."""
    return Edit((*w.metadata_path, "annotations", key), value, target=w.resource.ref, within=within)


def pod_label(w: Workload, key: str, value: str) -> Edit:
    return Edit((*w.metadata_path, "labels", key), value, target=w.resource.ref)


def resource_name(text: str) -> str:
    """A DNS label from a host or a workload name: `api.example.com` -> `api-example-com`."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].rstrip("-")
    return name if _DNS_LABEL.match(name) else ""


def outlier_detection(index: Index, route: Resource, hosts: Iterable[tuple[str, str | None]]) -> Fix:
    """SPEC §5 ML303/ML304: `trafficPolicy.outlierDetection` on the DestinationRule of each
    host (FQDN, and the subset the route sends to): safe. A host with no DestinationRule in
    the input gets a new one beside the route: unsafe, since one may exist elsewhere (Istio
    then applies only one of them). Raises NoFix."""
    edits: list[Edit] = []
    created: list[str] = []
    for fqdn, subsets in _by_host(hosts).items():
        usable = index.destination_rules_naming_something(fqdn)
        if usable:
            edits.append(Edit(("spec", "trafficPolicy", "outlierDetection"), dict(OUTLIER_DETECTION),
                              target=usable[0].ref))
            continue
        found = index.destination_rules_for(fqdn)
        if found:
            raise NoFix(f"DestinationRule {found[0].namespace}/{found[0].name} for {fqdn} names nothing: fix its "
                        "host first")
        if subsets:
            raise NoFix(f"the route uses subsets {', '.join(sorted(subsets))} of {fqdn}, and no DestinationRule in "
                        "the input defines them: add outlierDetection where they are defined")
        if index.service_for_host(fqdn) is None and not index.service_entries_for(fqdn):
            raise NoFix(f"neither a DestinationRule nor a Service for {fqdn} is in the input: add outlierDetection "
                        "to its DestinationRule where it is defined")
        dr = _new_destination_rule(index, route, fqdn)
        edits.append(Edit((), dr, target=Ref("DestinationRule", dr["metadata"]["namespace"], dr["metadata"]["name"])))
        created.append(f"{dr['metadata']['namespace']}/{dr['metadata']['name']}")
    if created:
        return Fix(tuple(edits), Applicability.UNSAFE,
                   f"creates DestinationRule {', '.join(created)} with outlierDetection: check that no "
                   "DestinationRule for the host exists outside the input (Istio would apply only one)")
    return Fix(tuple(edits), Applicability.SAFE, "adds outlierDetection to the DestinationRule")


def _by_host(hosts: Iterable[tuple[str, str | None]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for fqdn, subset in hosts:
        out.setdefault(fqdn, set())
        if subset:
            out[fqdn].add(subset)
    return out


def _new_destination_rule(index: Index, route: Resource, fqdn: str) -> dict[str, Any]:
    """A DestinationRule with outlier detection for `fqdn`: in the Service's namespace, named
    after it, for a cluster Service; in the route's namespace, named after the host, for any
    other host."""
    domain = index.facts.domain or DOMAIN
    suffix = f".svc.{domain}"
    parts = fqdn[:-len(suffix)].split(".") if fqdn.endswith(suffix) else []
    if len(parts) == 2:
        name, namespace, host = parts[0], parts[1], parts[0]
    else:
        name, namespace, host = resource_name(fqdn), route.namespace, fqdn
    if not name or index.get("DestinationRule", namespace, name) is not None:
        raise NoFix(f"no DestinationRule for {fqdn} is in the input, and the name {namespace}/{name} for a new one "
                    "is taken")
    api_version = route.api_version if route.api_version.startswith("networking.istio.io/") else ISTIO_NETWORKING
    return {"apiVersion": api_version, "kind": "DestinationRule",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"host": host, "trafficPolicy": {"outlierDetection": dict(OUTLIER_DETECTION)}}}


def permissive_ports(index: Index, w: Workload, ports: Iterable[int], workload_policy: Resource | None) -> Fix:
    """SPEC §5 ML201/ML202: a PERMISSIVE `portLevelMtls` for workload ports (portLevelMtls
    applies only in a PeerAuthentication with a selector): added to the workload's own
    PeerAuthentication, or a new one selecting its pods. Unsafe: plaintext is accepted on
    those ports. Raises NoFix."""
    ports = sorted(set(ports))
    if not ports:
        raise NoFix("the port cannot be known")
    permissive = {"mode": "PERMISSIVE"}
    shown = ", ".join(map(str, ports))
    if workload_policy is not None:
        existing = workload_policy.spec.get("portLevelMtls")
        if isinstance(existing, dict):
            edits = tuple(Edit(("spec", "portLevelMtls", port), dict(permissive), target=workload_policy.ref)
                          for port in ports)
        else:
            edits = (Edit(("spec", "portLevelMtls"), {port: dict(permissive) for port in ports},
                          target=workload_policy.ref),)
        policy_name = f"{workload_policy.namespace}/{workload_policy.name}"
        return Fix(edits, Applicability.UNSAFE,
                   f"accepts plaintext on port {shown} of {w.display()} (PeerAuthentication {policy_name})")
    labels = {k: v for k, v in w.labels.items() if isinstance(k, str) and isinstance(v, str)}
    if not labels:
        raise NoFix(f"the pods of {w.display()} have no labels for a PeerAuthentication to select")
    name = resource_name(f"{w.name}-permissive-{'-'.join(map(str, ports))}")
    if not name or index.get("PeerAuthentication", w.namespace, name) is not None:
        raise NoFix(f"the name {w.namespace}/{name} for a new PeerAuthentication is taken")
    policy = {"apiVersion": ISTIO_SECURITY, "kind": "PeerAuthentication",
              "metadata": {"name": name, "namespace": w.namespace},
              "spec": {"selector": {"matchLabels": labels}, "mtls": {"mode": "UNSET"},
                       "portLevelMtls": {port: dict(permissive) for port in ports}}}
    return Fix((Edit((), policy, target=Ref("PeerAuthentication", w.namespace, name)),), Applicability.UNSAFE,
               f"creates PeerAuthentication {w.namespace}/{name}: accepts plaintext on port {shown} of {w.display()}")


def quantity(text: Any) -> float | None:
    """A Kubernetes quantity (`100m`, `0.5`, `128Mi`, `1G`) as a number, or None."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*(m|k|M|G|T|Ki|Mi|Gi|Ti)?\s*", str(text))
    if match is None:
        return None
    try:
        number = float(match.group(1))
    except ValueError:
        return None
    scale: Mapping[str, float] = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
                                  "Ki": 2.0 ** 10, "Mi": 2.0 ** 20, "Gi": 2.0 ** 30, "Ti": 2.0 ** 40}
    return number * scale.get(match.group(2) or "", 1.0)


def bind_gateway(index: Index, vs: Resource, position: int,
                 serving_of: dict[tuple, list[str]] | None = None) -> Fix:
    """SPEC §5 ML102/ML103: point `spec.gateways[position]` at the one Gateway of the input
    that serves one of the VirtualService's hosts (as `ns/name`); when the VirtualService
    already names it, drop the entry. Unsafe: the routes then apply to that gateway's traffic.
    `serving_of`: the Gateways found so far per hosts and namespace (many VirtualServices may
    name the same hosts). Raises NoFix."""
    from ..mesh.hosts import expand_host, resolve_gateway

    hosts = tuple(h for h in vs.spec.get("hosts") or () if isinstance(h, str))
    memo = serving_of if serving_of is not None else {}
    serving = memo.get((hosts, vs.namespace))
    if serving is None:
        serving = memo[(hosts, vs.namespace)] = sorted({
            f"{e.gateway.namespace}/{e.gateway.name}" for h in hosts
            for e in index.gateway_hosts_matching(expand_host(h, vs.namespace, index.facts.domain), vs.namespace)})
    if not serving:
        raise NoFix(f"no Gateway in the input serves {', '.join(hosts) or 'its hosts'} for namespace {vs.namespace}")
    if len(serving) > 1:
        raise NoFix(f"Gateways {some_of(serving)} all serve its hosts: which one is meant is a choice")
    target = serving[0]
    named = [f"{ns}/{name}" for j, ref in enumerate(vs.spec.get("gateways") or ()) if j != position
             and isinstance(ref, str) for ns, name in [resolve_gateway(ref, vs.namespace)]]
    if target in named:
        return Fix((Edit(("spec", "gateways", position), remove=True),), Applicability.UNSAFE,
                   f"drops the entry: the VirtualService is bound to {target}, which serves its hosts, already")
    return Fix((Edit(("spec", "gateways", position), target),), Applicability.UNSAFE,
               f"binds to {target}, the one Gateway of the input that serves its hosts: its traffic then "
               "follows these routes")
