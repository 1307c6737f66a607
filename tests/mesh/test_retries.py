"""mesh.retries against istio/istio `pilot/pkg/networking/core/route/retry/retry.go`
`ConvertPolicy` / `DefaultPolicy` / `parseRetryOn`, and the route builder
(`pilot/pkg/networking/core/route/route.go`: `policy := in.Retries; if policy == nil { policy =
mesh.GetDefaultHttpRetryPolicy() }`). Durations as Istio documents them for `perTryTimeout`
(`1h/1m/1s/1ms`, Go `time.ParseDuration` units).
"""

from __future__ import annotations

import pytest

from meshlint.mesh.retries import (
    DEFAULT_ATTEMPTS,
    DEFAULT_RETRY_ON,
    RetryPolicy,
    effective,
    format_seconds,
    parse_duration,
    split_retry_on,
    unsafe_conditions,
)

# DefaultPolicy: NumRetries 2, RetryOn "connect-failure,refused-stream,unavailable,cancelled,
# retriable-status-codes", RetriableStatusCodes [503]
ISTIO_DEFAULT_ON = ("connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes", "503")


def test_no_retries_is_istios_default_policy():
    p = effective(None)
    assert p == RetryPolicy(2, ISTIO_DEFAULT_ON, None, "Istio default")
    assert p.tries == 3
    assert DEFAULT_ATTEMPTS == 2 and DEFAULT_RETRY_ON == ISTIO_DEFAULT_ON


def test_no_retries_with_a_non_mapping_mesh_default_is_istios_default():
    assert effective(None, None).source == "Istio default"
    assert effective(None, "garbage").source == "Istio default"  # type: ignore[arg-type]


@pytest.mark.parametrize("route,mesh_default,expected", [
    # mesh defaultHttpRetryPolicy replaces the route's missing retries, then ConvertPolicy applies
    (None, {"attempts": 5, "retryOn": "5xx", "perTryTimeout": "2s"}, RetryPolicy(5, ("5xx",), 2.0, "mesh default")),
    (None, {"attempts": 1}, RetryPolicy(1, ISTIO_DEFAULT_ON, None, "mesh default")),
    (None, {"attempts": 0}, RetryPolicy(0, (), None, "mesh default")),
    (None, {}, RetryPolicy(0, (), None, "mesh default")),
    # a route with retries ignores the mesh default, even when it disables them
    ({"attempts": 1}, {"attempts": 5}, RetryPolicy(1, ISTIO_DEFAULT_ON, None, "route")),
    ({"attempts": 0}, {"attempts": 5}, RetryPolicy(0, (), None, "route")),
    ({}, {"attempts": 5}, RetryPolicy(0, (), None, "route")),
])
def test_mesh_default_policy(route, mesh_default, expected):
    assert effective(route, mesh_default) == expected


@pytest.mark.parametrize("retries", [
    {"attempts": 0},
    {"attempts": -1},
    {},  # `retries: {}`: Attempts is 0
    {"retryOn": "5xx,connect-failure"},  # no attempts: 0, even with retryOn
    {"perTryTimeout": "1s", "retryOn": "gateway-error"},
    {"attempts": 0, "retryOn": "5xx"},
])
def test_attempts_zero_or_missing_disables_retries(retries):
    """ConvertPolicy: `if in.Attempts <= 0 { return nil }`."""
    p = effective(retries)
    assert (p.attempts, p.tries, p.retry_on, p.per_try_timeout, p.source) == (0, 1, (), None, "route")


@pytest.mark.parametrize("attempts", [1, 2, 3, 10])
def test_attempts_count_retries(attempts):
    p = effective({"attempts": attempts})
    assert p.attempts == attempts
    assert p.tries == attempts + 1
    assert p.retry_on == ISTIO_DEFAULT_ON  # no retryOn: DefaultPolicy's conditions are kept


