"""The layered layout the HTML report draws the call graph with (graph/layout.py)."""

from __future__ import annotations

import random
import time

import pytest

from meshlint.graph.layout import (
    EDGE_LABEL_PITCH,
    LAYER_GAP,
    MAX_LABEL,
    NODE_HEIGHT,
    ROW,
    Curve,
    Layout,
    Point,
    layered,
)


def nodes_in(lanes: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    return {name: (name, lane) for lane, names in lanes.items() for name in names}


def bezier(c: Curve, t: float) -> Point:
    u = 1 - t
    points = (c.start, c.control1, c.control2, c.end)
    weights = (u ** 3, 3 * u * u * t, 3 * u * t * t, t ** 3)
    return Point(sum(w * p.x for w, p in zip(weights, points)), sum(w * p.y for w, p in zip(weights, points)))


def crossings(layout: Layout, edges: list[tuple[str, str]]) -> int:
    """Pairs of edges between the same two layers whose ends are in opposite orders."""
    boxes = layout.boxes
    count = 0
    for i, (a, b) in enumerate(edges):
        for c, d in edges[i + 1:]:
            if boxes[a].layer == boxes[c].layer and boxes[b].layer == boxes[d].layer:
                count += (boxes[a].y - boxes[c].y) * (boxes[b].y - boxes[d].y) < 0
    return count


def test_callers_are_left_of_their_callees_one_layer_past_the_deepest_caller():
    edges = [("web", "api"), ("api", "db"), ("web", "db"), ("job", "db")]
    layout = layered(nodes_in({"shop": ["web", "api", "db", "job"]}), edges)
    assert {k: b.layer for k, b in layout.boxes.items()} == {"web": 0, "job": 0, "api": 1, "db": 2}
    for a, b in edges:
        assert layout.boxes[a].x + layout.boxes[a].width + LAYER_GAP <= layout.boxes[b].x
        curve = layout.curves[(a, b)]
        assert not curve.backward
        # from the caller's right side to the callee's left side, leaving and arriving level
        assert curve.start == Point(layout.boxes[a].x + layout.boxes[a].width, layout.boxes[a].y + NODE_HEIGHT / 2)
        assert curve.end == Point(layout.boxes[b].x, layout.boxes[b].y + NODE_HEIGHT / 2)
        assert curve.control1.y == curve.start.y and curve.control2.y == curve.end.y


def test_the_edge_that_closes_a_cycle_loops_back_below():
    layout = layered(nodes_in({"ns": ["a", "b", "c"]}), [("a", "b"), ("b", "c"), ("c", "a")])
    assert [k for k, c in layout.curves.items() if c.backward] == [("c", "a")]
    back = layout.curves[("c", "a")]
    lowest = max(layout.boxes[k].y for k in "ac") + NODE_HEIGHT
    assert back.start.y == back.end.y == lowest and back.control1.y == lowest + ROW
    assert layout.height >= bezier(back, 0.5).y  # the loop stays inside the drawing


def test_each_namespace_is_a_lane_and_its_nodes_stay_inside():
    lanes = {"shop": ["web", "cart"], "pay": ["payment"], "ext": ["bank.example.com"]}
    edges = [("web", "cart"), ("web", "payment"), ("payment", "bank.example.com")]
    layout = layered(nodes_in(lanes), edges, last_lanes=("ext",))
    assert [lane.name for lane in layout.lanes][-1] == "ext"
    for lane in layout.lanes:
        for name in lanes[lane.name]:
            box = layout.boxes[name]
            assert box.lane == lane.name
            assert lane.top <= box.y and box.y + box.height <= lane.top + lane.height
    tops = [lane.top for lane in layout.lanes]
    for upper, lower in zip(layout.lanes, layout.lanes[1:]):
        assert upper.top + upper.height < lower.top
    assert tops == sorted(tops)
    assert layout.height > layout.lanes[-1].top + layout.lanes[-1].height


def test_lanes_that_call_each_other_are_neighbours():
    lanes = {"a": ["a1", "a2"], "b": ["b1"], "c": ["c1", "c2"], "d": ["d1"]}
    # in alphabetical order b would part a and c, and c part b and d
    edges = [("a1", "c1"), ("a2", "c2"), ("b1", "d1")]
    layout = layered(nodes_in(lanes), edges)
    order = [lane.name for lane in layout.lanes]
    assert abs(order.index("a") - order.index("c")) == 1 and abs(order.index("b") - order.index("d")) == 1


def test_nodes_of_one_column_never_overlap_and_rows_are_level_when_they_can_be():
    lanes = {"ns": [f"s{i}" for i in range(8)] + ["hub", "leaf"]}
    edges = [(f"s{i}", "hub") for i in range(8)] + [("hub", "leaf")]
    layout = layered(nodes_in(lanes), edges)
    column = sorted(layout.boxes[f"s{i}"].y for i in range(8))
    assert all(lower - upper >= ROW for upper, lower in zip(column, column[1:]))
    # hub sits at the height of its callers' middle, and leaf level with hub
    assert layout.boxes["hub"].y == pytest.approx(sum(column) / 8, abs=ROW / 2)
    assert layout.boxes["leaf"].y == pytest.approx(layout.boxes["hub"].y, abs=2)


def test_the_order_inside_a_layer_follows_the_neighbours():
    # alphabetically, z-first (called by b) would sit above z-second (called by a): a crossing
    nodes = nodes_in({"ns": ["a", "b", "z-first", "z-second"]})
    edges = [("a", "z-second"), ("b", "z-first")]
    assert crossings(layered(nodes, edges), edges) == 0


def test_fewer_crossings_than_alphabetical_order_on_a_random_mesh():
    rng = random.Random(7)
    names = [f"svc-{i:02}" for i in range(60)]
    nodes = {n: (n, f"ns{i // 12}") for i, n in enumerate(names)}
    edges = sorted({(names[i], names[j]) for i in range(40) for j in rng.sample(range(40, 60), 2)})
    layout = layered(nodes, edges)
    assert crossings(layout, edges) < 0.8 * _alphabetical_crossings(layout, edges)


def _alphabetical_crossings(layout: Layout, edges: list[tuple[str, str]]) -> int:
    rank = {k: (b.layer, k) for k, b in layout.boxes.items()}
    count = 0
    for i, (a, b) in enumerate(edges):
        for c, d in edges[i + 1:]:
            if rank[a][0] == rank[c][0] and rank[b][0] == rank[d][0]:
                count += (rank[a] < rank[c]) != (rank[b] < rank[d])
    return count


def test_edge_labels_sit_in_the_gap_after_the_caller_and_never_on_each_other():
    callees = [f"callee-{i}" for i in range(6)]
    layout = layered(nodes_in({"ns": ["caller", *callees]}), [("caller", c) for c in callees])
    caller = layout.boxes["caller"]
    labels = sorted(layout.curves[("caller", c)].label_at.y for c in callees)
    assert all(lower - upper >= EDGE_LABEL_PITCH - 1e-9 for upper, lower in zip(labels, labels[1:]))
    column_start = min(layout.boxes[c].x for c in callees)
    for c in callees:
        curve = layout.curves[("caller", c)]
        assert caller.x + caller.width < curve.label_at.x < column_start
        # the label is at the curve's point at label_t, moved down by label_shift only
        on_curve = bezier(curve, curve.label_t)
        assert on_curve.x == pytest.approx(curve.label_at.x, abs=0.05)
        assert on_curve.y + curve.label_shift == pytest.approx(curve.label_at.y)


def test_long_labels_are_cut():
    layout = layered({"x" * 90: ("x" * 90, "ns")}, [])
    assert layout.boxes["x" * 90].label == "x" * (MAX_LABEL - 1) + "…"


def test_the_same_input_gives_the_same_drawing():
    nodes = nodes_in({"a": ["p", "q"], "b": ["r", "s"]})
    edges = [("p", "r"), ("q", "s"), ("r", "q")]
    assert layered(nodes, edges) == layered(dict(reversed(list(nodes.items()))), list(reversed(edges)))


def test_a_mesh_of_5000_services_is_laid_out_in_seconds():
    """The layout grows with the graph, not with its square (measured: ~0.6 s here)."""
    rng = random.Random(5000)
    nodes = {f"s{i}": (f"service-{i}", f"ns{i // 20}") for i in range(5000)}
    edges = [(f"s{i}", f"s{j}") for i in range(5000) for j in rng.sample(range(5000), 2) if i != j]
    started = time.perf_counter()
    layout = layered(nodes, edges)
    assert time.perf_counter() - started < 10
    assert len(layout.boxes) == 5000 and len(layout.lanes) == 250
