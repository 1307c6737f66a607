"""Who calls whom: service hosts named in a workload's container env values and args.

A value names a Service when, after stripping a scheme (`http://`, `grpc://`, `dns:///`),
credentials, a port and a path, what remains is `name` (a Service in the caller's namespace),
`name.ns`, `name.ns.svc` or `name.ns.svc.cluster.local`. Values are split on whitespace,
commas, semicolons and `=`, so `--backend=cart:7070` and `a:80,b:80` work too. Every token is
only a candidate: an edge exists only when a Service (or ServiceEntry host) of that name is in
the input, so a word such as `debug` in `--log-level=debug` adds nothing unless a Service
`debug` exists in the caller's namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from ..resource import FieldPath
from .workloads import Workload

_SPLIT = re.compile(r"[\s,;=]+")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://+")
_HOST = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")  # DNS-1035 label: ValidateServiceName


@dataclass(frozen=True)
class Mention:
    """A host named by a workload: where (path in the resource), the FQDN, and the port."""

    fqdn: str
    path: FieldPath
    text: str
    port: int | None = None


def split_host_port(token: str) -> tuple[str, int | None] | None:
    """`http://user@cart.shop:8080/x` -> ("cart.shop", 8080); None when it is not a host."""
    t = _SCHEME.sub("", token.strip().strip("'\""))
    t = t.split("/", 1)[0]
    t = t.rsplit("@", 1)[-1]
    port = None
    if t.count(":") == 1:
        t, raw = t.split(":")
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 5):  # a port: not "²", "٥٠٣" or 5,000 digits
            return None
        port = int(raw)
    elif ":" in t:
        return None
    t = t.lower().rstrip(".")
    if not t or not _HOST.match(t):
        return None
    return t, port


def candidate_fqdns(token: str, namespace: str, domain: str = "cluster.local") -> list[str]:
    """The cluster-local FQDNs a token could name (most specific first); [] when none."""
    found = split_host_port(token)
    if found is None:
        return []
    return list(_fqdns(found[0], namespace, domain))


def _fqdns(t: str, namespace: str, domain: str) -> tuple[str, ...]:
    parts = t.split(".")
    if not _SERVICE_NAME.match(parts[0]):
        return ()
    if len(parts) == 1:
        return (f"{parts[0]}.{namespace}.svc.{domain}",)
    if len(parts) == 2:
        return (f"{parts[0]}.{parts[1]}.svc.{domain}",)
    if len(parts) == 3 and parts[2] == "svc":
        return (f"{parts[0]}.{parts[1]}.svc.{domain}",)
    if t.endswith(f".svc.{domain}") and len(parts) == 3 + len(domain.split(".")):
        return (t,)
    return ()


def mentions(w: Workload, domain: str = "cluster.local", external: frozenset[str] = frozenset()) -> Iterator[Mention]:
    """Every token of every container's env values, command and args that could name a Service
    (or one of the `external` hosts, as written)."""
    for init in (False, True):
        field = "initContainers" if init else "containers"
        for i, c in w.containers(init=init):
            base = w.spec_path + (field, i)
            for j, env in enumerate(c.get("env") or ()):
                value = env.get("value") if isinstance(env, dict) else None
                if isinstance(value, str):
                    yield from _tokens(value, w.namespace, base + ("env", j, "value"), domain, external)
            for key in ("command", "args"):
                for j, arg in enumerate(c.get(key) or ()):
                    if isinstance(arg, str):
                        yield from _tokens(arg, w.namespace, base + (key, j), domain, external)


def _tokens(value: str, namespace: str, path: FieldPath, domain: str, external: frozenset[str]) -> Iterator[Mention]:
    for host, port, token, fqdns in _hosts_in(value, namespace, domain):
        if host in external:
            yield Mention(host, path, token, port)
            continue
        for fqdn in fqdns:
            yield Mention(fqdn, path, token, port)


@lru_cache(maxsize=1 << 16)
def _hosts_in(value: str, namespace: str, domain: str) -> tuple[tuple[str, int | None, str, tuple[str, ...]], ...]:
    """(host, port, token, candidate FQDNs) of each token of `value` that is a host. Memoised:
    the same values (`json`, `9090`, `/etc/app/config.yaml`) recur in thousands of pods."""
    out = []
    for token in _SPLIT.split(value):
        found = split_host_port(token)
        if found is not None:
            out.append((found[0], found[1], token, _fqdns(found[0], namespace, domain)))
    return tuple(out)
