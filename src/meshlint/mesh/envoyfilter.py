"""What an EnvoyFilter patch operation does for its `applyTo`: whether it depends on the order in
which EnvoyFilters are applied (a relative operation), or is ignored altogether.

Mirrors istio/istio `pkg/config/analysis/analyzers/envoyfilter/envoyfilter.go`
(`analyzeEnvoyFilterPatch`), with istio/istio#59688 (REPLACE is valid on VIRTUAL_HOST), and
corrected where the analyzer disagrees with what istiod does when it applies patches
(`pilot/pkg/networking/core/envoyfilter/rc_patch.go`, `listener_patch.go`):

- ADD on ROUTE_CONFIGURATION is ignored (IST0153): a route configuration only takes MERGE.
  The analyzer also reports ADD on HTTP_ROUTE, which istiod applies (`patchHTTPRoutes` appends
  the route); elsewhere ADD is absolute;
- REMOVE on ROUTE_CONFIGURATION is ignored (IST0154); the analyzer also reports REMOVE on
  HTTP_ROUTE, which istiod applies (`patchHTTPRoute` removes the matched route); elsewhere
  REMOVE is relative;
- REPLACE is valid only on HTTP_FILTER, NETWORK_FILTER, VIRTUAL_HOST and LISTENER_FILTER
  (IST0152; the analyzer omits LISTENER_FILTER, which `listener_patch.go` replaces); there it
  is relative;
- INSERT_BEFORE and INSERT_AFTER are relative; INSERT_FIRST and MERGE are not.

A relative operation in an EnvoyFilter without `priority` (0, the default) lands wherever the
order of EnvoyFilters puts it (IST0151; IST0155 when another patch of the same filter name is
pinned to a proxy version).
"""

from __future__ import annotations

from typing import Any

MERGE_ONLY = frozenset({"ROUTE_CONFIGURATION"})
REPLACEABLE = ("HTTP_FILTER", "NETWORK_FILTER", "VIRTUAL_HOST", "LISTENER_FILTER")
INSERTS = frozenset({"INSERT_BEFORE", "INSERT_AFTER"})

# operation -> the applyTo values where Istio ignores it, or where it is valid
IGNORED_ON = {"ADD": MERGE_ONLY, "REMOVE": MERGE_ONLY}
VALID_ONLY_ON = {"REPLACE": frozenset(REPLACEABLE)}


def ignored(apply_to: Any, operation: Any) -> bool:
    """Does Istio ignore `operation` for `apply_to` (IST0152-IST0154)?"""
    if operation in IGNORED_ON:
        return apply_to in IGNORED_ON[operation]
    if operation in VALID_ONLY_ON:
        return apply_to not in VALID_ONLY_ON[operation]
    return False


def relative(apply_to: Any, operation: Any) -> bool:
    """Does the patch's effect depend on the order of EnvoyFilters (IST0151)?"""
    if operation in INSERTS:
        return True
    if operation in ("REMOVE", "REPLACE"):
        return not ignored(apply_to, operation)
    return False


def has_priority(spec: Any) -> bool:
    """An EnvoyFilter `priority` other than the default 0 (istio compares `ef.Priority == 0`)."""
    priority = spec.get("priority") if isinstance(spec, dict) else None
    return isinstance(priority, int) and not isinstance(priority, bool) and priority != 0
