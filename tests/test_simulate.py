"""`meshlint simulate`: the discrete-event simulation agrees with the closed form (1+a)^N on a
plain chain, and budgets, outlier detection and timeouts change the load as Envoy would."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from meshlint.mesh.callgraph import Edge, Graph
from meshlint.mesh.retries import effective
from meshlint.simulate import render
from meshlint.simulate.model import FIXES, FixPolicy
from meshlint.simulate.run import MAX_TRIES, Simulation, TooLarge, tries_per_request


def chain(depth: int, retries: dict | None, **limits) -> tuple[Graph, list[str]]:
    hosts = [f"s{i}" for i in range(depth + 1)]
    edges = {}
    for a, b in zip(hosts, hosts[1:]):
        policy = effective(retries)
        edges[(a, b)] = Edge(a, b, [], tries=policy.tries, capped_tries=float(policy.tries), policy=policy, **limits)
    return Graph({h: None for h in hosts}, edges), hosts


@pytest.mark.parametrize("depth,attempts", [(1, 2), (3, 2), (4, 2), (3, 3), (2, 5), (5, 1)])
def test_plain_chain_matches_the_closed_form(depth, attempts):
    graph, hosts = chain(depth, {"attempts": attempts})
    result = Simulation(graph, hosts[0], hosts[-1], "503", rps=20, duration=5).run()
    for k, host in enumerate(hosts):
        assert result.amplification(host) == pytest.approx((1 + attempts) ** k, rel=0.05)
    assert result.rps(hosts[-1]) == pytest.approx(20 * (1 + attempts) ** depth, rel=0.05)


def test_istio_default_retries_a_503_twice_per_hop():
    graph, hosts = chain(4, None)
    result = Simulation(graph, hosts[0], hosts[-1], "503", rps=10, duration=5).run()
    assert result.amplification(hosts[-1]) == pytest.approx(81, rel=0.05)


def test_resets_are_retried_by_the_default_policy_but_not_by_5xx_only():
    graph, hosts = chain(2, None)
    assert Simulation(graph, hosts[0], hosts[-1], "reset", 10, 5).run().amplification(hosts[-1]) == pytest.approx(9)
    graph, hosts = chain(2, {"attempts": 2, "retryOn": "retriable-4xx"})
    assert Simulation(graph, hosts[0], hosts[-1], "reset", 10, 5).run().amplification(hosts[-1]) == pytest.approx(1)


def test_timeouts_are_retried_only_with_a_per_try_timeout_and_a_matching_condition():
    graph, hosts = chain(2, None)  # default conditions do not cover timeouts
    assert Simulation(graph, hosts[0], hosts[-1], "timeout", 10, 2).run().amplification(hosts[-1]) == 1
    graph, hosts = chain(2, {"attempts": 2, "perTryTimeout": "100ms", "retryOn": "5xx"})
    result = Simulation(graph, hosts[0], hosts[-1], "timeout", 10, 2).run()
    assert result.amplification(hosts[1]) == pytest.approx(3)
    # s1's own per-try timeouts expire before s0's: s0 retries s1, s1 retries s2 each time
    assert result.amplification(hosts[-1]) == pytest.approx(9)


def test_route_timeout_cuts_retries_short():
    graph, hosts = chain(1, {"attempts": 5, "perTryTimeout": "100ms", "retryOn": "5xx"}, timeout=0.25)
    result = Simulation(graph, hosts[0], hosts[-1], "timeout", 10, 2).run()
    assert 2 <= result.amplification(hosts[-1]) < 4  # not the 6 tries the policy allows


def test_retry_budget_caps_the_extra_load():
    graph, hosts = chain(1, {"attempts": 5}, budget_percent=20.0, min_retry_concurrency=1)
    free = Simulation(*chain(1, {"attempts": 5})[:1], hosts[0], hosts[-1], "503", 200, 5).run()
    capped = Simulation(graph, hosts[0], hosts[-1], "503", 200, 5).run()
    assert free.amplification(hosts[-1]) == pytest.approx(6)
    assert capped.amplification(hosts[-1]) < 3


def test_max_retries_caps_concurrent_retries():
    graph, hosts = chain(1, {"attempts": 5}, max_retries=1)
    result = Simulation(graph, hosts[0], hosts[-1], "503", 500, 2).run()
    assert result.amplification(hosts[-1]) < 6


def test_outlier_detection_ejects_the_failing_host():
    graph, hosts = chain(1, {"attempts": 2}, outlier={"consecutive5xxErrors": 5, "baseEjectionTime": "30s"})
    result = Simulation(graph, hosts[0], hosts[-1], "503", 100, 10).run()
    assert result.tries[hosts[-1]] == 5  # five errors, then ejected for the rest of the run


def test_the_suggested_fixes_lower_the_storm():
    graph, hosts = chain(4, {"attempts": 4, "retryOn": "5xx"})
    current = Simulation(graph, hosts[0], hosts[-1], "503", 50, 5).run()
    fixed = Simulation(graph, hosts[0], hosts[-1], "503", 50, 5, fixes=FIXES).run()
    assert current.amplification(hosts[-1]) == pytest.approx(625)
    assert fixed.amplification(hosts[-1]) < 1


def test_cli_json_shape_and_plot(tmp_path, run, mesh_yaml):
    path = tmp_path / "m.yaml"
    path.write_text(mesh_yaml({"web": ["api:80"], "api": ["db:80"]}))
    png = tmp_path / "load.png"
    proc = run("simulate", str(path), "--fail", "db.shop", "--rps", "20", "--duration", "3", "-f", "json",
               "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"entry_rps", "services", "worst_case", "peak_amplification", "limits", "fixed"}
    assert doc["entry_rps"] == 20
    rows = {s["host"]: s for s in doc["services"]}
    assert set(rows["db.shop.svc.cluster.local"]) == {"host", "rps", "amplification"}
    assert rows["db.shop.svc.cluster.local"]["amplification"] == pytest.approx(9)
    assert rows["web.shop.svc.cluster.local"]["rps"] == pytest.approx(20)
    assert doc["worst_case"] == {"path": ["web.shop.svc.cluster.local", "api.shop.svc.cluster.local",
                                          "db.shop.svc.cluster.local"], "tries": [3, 3], "amplification": 9}
    assert doc["peak_amplification"] == 9 and doc["limits"] == []  # Istio's default retries, nothing holds them
    assert set(doc["fixed"]) == {"services", "peak_amplification", "limits"} and len(doc["fixed"]["services"]) == 3
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_text_and_errors(tmp_path, run, mesh_yaml):
    path = tmp_path / "m.yaml"
    path.write_text(mesh_yaml({"web": ["api:80"], "api": ["db:80"]}))
    text = run("simulate", str(path), "--fail", "db", "--duration", "2").stdout
    assert "into web, with db answering 503" in text and "<- failing" in text
    bad = run("simulate", str(path), "--fail", "nope")
    assert bad.returncode == 2 and "not a service of the call graph" in bad.stderr
    assert run("simulate", str(path), "--fail", "db", "--rps", "0").returncode == 2


def test_the_fixes_sentence_says_what_the_fix_policy_does(tmp_path, run, mesh_yaml):
    """The report's sentence is generated from the values the simulation applies."""
    sentence = FixPolicy(attempts=1, retry_on=("reset",), budget_percent=12.5, outlier_errors=3).describe()
    assert sentence.startswith("at most 1 retry, on reset only; a 12.5% retryBudget on every hop;")
    assert "(3 consecutive errors eject" in sentence
    path = tmp_path / "m.yaml"
    path.write_text(mesh_yaml({"web": ["db:80"]}))
    text = run("simulate", str(path), "--fail", "db", "--duration", "1").stdout
    assert f"The fixes: {FIXES.describe()}." in " ".join(text.split("\n\n")[-1].split())  # (wrapped at 80)


