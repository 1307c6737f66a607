"""Effective retry policy of an HTTP route, as Envoy will run it.

Mirrors istio/istio `pilot/pkg/networking/core/route/retry/retry.go` `ConvertPolicy` and the
route builder that calls it:

- no `retries` on the route -> `meshConfig.defaultHttpRetryPolicy` when set, else Istio's
  default: 2 retries on `connect-failure,refused-stream,unavailable,cancelled,
  retriable-status-codes` with status 503;
- `attempts <= 0` (including a `retries` block that omits `attempts`) disables retries;
- otherwise `attempts` retries, on `retryOn` when given (else the default conditions), with
  `perTryTimeout`.

`attempts` counts *retries*: one request makes up to `1 + attempts` tries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_ATTEMPTS = 2
# `attempts` is an int32 in Istio's API: no larger value reaches Envoy (a route's is checked at
# load time, ML002; the mesh default is read as it is)
MAX_ATTEMPTS = 2**31 - 1
DEFAULT_RETRY_ON = ("connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes", "503")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int  # retries after the first try (0 = none)
    retry_on: tuple[str, ...]
    per_try_timeout: float | None  # seconds
    source: str  # "route", "mesh default", "Istio default"

    @property
    def tries(self) -> int:
        return 1 + self.attempts


def effective(retries: Mapping[str, Any] | None, mesh_default: Mapping[str, Any] | None = None) -> RetryPolicy:
    source = "route"
    if retries is None:
        if isinstance(mesh_default, Mapping):
            retries, source = mesh_default, "mesh default"
        else:
            return RetryPolicy(DEFAULT_ATTEMPTS, DEFAULT_RETRY_ON, None, "Istio default")
    attempts = retries.get("attempts")
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts <= 0:
        return RetryPolicy(0, (), None, source)
    attempts = min(attempts, MAX_ATTEMPTS)
    retry_on = retries.get("retryOn")
    # retry.go: any non-empty retryOn (even blanks) replaces the default conditions
    conditions = tuple(split_retry_on(retry_on)) if isinstance(retry_on, str) and retry_on != "" else DEFAULT_RETRY_ON
    return RetryPolicy(attempts, conditions, parse_duration(retries.get("perTryTimeout")), source)


def split_retry_on(retry_on: str) -> list[str]:
    return [part.strip() for part in retry_on.split(",") if part.strip()]


def _is_number(text: str) -> bool:
    """ASCII digits that int() reads at once (not "²", "٥٠٣" or 5,000 digits)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def unsafe_conditions(conditions: tuple[str, ...] | list[str]) -> list[str]:
    """Conditions that retry server errors which are not safe to repeat: `5xx`, and any
    numeric 5xx status other than 503 (the request may have been processed)."""
    out = []
    for c in conditions:
        if c.lower() == "5xx" or _is_number(c) and 500 <= int(c) <= 599 and int(c) != 503:
            out.append(c)
    return out


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|s|m|h)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(value: Any) -> float | None:
    """A protobuf/Go duration (`1.5s`, `300ms`, `1m30s`) in seconds; None when absent or bad."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return total if pos == len(text) and pos > 0 else None


def format_seconds(seconds: float) -> str:
    if seconds >= 1 and float(seconds).is_integer():
        return f"{int(seconds)}s"
    if seconds >= 1:
        return f"{seconds:g}s"
    return f"{seconds * 1000:g}ms"
