"""Gateway API: does a route's parentRef attach to a Gateway, and may it reference a backend?

Mirrors istio/istio `pilot/pkg/config/kube/gateway/conversion.go`, which follows the Gateway
API spec (sigs.k8s.io/gateway-api `apis/v1/shared_types.go` ParentReference,
`apis/v1/httproute_types.go` hostnames, `apis/v1/gateway_types.go` Listener and
AllowedRoutes, `apis/v1beta1/referencegrant_types.go`):

- `referenceAllowed`, per listener of the parent Gateway, in this order: a parentRef `port`
  or `sectionName` that is not the listener's means NoMatchingParent; then the route's
  hostnames (none = `*`) must match the listener's hostname (none = `*`; `host.Name.Matches`,
  a wildcard overlaps any name under it, in both directions) from a namespace the listener
  admits: a hostname match from a namespace it does not admit is NotAllowedByListeners, no
  hostname match is NoMatchingListenerHostname; last, the route's kind must be one the
  listener supports (NotAllowedByListeners). TCPRoute and UDPRoute have no hostnames.
- `namespacesFromSelector`: `allowedRoutes.namespaces.from` is `Same` by default, `All`, or
  `Selector`, a label selector over the Namespace objects, which carry the implicit label
  `kubernetes.io/metadata.name` (`toNamespaceSet`).
- `generateSupportedKinds`: HTTP and HTTPS listeners take HTTPRoute and GRPCRoute, TCP ones
  TCPRoute, TLS ones TLSRoute in Passthrough mode (and TCPRoute when terminating), narrowed by
  `allowedRoutes.kinds`.
- the route status collapses the listeners' results per parentRef: attached when any
  listener accepts, otherwise the first reason in the order NotAllowedByListeners,
  NoMatchingListenerHostname, NoMatchingParent.
- `references_collection.go` `BackendAllowed`: a backendRef to another namespace needs a
  ReferenceGrant in the backend's namespace whose `from` names the route's kind (group
  gateway.networking.k8s.io) and namespace and whose `to` names the core `Service` (and this
  Service, when it gives a `name`).

What the input cannot tell is unknown (`None`), never "not attached": a `Selector` needs the
labels of the route's Namespace, which only its Namespace object holds (except the implicit
name label).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .hosts import matches
from .workloads import label_selector_matches

GROUP = "gateway.networking.k8s.io"
NAME_LABEL = "kubernetes.io/metadata.name"

# Route condition reasons (sigs.k8s.io/gateway-api apis/v1 RouteConditionReason), most
# relevant first: the order in which Istio picks the one it reports for a parentRef.
NOT_ALLOWED = "NotAllowedByListeners"
NO_HOSTNAME = "NoMatchingListenerHostname"
NO_MATCHING_PARENT = "NoMatchingParent"
RANK = (NOT_ALLOWED, NO_HOSTNAME, NO_MATCHING_PARENT)

HOSTNAME_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute"})  # routes that have hostnames


@dataclass(frozen=True, slots=True)
class Denial:
    """Why one listener refuses a route: the condition reason and what decided it."""

    reason: str
    listener: str  # the listener's name
    why: str  # "namespace", "kind", "hostname", "sectionName", "port"


@dataclass(frozen=True, slots=True)
class Attachment:
    """The outcome for one parentRef: attached (True), not attached (False, with the denials of
    the reason Istio reports, one per listener), or unknown (None) when a listener's verdict
    needs a fact the input does not hold."""

    attached: bool | None
    reason: str = ""
    denials: tuple[Denial, ...] = ()


def is_gateway_parent(parent: Mapping[str, Any]) -> bool:
    """A parentRef of kind Gateway (the default), not a Service (mesh routing) or another
    implementation's kind."""
    return parent.get("group", GROUP) == GROUP and parent.get("kind", "Gateway") == "Gateway"