def test_a_request_never_comes_back_to_a_service_it_went_through():
    """A cycle of the graph is not followed around: web -> api -> web stops at web."""
    graph, hosts = chain(2, {"attempts": 2})  # s0 -> s1 -> s2
    graph = Graph(graph.nodes, {**graph.edges, ("s1", "s0"): Edge("s1", "s0", [], tries=3, capped_tries=3.0,
                                                                   policy=effective({"attempts": 2}))})
    result = Simulation(graph, "s0", "s2", "503", rps=10, duration=2).run()
    assert result.tries["s0"] == 20 and result.amplification("s2") == pytest.approx(9)


@pytest.mark.parametrize("rps,duration,fits", [(20, 5, True), (1000, 10, False), (1e300, 3600, False)])
def test_a_run_larger_than_the_tries_it_may_make_is_refused_before_any_work(rps, duration, fits):
    graph, hosts = chain(4, {"attempts": 4})  # 1 + 5 + 25 + 125 + 625 = 781 tries a request, at most
    simulation = Simulation(graph, hosts[0], hosts[-1], "503", rps, duration)
    assert tries_per_request(graph, simulation.hops, hosts[0], hosts[-1], MAX_TRIES) == 781
    if fits:
        assert sum(simulation.run().tries.values()) == rps * duration * 781
    else:
        with pytest.raises(TooLarge, match="lower --rps or --duration"):
            simulation.run()
        assert not simulation.tries


def test_calls_that_cannot_fail_count_once_in_the_bound():
    """Only the calls on the way to the failing service are retried; a per-try timeout can fail
    any call."""
    graph, hosts = chain(2, {"attempts": 4})  # s0 -> s1 -> s2, s2 fails
    healthy = Edge("s0", "x", [], tries=5, capped_tries=5.0, policy=effective({"attempts": 4}))
    graph = Graph({**graph.nodes, "x": None}, {**graph.edges, ("s0", "x"): healthy})
    simulation = Simulation(graph, "s0", "s2", "503")
    assert tries_per_request(graph, simulation.hops, "s0", "s2", MAX_TRIES) == 1 + 5 + 25 + 1
    timed = {key: replace(hop, per_try_timeout=0.1) for key, hop in simulation.hops.items()}
    assert tries_per_request(graph, timed, "s0", "s2", MAX_TRIES) == 1 + 5 + 25 + 5


