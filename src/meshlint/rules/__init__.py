"""The rule catalogue: every rule, sorted by code. One module per rule, no registration magic.

Everything else that knows rules by code asks here: the areas codes are grouped in (SARIF
tags), the `istioctl analyze` codes each rule shares (suppression), the footgun each detects
and the footguns' titles, and which rule reports which kind of input problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..finding import Rule
from ..load import ProblemKind
from . import (
    aggressive_retries,
    ambiguous_service_entry_port,
    annotation_ignored,
    app_runs_as_proxy_uid,
    backend_ref_not_permitted,
    canary_without_outlier_detection,
    certificate_shared_by_gateways,
    conflicting_gateways,
    conflicting_host_rules,
    conflicting_port_protocols,
    debug_headers_exposed,
    destination_host_not_found,
    destination_rule_targets_nothing,
    envoyfilter_operation_ignored,
    envoyfilter_unpinned,
    external_host_without_gateway,
    gateway_not_found,
    gateway_port_not_in_service,
    gateway_workload_not_found,
    host_not_in_gateway,
    image_auto_without_injection,
    in_place_upgrade,
    ineffective_policy_selector,
    init_container_network_blocked,
    invalid_resource,
    invalid_yaml,
    job_sidecar_injected,
    jwt_claim_route_without_authn,
    overlapping_injection_webhooks,
    port_protocol_unset,
    probe_blocked_by_mtls,
    proxy_image_mismatch,
    retries_without_circuit_breaker,
    retry_amplification,
    route_not_attached,
    server_certificate_not_verified,
    sidecar_resources_unset,
    strict_mtls_without_sidecar,
    subset_not_found,
    suppression_code_unknown,
    tls_disabled_for_strict_workload,
    unreachable_route_rule,
)

ALL: tuple[Rule, ...] = (
    invalid_yaml.RULE,
    invalid_resource.RULE,
    suppression_code_unknown.RULE,
    port_protocol_unset.RULE,
    gateway_not_found.RULE,
    host_not_in_gateway.RULE,
    external_host_without_gateway.RULE,
    subset_not_found.RULE,
    destination_host_not_found.RULE,
    destination_rule_targets_nothing.RULE,
    conflicting_host_rules.RULE,
    unreachable_route_rule.RULE,
    jwt_claim_route_without_authn.RULE,
    conflicting_gateways.RULE,
    certificate_shared_by_gateways.RULE,
    gateway_workload_not_found.RULE,
    gateway_port_not_in_service.RULE,
    route_not_attached.RULE,
    backend_ref_not_permitted.RULE,
    conflicting_port_protocols.RULE,
    ambiguous_service_entry_port.RULE,
    strict_mtls_without_sidecar.RULE,
    probe_blocked_by_mtls.RULE,
    debug_headers_exposed.RULE,
    app_runs_as_proxy_uid.RULE,
    ineffective_policy_selector.RULE,
    server_certificate_not_verified.RULE,
    tls_disabled_for_strict_workload.RULE,
    aggressive_retries.RULE,
    retry_amplification.RULE,
    retries_without_circuit_breaker.RULE,
    canary_without_outlier_detection.RULE,
    job_sidecar_injected.RULE,
    sidecar_resources_unset.RULE,
    in_place_upgrade.RULE,
    envoyfilter_unpinned.RULE,
    annotation_ignored.RULE,
    image_auto_without_injection.RULE,
    overlapping_injection_webhooks.RULE,
    envoyfilter_operation_ignored.RULE,
    init_container_network_blocked.RULE,
    proxy_image_mismatch.RULE,
)

BY_CODE: dict[str, Rule] = {rule.code: rule for rule in ALL}
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ALL}


def look_alike(typed: str) -> str:
    """The code meant when letters are typed for the digits they look like: ML1O1 -> ML101."""
    upper = typed.upper()
    return upper[:2] + upper[2:].translate(str.maketrans("OIL", "011"))


@dataclass(frozen=True)
class Area:
    """The rules whose code starts with `ML<digit>` (SPEC §5)."""

    digit: str
    title: str
    tags: tuple[str, ...]  # SARIF rule tags (GitHub treats "security" rules as security alerts)


AREAS: tuple[Area, ...] = (
    Area("0", "Input", ("input",)),
    Area("1", "Protocol and routing", ("routing",)),
    Area("2", "Security and mTLS", ("security", "mtls")),
    Area("3", "Resilience", ("resilience", "retries")),
    Area("4", "Workloads and operations", ("workloads", "operations")),
)


def area(rule: Rule) -> Area:
    return next(a for a in AREAS if rule.code[2:3] == a.digit)


# The ten footguns meshlint was written for (SPEC §5), by the number `Rule.footgun` gives: how
# a report that groups findings by footgun names them.
FOOTGUNS: dict[int, str] = {
    1: "Service port protocol left to sniffing",
    2: "Job that never completes because of its sidecar",
    3: "STRICT mTLS and workloads without a sidecar",
    4: "Route bound to a Gateway that does not serve it",
    5: "Retries that multiply into a retry storm",
    6: "Sidecar without resource requests",
    7: "Probes and load balancers blocked by STRICT mTLS",
    8: "Canary without outlier detection",
    9: "Upgrades: revision labels and unpinned EnvoyFilters",
    10: "Envoy debug headers exposed at the edge",
}


# The rule that reports each kind of problem the loader finds.
FOR_PROBLEM: dict[ProblemKind, Rule] = {
    invalid_yaml.PROBLEM_KIND: invalid_yaml.RULE,
    invalid_resource.PROBLEM_KIND: invalid_resource.RULE,
}
