"""Istio's annotation catalogue and what `istioctl analyze` checks with it.

`CATALOGUE` is istio/api `annotation/annotations.yaml` as data: each annotation, the kinds of
resource Istio reads it on, and its deprecated and hidden flags. Transcribed once (no network
at run time) from the file as of Istio 1.27/1.28 (read from the openshift-service-mesh mirror
of istio/api, `tedjpoole/openshift-service-mesh-api` commit
f1b3be24a1fa0e5beafa19f85ea235bd765df293, which carries `sidecar.istio.io/nativeSidecar` and
`sidecar.istio.io/statsCompression`); regenerate it from a newer istio/api when Istio adds
annotations.

What the analyzer does with it (istio/istio `pkg/config/analysis/analyzers/annotations/annotations.go`):

- only annotations in Istio's namespace are looked at (`is_istio_annotation`): a key whose
  prefix (before the first `/`) ends with `istio.io`, and `kubernetes.io/ingress.class`;
- one not in the catalogue is unknown (IST0108);
- a deprecated one is reported (IST0135, advice that meshlint leaves out), unless it is
  `sidecar.istio.io/inject` and the resource also has the label of that name;
- one whose kinds do not include the resource's kind (and not `Any`) is misplaced (IST0107);
- a well-placed one whose value the injector's validation refuses is invalid (IST0125; istio/istio
  `pkg/kube/inject/validate.go`, `AnnotationValidation`).

The analyzer reads Namespaces, Services, Pods and Deployments; meshlint reads every workload
controller as it reads Deployments (their own metadata is never a pod's) and every pod template
as a Pod, which is what the controller creates and Istio then reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ANY = "Any"


@dataclass(frozen=True, slots=True)
class Annotation:
    name: str
    resources: tuple[str, ...]  # the kinds Istio reads it on ("Any": every kind)
    deprecated: bool = False
    hidden: bool = False


def _a(name: str, *resources: str, deprecated: bool = False, hidden: bool = False) -> Annotation:
    return Annotation(name, resources, deprecated, hidden)


POD = "Pod"
CATALOGUE: tuple[Annotation, ...] = (
    _a("prometheus.istio.io/merge-metrics", POD),
    _a("alpha.istio.io/kubernetes-serviceaccounts", "Service", deprecated=True, hidden=True),
    _a("alpha.istio.io/canonical-serviceaccounts", "Service", deprecated=True, hidden=True),
    _a("networking.istio.io/exportTo", "Service"),
    _a("sidecar.istio.io/inject", POD, deprecated=True),
    _a("sidecar.istio.io/status", POD),
    _a("sidecar.istio.io/rewriteAppHTTPProbers", POD),
    _a("sidecar.istio.io/discoveryAddress", POD, deprecated=True),
    _a("sidecar.istio.io/proxyImage", POD),
    _a("sidecar.istio.io/proxyImageType", POD),
    _a("sidecar.istio.io/proxyCPU", POD),
    _a("sidecar.istio.io/proxyCPULimit", POD),
    _a("sidecar.istio.io/proxyMemory", POD),
    _a("sidecar.istio.io/proxyMemoryLimit", POD),
    _a("sidecar.istio.io/interceptionMode", POD),
    _a("sidecar.istio.io/bootstrapOverride", POD),
    _a("sidecar.istio.io/statsInclusionPrefixes", POD, deprecated=True),
    _a("sidecar.istio.io/statsInclusionSuffixes", POD, deprecated=True),
    _a("sidecar.istio.io/statsInclusionRegexps", POD, deprecated=True),
    _a("sidecar.istio.io/statsHistogramBuckets", POD),
    _a("sidecar.istio.io/statsFlushInterval", POD),
    _a("sidecar.istio.io/statsEvictionInterval", POD),
    _a("sidecar.istio.io/userVolume", POD),
    _a("sidecar.istio.io/userVolumeMount", POD),
    _a("status.sidecar.istio.io/port", POD),
    _a("sidecar.istio.io/logLevel", POD),
    _a("sidecar.istio.io/componentLogLevel", POD),
    _a("sidecar.istio.io/agentLogLevel", POD),
    _a("sidecar.istio.io/nativeSidecar", POD),
    _a("readiness.status.sidecar.istio.io/initialDelaySeconds", POD),
    _a("readiness.status.sidecar.istio.io/periodSeconds", POD),
    _a("readiness.status.sidecar.istio.io/failureThreshold", POD),
    _a("readiness.status.sidecar.istio.io/applicationPorts", POD),
    _a("traffic.istio.io/nodeSelector", "Service"),
    _a("traffic.sidecar.istio.io/includeOutboundIPRanges", POD),
    _a("traffic.sidecar.istio.io/excludeOutboundIPRanges", POD),
    _a("traffic.sidecar.istio.io/includeInboundPorts", POD),
    _a("traffic.sidecar.istio.io/excludeInboundPorts", POD),
    _a("traffic.sidecar.istio.io/excludeInterfaces", POD),
    _a("traffic.sidecar.istio.io/includeOutboundPorts", POD),
    _a("traffic.sidecar.istio.io/excludeOutboundPorts", POD),
    _a("traffic.sidecar.istio.io/kubevirtInterfaces", POD, deprecated=True),
    _a("kubernetes.io/ingress.class", "Ingress"),
    _a("galley.istio.io/analyze-suppress", ANY),
    _a("proxy.istio.io/config", POD),
    _a("istio.io/dry-run", "AuthorizationPolicy"),
    _a("istio.io/rev", POD),
    _a("proxy.istio.io/overrides", POD, hidden=True),
    _a("inject.istio.io/templates", POD),
    _a("sidecar.istio.io/extraStatTags", POD, deprecated=True),
    _a("istio.io/autoRegistrationGroup", "WorkloadEntry", hidden=True),
    _a("istio.io/workloadController", "WorkloadEntry", hidden=True),
    _a("istio.io/connectedAt", "WorkloadEntry", hidden=True),
    _a("istio.io/disconnectedAt", "WorkloadEntry", hidden=True),
    _a("topology.istio.io/controlPlaneClusters", "Namespace"),
    _a("gateway.istio.io/controller-version", ANY, hidden=True),
    _a("ambient.istio.io/redirection", POD),
    _a("ambient.istio.io/waypoint-inbound-binding", "GatewayClass", "Gateway", hidden=True),
    _a("gateway.istio.io/service-account", "Gateway", hidden=True),
    _a("gateway.istio.io/name-override", "Gateway", hidden=True),
    _a("networking.istio.io/service-type", "Gateway", hidden=True),
    _a("networking.istio.io/traffic-distribution", "Service", "ServiceEntry"),
    _a("ambient.istio.io/bypass-inbound-capture", POD, hidden=True),
    _a("istio.io/reroute-virtual-interfaces", POD),
    _a("ambient.istio.io/dns-capture", POD, hidden=True),
    _a("sidecar.istio.io/statsCompression", POD),
)
BY_NAME: dict[str, Annotation] = {a.name: a for a in CATALOGUE}

SIDECAR_INJECT = "sidecar.istio.io/inject"


def is_istio_annotation(key: str) -> bool:
    """annotations.go `istioAnnotation`: the prefix before the first `/` ends with `istio.io`
    (so `myistio.io/x` counts, as in istio), or the one Kubernetes annotation Istio documents."""
    return key == "kubernetes.io/ingress.class" or key.split("/", 1)[0].endswith("istio.io")


def lookup(key: str) -> Annotation | None:
    return BY_NAME.get(key)


def suggestion(key: str) -> str | None:
    """The catalogue annotation a typo most likely meant (`sidecar.istio.io/proxyCpu`)."""
    import difflib

    lowered = {a.name.lower(): a.name for a in CATALOGUE}
    if key.lower() in lowered:
        return lowered[key.lower()]
    close = difflib.get_close_matches(key, list(BY_NAME), n=1, cutoff=0.85)
    return close[0] if close else None


def placed_on(annotation: Annotation, kind: str) -> bool:
    return ANY in annotation.resources or kind in annotation.resources


# --- value validation: istio/istio pkg/kube/inject/validate.go ---------------------------------

def _go_uint(text: str, bits: int) -> int:
    """strconv.ParseUint(text, 10, bits): ASCII digits only, in range."""
    if not text or not text.isascii() or not text.isdigit():
        raise ValueError(f"invalid syntax: {text!r}")
    if len(text.lstrip("0")) > 20 or int(text) >= 1 << bits:  # (int() refuses 4,300 digits)
        raise ValueError(f"value out of range: {text[:40]!r}")
    return int(text)


def _uint32(text: str) -> None:
    """validateUInt32: strconv.ParseUint(value, 10, 32)."""
    _go_uint(text, 32)


def _port(text: str) -> None:
    """parsePort: strings.TrimSpace, then a 16-bit unsigned integer."""
    _go_uint(text.strip(" \t\n\r\v\f"), 16)


def _ports(text: str) -> None:
    """parsePorts: the trimmed list, split on commas, each a port; empty is no ports."""
    text = text.strip(" \t\n\r\v\f")
    for part in text.split(",") if text else ():
        try:
            _port(part)
        except ValueError:
            raise ValueError(f"failed parsing port {part!r}") from None


def _prefix(text: str) -> None:
    """netip.ParsePrefix: an address (no zone), `/`, and bits without sign or leading zero."""
    addr, slash, bits = text.partition("/")
    if not slash:
        raise ValueError(f"no '/' in {text!r}")
    if "%" in addr:
        raise ValueError(f"a zone is not allowed in {text!r}")
    import ipaddress

    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise ValueError(f"bad address in {text!r}") from None
    if not bits.isascii() or not bits.isdigit() or (len(bits) > 1 and bits[0] == "0"):
        raise ValueError(f"bad bits after slash in {text!r}")
    if len(bits) > 3 or int(bits) > ip.max_prefixlen:
        raise ValueError(f"prefix length out of range in {text!r}")


def _cidrs(text: str) -> None:
    for part in text.split(",") if text else ():
        try:
            _prefix(part)
        except ValueError as e:
            raise ValueError(f"failed parsing cidr {part!r}: {e}") from None


def _interception_mode(text: str) -> None:
    if text not in ("REDIRECT", "TPROXY", "NONE"):
        raise ValueError("use REDIRECT, TPROXY or NONE")


def _include_ip_ranges(text: str) -> None:
    if text != "*":
        _cidrs(text)


def _include_inbound_ports(text: str) -> None:
    if text != "*":
        _ports(text)


def _go_bool(text: str) -> None:
    """strconv.ParseBool."""
    if text not in ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"):
        raise ValueError(f"not a boolean: {text!r}")


def _proxy_config(text: str) -> None:
    """validateProxyConfig applies the YAML onto a ProxyConfig; meshlint checks only that it is
    a YAML mapping (a field it does not know may be one of a newer Istio), read as the mesh
    config reads it (`meshconfig.parse_text`: the loader's limits, an alias bomb refused)."""
    from .meshconfig import parse_text

    value, why = parse_text(text)
    if why:
        raise ValueError("not valid YAML")
    if value is not None and not isinstance(value, dict):
        raise ValueError("not a ProxyConfig mapping")


VALIDATORS: dict[str, Callable[[str], None]] = {
    "sidecar.istio.io/interceptionMode": _interception_mode,
    "status.sidecar.istio.io/port": _port,
    "readiness.status.sidecar.istio.io/initialDelaySeconds": _uint32,
    "readiness.status.sidecar.istio.io/periodSeconds": _uint32,
    "readiness.status.sidecar.istio.io/failureThreshold": _uint32,
    "traffic.sidecar.istio.io/includeOutboundIPRanges": _include_ip_ranges,
    "traffic.sidecar.istio.io/excludeOutboundIPRanges": _cidrs,
    "traffic.sidecar.istio.io/includeInboundPorts": _include_inbound_ports,
    "traffic.sidecar.istio.io/excludeInboundPorts": _ports,
    "traffic.sidecar.istio.io/excludeOutboundPorts": _ports,
    "prometheus.istio.io/merge-metrics": _go_bool,
    "proxy.istio.io/config": _proxy_config,
}


def invalid_value(key: str, value: object) -> str:
    """Why the injector refuses `value` for annotation `key` ("" when it accepts it)."""
    validate = VALIDATORS.get(key)
    if validate is None or not isinstance(value, str):
        return ""
    try:
        validate(value)
    except ValueError as e:
        return str(e)
    return ""


# --- labels Istio reads on pods (mesh/injection.py) or on namespaces --------------------------

POD_LABELS = ("sidecar.istio.io/inject", "istio.io/rev", "istio.io/dataplane-mode")
NAMESPACE_ONLY_LABELS = ("istio-injection",)
