"""Effective PeerAuthentication (mTLS) mode of a workload and port.

Mirrors istio/istio `pilot/pkg/security/authn/policy_applier.go` `ComposePeerAuthentication`
and `pilot/pkg/model/authentication.go` (which policies apply to a workload):

- mesh level: a PeerAuthentication without selector in the root namespace (`istio-system`);
  policies *with* a selector in the root namespace are ignored;
- namespace level: one without selector in the workload's namespace;
- workload level: one whose `selector.matchLabels` match the pod's labels, in its namespace;
- within a level the oldest (`creationTimestamp`) wins, else the first in input order;
- the narrowest level that sets a mode wins; `UNSET` (or no `mtls`) inherits from the parent;
  `portLevelMtls` (workload level only) overrides per port, and an UNSET port inherits;
- nothing at all means PERMISSIVE.
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..resource import FieldPath, Resource

STRICT, PERMISSIVE, DISABLE, UNSET = "STRICT", "PERMISSIVE", "DISABLE", "UNSET"


@dataclass(frozen=True)
class Mode:
    mode: str
    policy: Resource | None  # the PeerAuthentication that decided it (None = Istio's default)
    path: FieldPath = ()  # the field in that policy

    @property
    def decided_by(self) -> Resource:
        """The PeerAuthentication that set a mode no default gives (STRICT: Istio's default is
        PERMISSIVE)."""
        if self.policy is None:
            raise ValueError(f"{self.mode} is Istio's default: no PeerAuthentication decided it")
        return self.policy

    def describe(self) -> str:
        if self.policy is None:
            return f"{self.mode} (no PeerAuthentication applies)"
        return f"{self.mode} from PeerAuthentication {self.policy.namespace}/{self.policy.name}"


def _mode_of(mtls: Any) -> str:
    if isinstance(mtls, dict):
        mode = mtls.get("mode")
        if isinstance(mode, str) and mode.upper() in (STRICT, PERMISSIVE, DISABLE):
            return mode.upper()
    return UNSET


def _age_key(pa: Resource, order: int) -> tuple:
    ts = pa.metadata.get("creationTimestamp")
    if isinstance(ts, _dt.datetime):
        ts = (ts if ts.tzinfo else ts.replace(tzinfo=_dt.UTC)).astimezone(_dt.UTC)
        ts = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif ts is not None and not isinstance(ts, str):
        ts = str(ts)
    # policies without a timestamp (not applied yet) count as the newest, in input order
    return (0, ts, order) if ts else (1, "", order)


class PeerAuthentications:
    """PeerAuthentications grouped by namespace and level, oldest first."""

    def __init__(self, policies: Iterable[Resource], root_namespace: str) -> None:
        self.root = root_namespace
        namespace_wide: dict[str, list[tuple]] = defaultdict(list)
        selective: dict[str, list[tuple]] = defaultdict(list)
        for order, pa in enumerate(policies):
            selector = pa.spec.get("selector")
            match = selector.get("matchLabels") if isinstance(selector, dict) else None
            key = _age_key(pa, order)
            if match:
                if pa.namespace != root_namespace:
                    selective[pa.namespace].append((key, pa, match))
            else:
                namespace_wide[pa.namespace].append((key, pa))
        self._wide = {ns: min(items, key=lambda t: t[0])[1] for ns, items in namespace_wide.items()}
        self._selective = {ns: [(pa, m) for _, pa, m in sorted(items, key=lambda t: t[0])]
                           for ns, items in selective.items()}

    def applicable(self, namespace: str,
                   labels: Mapping[str, str]) -> tuple[Resource | None, Resource | None, Resource | None]:
        """(mesh, namespace, workload) level policies for a pod."""
        mesh = self._wide.get(self.root)
        ns = self._wide.get(namespace) if namespace != self.root else None
        workload = None
        for pa, match in self._selective.get(namespace, ()):
            if isinstance(match, dict) and all(labels.get(k) == v for k, v in match.items()):
                workload = pa
                break
        return mesh, ns, workload

    def mode(self, namespace: str, labels: Mapping[str, str], port: int | None = None) -> Mode:
        """Effective mode for a pod (and, optionally, one of its ports)."""
        mesh, ns, workload = self.applicable(namespace, labels)
        result = Mode(PERMISSIVE, None)
        for pa in (mesh, ns, workload):
            if pa is None:
                continue
            mode = _mode_of(pa.spec.get("mtls"))
            if mode != UNSET:
                result = Mode(mode, pa, ("spec", "mtls", "mode"))
        if port is not None and workload is not None:
            ports = workload.spec.get("portLevelMtls")
            if isinstance(ports, dict):
                for key, value in ports.items():
                    if str(key) == str(port):
                        mode = _mode_of(value)
                        if mode != UNSET:
                            result = Mode(mode, workload, ("spec", "portLevelMtls", key, "mode"))
        return result

    def strict_somewhere(self, namespace: str, labels: Mapping[str, str]) -> Mode | None:
        """The STRICT mode that applies to some port of the pod, if any (default or port-level)."""
        base = self.mode(namespace, labels)
        if base.mode == STRICT:
            return base
        _, _, workload = self.applicable(namespace, labels)
        if workload is not None and isinstance(workload.spec.get("portLevelMtls"), dict):
            for key, value in workload.spec["portLevelMtls"].items():
                if _mode_of(value) == STRICT:
                    return Mode(STRICT, workload, ("spec", "portLevelMtls", key, "mode"))
        return None
