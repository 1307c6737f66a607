"""A route retries too much, or retries server errors that are not safe to repeat.

For every VirtualService HTTP route with a `retries` block that enables retries
(`attempts >= 1`; a block without `attempts`, or `attempts: 0`, disables them, see
istio/istio `pilot/pkg/networking/core/route/retry/retry.go`), and every Gateway API route
rule with a `retry`:

- `attempts` above `max-attempts` (option, default 3). `attempts` counts *retries*: one request
  makes up to `1 + attempts` tries;
- `retryOn` (Gateway API: `codes`) that retries server errors which are not safe to repeat:
  `5xx`, `500`, or any numeric 5xx other than 503 (a 503 from Envoy means the request was not
  processed; a 500 means it may have been);
- with severity info, `perTryTimeout x (attempts + 1)` longer than the route's `timeout`: the
  later tries are cut off by the overall timeout and never happen.

## Why it matters
Retries multiply load exactly when a service is struggling. Five retries on `5xx` turn one
failing request into six, each of which may have charged a card or written a row before it
failed, and every layer of the call chain multiplies again (see ML302). `gateway-error`,
`connect-failure`, `refused-stream`, `reset` and `503` retry only what never reached the
application.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payment, namespace: payments}
spec:
  hosts: [payment]
  http:
  - timeout: 10s
    retries:
      attempts: 5            # 6 tries per request
      perTryTimeout: 3s      # 18s of tries in a 10s timeout
      retryOn: 5xx           # repeats requests that may have been processed
    route:
    - destination: {host: payment}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payment, namespace: payments}
spec:
  hosts: [payment]
  http:
  - timeout: 10s
    retries:
      attempts: 2            # 3 tries per request
      perTryTimeout: 3s      # 9s of tries fit in the 10s timeout
      retryOn: connect-failure,refused-stream,unavailable,cancelled,503
    route:
    - destination: {host: payment}
```

## Fix
Retry at most 2-3 times, on `connect-failure,refused-stream,unavailable,cancelled,503` (or
`gateway-error`), make `perTryTimeout x (attempts + 1)` fit in the route timeout, and retry
non-idempotent operations only where the application is idempotent.

## References
- istio/istio `pilot/pkg/networking/core/route/retry/retry.go`: how Istio turns `retries` into Envoy's
- [VirtualService: HTTPRetry](https://istio.io/latest/docs/reference/config/networking/virtual-service/)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Applicability, Edit, Finding, Fix, FixKind, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.retries import effective, format_seconds, parse_duration, unsafe_conditions
from ..mesh.routes import RouteRule
from ..resource import GATEWAY_API_ROUTES, FieldPath, Resource


def _route_name(rule: RouteRule) -> str:
    if rule.gateway_api:
        return f"{rule.kind} rule {rule.index}"
    name = rule.spec.get("name")
    return f'route "{name}"' if isinstance(name, str) and name else f"route {rule.kind}[{rule.index}]"


def check(index: Index, options: Options) -> Iterator[Finding]:
    limit = options["max-attempts"]
    for rule in index.route_rules(("http",)):
        if rule.gateway_api:
            yield from _gateway_api_retry(rule, limit)
        else:
            yield from _istio_retries(rule, limit)


def _istio_retries(rule: RouteRule, limit: int) -> Iterator[Finding]:
    retries = rule.spec.get("retries")
    if not isinstance(retries, dict):
        return
    policy = effective(retries)
    if policy.attempts == 0:
        return
    vs, base, name = rule.resource, rule.path + ("retries",), _route_name(rule)
    if policy.attempts > limit:
        yield RULE.finding(TOO_MANY_ATTEMPTS, vs, base + ("attempts",), route=name, attempts=policy.attempts,
                           tries=policy.tries, limit=limit,
                           autofix=_lower(base + ("attempts",), policy.attempts, limit))
    unsafe = unsafe_conditions(policy.retry_on) if "retryOn" in retries else []
    if unsafe:
        yield _unsafe(vs, base + ("retryOn",), name, unsafe,
                      _safe_conditions(base + ("retryOn",), policy.retry_on, unsafe))
    per_try = policy.per_try_timeout
    total = per_try * policy.tries if per_try else None
    timeout = parse_duration(rule.spec.get("timeout"))
    if per_try and total and timeout and total > timeout:
        yield RULE.finding(
            TRIES_CUT_OFF, vs, base + ("perTryTimeout",), route=name,
            per=format_seconds(per_try), tries=policy.tries,
            total=format_seconds(total), timeout=format_seconds(timeout))


def _gateway_api_retry(rule: RouteRule, limit: int) -> Iterator[Finding]:
    retry = rule.spec.get("retry")
    if not isinstance(retry, dict):
        return
    attempts = retry.get("attempts")
    route, base, name = rule.resource, rule.path + ("retry",), _route_name(rule)
    if isinstance(attempts, int) and attempts > limit:
        yield RULE.finding(TOO_MANY_ATTEMPTS, route, base + ("attempts",), route=name, attempts=attempts,
                           tries=attempts + 1, limit=limit, autofix=_lower(base + ("attempts",), attempts, limit))
    codes = [str(c) for c in retry.get("codes") or ()]
    unsafe = unsafe_conditions(codes)
    if unsafe and attempts != 0:
        yield _unsafe(route, base + ("codes", codes.index(unsafe[0])), name, unsafe,
                      _gateway_codes(base, retry, unsafe))


def _unsafe(resource: Resource, path: FieldPath, name: str, unsafe: list[str], fix: Fix | None) -> Finding:
    return RULE.finding(UNSAFE_RETRY_ON, resource, path, route=name, conditions=",".join(unsafe), autofix=fix)


# SPEC §5 Fixes: what takes the place of 5xx/500 in retryOn; in Gateway API's codes, 503 (the
# one server error the rule holds safe to repeat)
SAFE_CONDITIONS = ("gateway-error", "connect-failure", "refused-stream")
SAFE_CODE = 503


def _lower(path: FieldPath, attempts: int, limit: int) -> Fix:
    return Fix((Edit(path, limit),), Applicability.UNSAFE,
               f"lowers attempts from {attempts} to {limit}: fewer retries of a failing request")


def _safe_conditions(path: FieldPath, retry_on: tuple[str, ...], unsafe: list[str]) -> Fix:
    """`5xx`/`500` (and the other 5xx codes but 503) replaced by gateway-error, connect-failure
    and refused-stream, the other conditions kept in their order."""
    first = next((i for i, c in enumerate(retry_on) if c in unsafe), len(retry_on))
    before = [c for c in retry_on[:first] if c not in unsafe]
    after = [c for c in retry_on[first:] if c not in unsafe]
    conditions = list(dict.fromkeys(before + list(SAFE_CONDITIONS) + after))
    return Fix((Edit(path, ",".join(conditions)),), Applicability.UNSAFE,
               f"retries on {', '.join(SAFE_CONDITIONS)} instead of {', '.join(unsafe)}: requests that reached "
               "the service and failed there are no longer repeated")


def _gateway_codes(base: FieldPath, retry: dict, unsafe: list[str]) -> Fix:
    """Gateway API: the unsafe status codes replaced by 503."""
    codes = [c for c in retry.get("codes") or () if str(c) not in unsafe]
    codes += [SAFE_CODE] if SAFE_CODE not in codes else []
    return Fix((Edit(base + ("codes",), codes),), Applicability.UNSAFE,
               f"retries on {', '.join(map(str, codes))} instead of {', '.join(unsafe)}")


TOO_MANY_ATTEMPTS = Variant(
    "too-many-attempts", Severity.WARNING,
    "{route} retries up to {attempts} times ({tries} tries per request), more than max-attempts {limit}",
    "Lower attempts to {limit} or fewer; retries multiply at every layer of the call chain.")
UNSAFE_RETRY_ON = Variant(
    "unsafe-retry-on", Severity.WARNING,
    "{route} retries on {conditions}: the failed request may already have been processed, so retrying "
    "repeats it and adds load to a failing service",
    "Retry on connect-failure,refused-stream,unavailable,cancelled,503 (or gateway-error) instead of "
    "{conditions}.")
TRIES_CUT_OFF = Variant(
    "tries-cut-off", Severity.INFO,
    "{route}: perTryTimeout {per} x {tries} tries = {total} exceeds the route timeout {timeout}, so the "
    "later tries are cut off",
    "Lower perTryTimeout or attempts so that perTryTimeout x (attempts + 1) fits in {timeout}, or raise "
    "the route timeout.")

RULE = Rule(
    code="ML301",
    name="aggressive-retries",
    summary="Route retries too often or retries unsafe server errors",
    inputs=frozenset({"VirtualService", *GATEWAY_API_ROUTES}),
    variants=(TOO_MANY_ATTEMPTS, UNSAFE_RETRY_ON, TRIES_CUT_OFF),
    check=check,
    options={"max-attempts": 3},
    footgun=5,
    fixes=(
        FixKind(Applicability.UNSAFE,
                "Lower `attempts` to `max-attempts`; replace `5xx`/`500` in `retryOn` with "
                "`gateway-error,connect-failure,refused-stream` (in Gateway API `codes`, with 503)."),
    ),
)