def route_hostnames(kind: str, spec: Mapping[str, Any]) -> list[str]:
    """The route's hostnames, `*` when it has none (or cannot have any: TCPRoute, UDPRoute)."""
    if kind not in HOSTNAME_KINDS:
        return ["*"]
    return [h for h in spec.get("hostnames") or () if isinstance(h, str)] or ["*"]


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelectorAsSelector: an empty selector selects everything."""
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return True
    return label_selector_matches(selector, labels)


def _selector_keys(selector: Mapping[str, Any]) -> set[str]:
    keys = set((selector.get("matchLabels") or {}).keys())
    keys |= {str(e.get("key")) for e in selector.get("matchExpressions") or () if isinstance(e, dict)}
    return keys


def namespace_admitted(listener: Mapping[str, Any], gateway_namespace: str, namespace: str,
                       namespace_labels: Mapping[str, str] | None) -> bool | None:
    """Does the listener admit routes of `namespace`? `namespace_labels` are the labels of its
    Namespace object, None when the input does not hold it: a `Selector` is then unknown,
    unless it only asks for the implicit `kubernetes.io/metadata.name` label."""
    allowed = (listener.get("allowedRoutes") or {}).get("namespaces") or {}
    source = allowed.get("from") or "Same"
    if source == "Same":
        return namespace == gateway_namespace
    if source == "All":
        return True
    if source != "Selector":
        return None  # a value this version of the API does not know
    selector = allowed.get("selector")
    if not isinstance(selector, dict):
        return True  # istio: "should never happen, invalid config", treated as all namespaces
    if namespace_labels is None:
        if _selector_keys(selector) - {NAME_LABEL}:
            return None
        namespace_labels = {}
    return selector_matches(selector, {**namespace_labels, NAME_LABEL: namespace})


# generateSupportedKinds: what each listener protocol accepts, in every Istio release
PROTOCOL_KINDS: dict[str, tuple[str, ...]] = {
    "HTTP": ("HTTPRoute", "GRPCRoute"),
    "HTTPS": ("HTTPRoute", "GRPCRoute"),
    "TCP": ("TCPRoute",),
    "TLS/Passthrough": ("TLSRoute",),
    "TLS/Terminate": ("TCPRoute",),  # and TLSRoute in recent releases only
}


def _protocol(listener: Mapping[str, Any]) -> str:
    protocol = str(listener.get("protocol") or "").upper()
    if protocol == "TLS":
        mode = (listener.get("tls") or {}).get("mode") or "Terminate"
        return f"TLS/{mode}"
    return protocol


def _listed_kinds(listener: Mapping[str, Any]) -> list[str] | None:
    """`allowedRoutes.kinds` (of the Gateway API group), None when not set."""
    listed = (listener.get("allowedRoutes") or {}).get("kinds")
    if not listed:
        return None
    return [str(k.get("kind")) for k in listed if isinstance(k, dict) and (k.get("group") or GROUP) == GROUP]


def accepted_kinds(listener: Mapping[str, Any]) -> list[str]:
    """The route kinds the listener takes in every Istio release, for messages."""
    kinds = list(PROTOCOL_KINDS.get(_protocol(listener), ()))
    listed = _listed_kinds(listener)
    return [k for k in kinds if k in listed] if listed is not None else kinds


def kind_accepted(listener: Mapping[str, Any], kind: str) -> bool | None:
    """Does the listener take routes of `kind` (generateSupportedKinds, narrowed by
    `allowedRoutes.kinds`)? None when that depends on the implementation or its release: a
    TLSRoute on a TLS listener that terminates TLS, or a protocol Istio does not route (UDP,
    another implementation's)."""
    listed = _listed_kinds(listener)
    if listed is not None and kind not in listed:
        return False
    protocol = _protocol(listener)
    if protocol == "TLS/Terminate" and kind == "TLSRoute":
        return None
    if protocol.startswith("TLS/") and kind in ("HTTPRoute", "GRPCRoute"):
        return False
    kinds = PROTOCOL_KINDS.get(protocol)
    return None if kinds is None else kind in kinds


def listener_verdict(listener: Mapping[str, Any], gateway_namespace: str, kind: str, namespace: str,
                     hostnames: Sequence[str], section: str | None, port: int | None,
                     namespace_labels: Mapping[str, str] | None) -> Denial | None | bool:
    """One listener's answer to one parentRef (referenceAllowed): None when it accepts the
    route, a Denial, or True when the answer is unknown."""
    name = str(listener.get("name") or "")
    if port is not None and port != listener.get("port"):
        return Denial(NO_MATCHING_PARENT, name, "port")
    if section and section != name:
        return Denial(NO_MATCHING_PARENT, name, "sectionName")
    listener_hostname = listener.get("hostname") or "*"
    if not any(matches(listener_hostname, h) for h in hostnames):
        return Denial(NO_HOSTNAME, name, "hostname")
    admitted = namespace_admitted(listener, gateway_namespace, namespace, namespace_labels)
    if admitted is None:
        return True
    if not admitted:
        return Denial(NOT_ALLOWED, name, "namespace")
    accepted = kind_accepted(listener, kind)
    if accepted is None:
        return True
    if not accepted:
        return Denial(NOT_ALLOWED, name, "kind")
    return None


def attachment(listeners: Iterable[Mapping[str, Any]], gateway_namespace: str, kind: str, namespace: str,
               hostnames: Sequence[str], section: str | None, port: int | None,
               namespace_labels: Mapping[str, str] | None) -> Attachment:
    """Does the parentRef (`sectionName`, `port`) of a route of `kind` in `namespace` with
    `hostnames` attach to a Gateway with `listeners`? Collapsed over the listeners as the
    route's parent status is: attached if any accepts, unknown if any cannot be decided, else
    not attached for the most relevant reason."""
    denials: list[Denial] = []
    unknown = False
    for listener in listeners:
        verdict = listener_verdict(listener, gateway_namespace, kind, namespace, hostnames, section, port,
                                   namespace_labels)
        if verdict is None:
            return Attachment(True)
        if verdict is True:
            unknown = True
        elif isinstance(verdict, Denial):
            denials.append(verdict)
    if unknown or not denials:
        return Attachment(None)  # undecided, or a Gateway without listeners (the API requires one)
    reason = min((d.reason for d in denials), key=RANK.index)
    return Attachment(False, reason, tuple(d for d in denials if d.reason == reason))


def reference_granted(grants: Iterable[Mapping[str, Any]], from_kind: str, from_namespace: str,
                      to_name: str, to_kind: str = "Service") -> bool:
    """Does a ReferenceGrant (of the backend's namespace) let a `from_kind` of `from_namespace`
    reference the core `to_kind` named `to_name` (AllowedReferences.BackendAllowed)?"""
    for spec in grants:
        froms = [f for f in spec.get("from") or () if isinstance(f, dict)]
        if not any(f.get("group") == GROUP and f.get("kind") == from_kind and f.get("namespace") == from_namespace
                   for f in froms):
            continue
        for to in spec.get("to") or ():
            if not isinstance(to, dict) or (to.get("group") or "") != "" or to.get("kind") != to_kind:
                continue
            if to.get("name") is None or to["name"] == to_name:  # a name, even "", allows only that name
                return True
    return False