# --- why a run differs from ML302 (issue #13: "simulate and ML302 disagree without explaining") ---

def test_the_examples_say_why_payment_gets_less_than_ml302s_18x(run):
    """ML302's 18x on frontend → checkout → payment multiplies every hop's tries; the run shows
    checkout's retryOn not covering a 503 and frontend ejecting checkout."""
    proc = run("simulate", "examples", "--fail", "payment.payments", "-f", "json")
    doc = json.loads(proc.stdout)
    assert doc["worst_case"]["amplification"] == 18 and doc["worst_case"]["tries"] == [3, 6]
    assert doc["peak_amplification"] == 6  # checkout's answer is a 503, which frontend does not retry
    (held,) = doc["limits"]
    assert (held["from"], held["to"]) == ("frontend.shop.svc.cluster.local", "checkout.shop.svc.cluster.local")
    assert held["ejections"] > 0 and held["failed_fast"] > 0 and held["not_retried"] > 0
    text = run("simulate", "examples", "--fail", "payment.payments").stdout
    assert "ML302 multiplies every hop's tries, whatever fails: one request into frontend\ncan make up to 18" \
        " tries at payment (frontend → checkout → payment: 3 x 6 tries" in text
    assert "frontend → checkout: outlierDetection ejected checkout" in text
    assert "does not cover a 503" in text
    assert max(map(len, text.splitlines())) <= 80


def test_each_limit_is_counted_on_its_hop():
    graph, hosts = chain(1, {"attempts": 5}, budget_percent=20.0, min_retry_concurrency=1)
    assert Simulation(graph, hosts[0], hosts[-1], "503", 200, 2).run().limits[(hosts[0], hosts[1])].retries_refused
    graph, hosts = chain(1, {"attempts": 5, "perTryTimeout": "100ms", "retryOn": "5xx"}, timeout=0.25)
    assert Simulation(graph, hosts[0], hosts[-1], "timeout", 10, 2).run().limits[(hosts[0], hosts[1])].timed_out == 20
    graph, hosts = chain(1, {"attempts": 2, "retryOn": "connect-failure"})
    held = Simulation(graph, hosts[0], hosts[-1], "503", 10, 2).run().limits[(hosts[0], hosts[1])]
    assert held.not_retried == 20 and held.retry_on == ("connect-failure",)
    graph, hosts = chain(3, {"attempts": 2})
    result = Simulation(graph, hosts[0], hosts[-1], "503", 10, 2).run()
    assert result.limits == {} and result.peak == 27 == result.worst.amplification


def test_the_worst_case_is_the_path_that_multiplies_most():
    cheap, expensive = effective({"attempts": 1}), effective({"attempts": 4})
    edges = {(a, b): Edge(a, b, [], tries=p.tries, capped_tries=float(p.tries), policy=p) for a, b, p in
             [("web", "a", cheap), ("web", "b", expensive), ("a", "db", cheap), ("b", "db", cheap)]}
    graph = Graph({h: None for h in ("web", "a", "b", "db")}, edges)
    worst = Simulation(graph, "web", "db", "503", 10, 1).run().worst
    assert worst.hosts == ["web", "b", "db"] and worst.tries == [5, 2] and worst.amplification == 10


def test_every_second_of_steady_traffic_counts_the_same():
    """Arrivals at i/rps add up to a hair below each whole second: none may slip into the
    second before it (the chart showed a false drop at the end)."""
    graph, hosts = chain(1, {"attempts": 0})
    for rps in (100, 30, 7):
        result = Simulation(graph, hosts[0], hosts[-1], "503", rps, 10).run()
        assert result.timeline[hosts[0]][:10] == [rps] * 10


def test_the_chart_shares_its_steps_groups_equal_lines_and_keeps_the_failing_one():
    graph, hosts = chain(2, {"attempts": 1})
    current = Simulation(graph, hosts[0], hosts[-1], "503", 10, 2.5).run()
    fixed = Simulation(graph, hosts[0], hosts[-1], "503", 10, 2.5, fixes=FIXES).run()
    edges, lines = render.chart_lines(current, fixed)
    assert edges == [0.0, 1.0, 2.0, 2.5]  # the requests' seconds only; the last counted for half a second
    by_host = {h: line for line in lines for h in line[0]}
    assert by_host["s0"][1] == (10.0, 10.0, 10.0)  # 5 requests in half a second: 10 a second
    assert by_host["s2"][1][0] == 40.0
    # without retries every service sees the entry's load: one line for the three
    steady = Simulation(*chain(2, {"attempts": 0})[:1], "s0", "s2", "503", 10, 2).run()
    (line,) = render.chart_lines(steady, steady)[1]
    assert line == (["s0", "s1", "s2"], (10.0, 10.0), (10.0, 10.0))
    assert render.chart_lines(current, fixed, most=1)[1][0][0] == ["s2"]
