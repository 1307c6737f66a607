"""The rule catalogue: every rule, sorted by code. One module per rule, no registration magic."""

from __future__ import annotations

from ..finding import Rule
from . import (
    external_host_without_gateway,
    gateway_not_found,
    host_not_in_gateway,
    invalid_resource,
    invalid_yaml,
    port_protocol_unset,
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
)

BY_CODE: dict[str, Rule] = {rule.code: rule for rule in ALL}
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ALL}
