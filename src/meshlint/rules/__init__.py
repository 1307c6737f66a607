"""The rule catalogue: every rule, sorted by code. One module per rule, no registration magic."""

from __future__ import annotations

from ..finding import Rule
from . import (
    aggressive_retries,
    canary_without_outlier_detection,
    debug_headers_exposed,
    envoyfilter_unpinned,
    external_host_without_gateway,
    gateway_not_found,
    host_not_in_gateway,
    in_place_upgrade,
    invalid_resource,
    invalid_yaml,
    job_sidecar_injected,
    port_protocol_unset,
    probe_blocked_by_mtls,
    retries_without_circuit_breaker,
    retry_amplification,
    sidecar_resources_unset,
    strict_mtls_without_sidecar,
    subset_not_found,
)

ALL: tuple[Rule, ...] = (
    invalid_yaml.RULE,
    invalid_resource.RULE,
    port_protocol_unset.RULE,
    gateway_not_found.RULE,
    host_not_in_gateway.RULE,
    external_host_without_gateway.RULE,
    subset_not_found.RULE,
    strict_mtls_without_sidecar.RULE,
    probe_blocked_by_mtls.RULE,
    debug_headers_exposed.RULE,
    aggressive_retries.RULE,
    retry_amplification.RULE,
    retries_without_circuit_breaker.RULE,
    canary_without_outlier_detection.RULE,
    job_sidecar_injected.RULE,
    sidecar_resources_unset.RULE,
    in_place_upgrade.RULE,
    envoyfilter_unpinned.RULE,
)

BY_CODE: dict[str, Rule] = {rule.code: rule for rule in ALL}
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ALL}
