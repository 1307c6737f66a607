"""Who calls whom: service hosts named in a workload's container env values and args.

A value names a Service when, after stripping a scheme (`http://`, `grpc://`, `dns:///`),
credentials, a port and a path, what remains is `name` (a Service in the caller's namespace),
`name.ns`, `name.ns.svc` or `name.ns.svc.cluster.local`. Values are split on whitespace,
commas, semicolons and `=`, so `--backend=cart:7070` and `a:80,b:80` work too. A bare `name`
counts only when it is the whole token, so prose in an env value does not create edges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from .workloads import Workload

_SPLIT = re.compile(r"[\s,;=]+")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://+")
_HOST = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class Mention:
    """A Service host named by a workload: where (path in the resource), and the FQDN."""

    fqdn: str
    path: tuple
    text: str


def candidate_fqdns(token: str, namespace: str, domain: str = "cluster.local") -> list[str]:
    """The cluster-local FQDNs a token could name (most specific first); [] when none."""
    t = _SCHEME.sub("", token.strip().strip("'\""))
    t = t.split("/", 1)[0]
    t = t.rsplit("@", 1)[-1]
    if t.count(":") == 1:
        host, port = t.split(":")
        if not port.isdigit():
            return []
        t = host
    elif ":" in t:
        return []
    t = t.lower().rstrip(".")
    if not t or not _HOST.match(t):
        return []
    parts = t.split(".")
    if len(parts) == 1:
        return [f"{parts[0]}.{namespace}.svc.{domain}"]
    if len(parts) == 2:
        return [f"{parts[0]}.{parts[1]}.svc.{domain}"]
    if len(parts) == 3 and parts[2] == "svc":
        return [f"{parts[0]}.{parts[1]}.svc.{domain}"]
    if t.endswith(f".svc.{domain}") and len(parts) == 3 + len(domain.split(".")):
        return [t]
    return []


def mentions(w: Workload, domain: str = "cluster.local") -> Iterator[Mention]:
    """Every token of every container's env values, command and args that could name a Service."""
    for init in (False, True):
        field = "initContainers" if init else "containers"
        for i, c in w.containers(init=init):
            base = w.spec_path + (field, i)
            for j, env in enumerate(c.get("env") or ()):
                value = env.get("value") if isinstance(env, dict) else None
                if isinstance(value, str):
                    yield from _tokens(value, w.namespace, base + ("env", j, "value"), domain)
            for key in ("command", "args"):
                for j, arg in enumerate(c.get(key) or ()):
                    if isinstance(arg, str):
                        yield from _tokens(arg, w.namespace, base + (key, j), domain)


def _tokens(value: str, namespace: str, path: tuple, domain: str) -> Iterator[Mention]:
    for token in _SPLIT.split(value):
        for fqdn in candidate_fqdns(token, namespace, domain):
            yield Mention(fqdn, path, token)