@pytest.mark.parametrize("retry_on,expected", [
    ("5xx", ("5xx",)),
    ("connect-failure,refused-stream", ("connect-failure", "refused-stream")),
    (" gateway-error , reset ", ("gateway-error", "reset")),
    ("5xx,,reset,", ("5xx", "reset")),
    (",503, ,retriable-status-codes", ("503", "retriable-status-codes")),
    # empty: `if in.RetryOn != ""` is false, the defaults stay
    ("", ISTIO_DEFAULT_ON),
])
def test_retry_on_parsing(retry_on, expected):
    p = effective({"attempts": 3, "retryOn": retry_on})
    assert p.retry_on == expected
    assert p.tries == 4


# retry.go ConvertPolicy: a whitespace-only retryOn is != "", so parseRetryOn leaves no retry conditions.
def test_whitespace_only_retry_on_replaces_the_defaults():
    assert effective({"attempts": 3, "retryOn": "  "}).retry_on == ()


def test_split_retry_on():
    assert split_retry_on(" a, b ,,c ") == ["a", "b", "c"]
    assert split_retry_on("") == []
    assert split_retry_on(" , ") == []


@pytest.mark.parametrize("per_try,seconds", [
    ("2s", 2.0), ("1.5s", 1.5), ("250ms", 0.25), ("1m", 60.0), (None, None), ("bogus", None),
])
def test_per_try_timeout(per_try, seconds):
    retries = {"attempts": 2}
    if per_try is not None:
        retries["perTryTimeout"] = per_try
    assert effective(retries).per_try_timeout == seconds


# --- unsafe conditions (ML301) ---------------------------------------------------------------

@pytest.mark.parametrize("conditions,unsafe", [
    (["5xx"], ["5xx"]),
    (["500"], ["500"]),
    (["502"], ["502"]),
    (["504"], ["504"]),
    (["599"], ["599"]),
    (["503"], []),
    (["gateway-error"], []),
    (["connect-failure"], []),
    (["reset", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"], []),
    (["404", "429", "600"], []),
    (list(ISTIO_DEFAULT_ON), []),
    (("connect-failure", "5xx", "503", "502", "gateway-error", "500"), ["5xx", "502", "500"]),
    ([], []),
])
def test_unsafe_conditions(conditions, unsafe):
    assert unsafe_conditions(conditions) == unsafe


# --- durations -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,seconds", [
    ("1s", 1.0),
    ("1.5s", 1.5),
    ("0.5s", 0.5),
    ("300ms", 0.3),
    ("1ms", 0.001),
    ("1m30s", 90.0),
    ("1m", 60.0),
    ("1h", 3600.0),
    ("1h30m", 5400.0),
    ("2h45m30s", 9930.0),
    ("10us", 10e-6),
    ("10µs", 10e-6),
    ("500ns", 500e-9),
    (" 2s ", 2.0),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [
    # (Go's ParseDuration would also take ".5s", "1.s" and signs; Istio validation wants >= 1ms)
    "", "   ", "s", "1", "1x", "abc", "1s2", "1 s", "s1", "1s-", "1d", "1sec", "ms",
])
def test_parse_duration_rejects_bad_strings(text):
    assert parse_duration(text) is None


@pytest.mark.parametrize("value", [None, 1, 1.5, True, ["1s"], {"seconds": 1}])
def test_parse_duration_rejects_non_strings(value):
    assert parse_duration(value) is None


@pytest.mark.parametrize("seconds,text", [
    (1, "1s"), (1.0, "1s"), (2.5, "2.5s"), (90, "90s"), (3600, "3600s"),
    (0.3, "300ms"), (0.25, "250ms"), (0.001, "1ms"), (0.0015, "1.5ms"), (0, "0ms"),
])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


@pytest.mark.parametrize("text", ["1s", "2.5s", "300ms", "90s"])
def test_format_parse_round_trip(text):
    assert format_seconds(parse_duration(text)) == text
