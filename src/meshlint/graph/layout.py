"""Where each service of the call graph is drawn: a layered layout, callers left of callees.

Sugiyama's scheme (which Graphviz's `dot` refines) in its plainest form: the edges that close a
cycle are turned around, every node gets the layer one past its deepest caller (longest path),
the nodes of each layer are ordered by the barycentre of their neighbours in sweeps to the
right and back (fewer crossings), and each is placed as close to the height of its neighbours
as the order and the spacing allow (straighter edges). Two additions suit a mesh:

- **Lanes.** Nodes are grouped in horizontal lanes, one per namespace, in an order that keeps
  namespaces that call each other close; a node only moves inside its lane. A reader finds a
  team's services in one band, and a lane can be collapsed into a bar that the edges of its
  nodes still reach, at their nodes' x, without moving anything else sideways.
- **No dummy nodes.** An edge that skips layers is one curve instead of a chain through
  invisible nodes: it may pass behind a node of a layer in between, which the lanes make rare
  and cheap to read, and the layout stays linear in the size of the graph.

Sizes are in pixels of the SVG that `report/html` draws; labels are set in a monospace font,
so their width follows from their length.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

CHAR_WIDTH = 7.2  # px per character of the 12 px monospace labels (0.6 em)
NODE_HEIGHT = 22
NODE_PADDING = 8  # px left and right of a label inside its box
ROW = 30  # vertical pitch of the nodes of one layer
LAYER_GAP = 110  # horizontal room between layers, for the edges and their labels
LANE_PADDING = 10  # above the first and below the last row of a lane
LANE_GAP = ROW - NODE_HEIGHT  # between lanes
BAR_HEIGHT = 26  # a lane collapsed into one bar (the HTML report's script collapses them)
LANE_HEADER = 150  # the column left of the layers where lane names are written
MARGIN = 16
MAX_LABEL = 40  # longer labels are cut (the full name stays in the node's tooltip)
EDGE_LABEL_PITCH = 13  # the least vertical distance between two edge labels in one gap
SWEEPS = 4  # barycentre sweeps right and back; more change little on call graphs
LANE_ROUNDS = 24  # rounds of moving lanes next to those they call (the best order is kept)


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Box:
    """A node's place: its top-left corner and size, its layer and its lane."""

    key: str
    label: str
    lane: str
    layer: int
    x: float
    y: float
    width: float
    height: float = NODE_HEIGHT


@dataclass(frozen=True)
class Curve:
    """An edge as a cubic Bézier curve, and where its label goes: `label_shift` below the
    curve's point at `label_t` (shifted off the curve when labels would overlap). Forward edges
    leave the caller's right side and reach the callee's left side, level at both ends (control
    points half-way across); `backward` edges close a cycle: they leave from the bottom of the
    caller and loop under to the callee's bottom (control points one ROW below the lower of the
    two)."""

    source: str
    target: str
    start: Point
    control1: Point
    control2: Point
    end: Point
    label_at: Point
    label_t: float
    label_shift: float = 0.0
    backward: bool = False


@dataclass(frozen=True)
class Lane:
    name: str
    top: float
    height: float


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    curves: dict[tuple[str, str], Curve]
    lanes: list[Lane]  # top to bottom
    width: float
    height: float


def _cut(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"


def layered(nodes: Mapping[str, tuple[str, str]], edges: Iterable[tuple[str, str]],
            last_lanes: Sequence[str] = ()) -> Layout:
    """The layout of `nodes` (key -> (label, lane name)) and `edges` (caller key, callee key),
    one lane per lane name; the lanes named in `last_lanes` come last (external hosts, say)."""
    keys = sorted(nodes)
    lane_of = {k: nodes[k][1] for k in keys}
    edge_list = sorted({(a, b) for a, b in edges if a != b and a in nodes and b in nodes})
    succ: dict[str, list[str]] = {k: [] for k in keys}
    pred: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in edge_list:
        succ[a].append(b)
        pred[b].append(a)
    back = _back_edges(keys, succ)
    layer = _layers(keys, [(b, a) if (a, b) in back else (a, b) for a, b in edge_list])
    lane_names = _lane_order(keys, lane_of, layer, edge_list, last_lanes)
    cells = _ordered_cells(keys, lane_of, layer, lane_names, pred, succ)
    return _place(nodes, cells, lane_of, layer, lane_names, pred, succ, edge_list)


def _back_edges(keys: list[str], succ: Mapping[str, list[str]]) -> set[tuple[str, str]]:
    """The edges that close a cycle (to a node still on the depth-first search's stack)."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = dict.fromkeys(keys, WHITE)
    back: set[tuple[str, str]] = set()
    for root in keys:
        if color[root] != WHITE:
            continue
        color[root] = GREY
        stack = [(root, 0)]
        while stack:
            node, i = stack[-1]
            if i < len(succ[node]):
                stack[-1] = (node, i + 1)
                nxt = succ[node][i]
                if color[nxt] == WHITE:
                    color[nxt] = GREY
                    stack.append((nxt, 0))
                elif color[nxt] == GREY:
                    back.add((node, nxt))
                continue
            color[node] = BLACK
            stack.pop()
    return back


def _layers(keys: list[str], dag: list[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the entries, in topological order (Kahn): each node one layer right of
    its deepest caller."""
    indegree = dict.fromkeys(keys, 0)
    out: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in dag:
        out[a].append(b)
        indegree[b] += 1
    layer = dict.fromkeys(keys, 0)
    ready = [k for k in keys if indegree[k] == 0]
    while ready:
        node = ready.pop()
        for nxt in out[node]:
            layer[nxt] = max(layer[nxt], layer[node] + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return layer


def _lane_order(keys: list[str], lane_of: Mapping[str, str], layer: Mapping[str, int],
                edges: list[tuple[str, str]], last: Sequence[str]) -> list[str]:
    """Lanes ordered so that lanes that call each other are close: start from the order of
    their leftmost layer, then move each lane towards the mean position of the lanes it
    exchanges calls with (weighted by the calls), keeping the order where calls cross the
    fewest lanes."""
    first_layer: dict[str, int] = {}
    for k in keys:
        first_layer[lane_of[k]] = min(first_layer.get(lane_of[k], layer[k]), layer[k])
    pinned = [name for name in last if name in first_layer]
    free = sorted((name for name in first_layer if name not in pinned), key=lambda n: (first_layer[n], n))
    weight: dict[tuple[str, str], int] = {}
    for a, b in edges:
        la, lb = lane_of[a], lane_of[b]
        if la != lb:
            weight[(la, lb)] = weight.get((la, lb), 0) + 1
            weight[(lb, la)] = weight.get((lb, la), 0) + 1
    neighbours: dict[str, list[tuple[str, int]]] = {name: [] for name in first_layer}
    for (la, lb), w in weight.items():
        neighbours[la].append((lb, w))

    def spread(order: list[str]) -> int:
        at = {name: i for i, name in enumerate(order)}
        return sum(abs(at[la] - at[lb]) * w for (la, lb), w in weight.items())

    def barycentre(name: str, at: Mapping[str, int]) -> float:
        # the lane's own place weighs as much as one call: without it, two groups of lanes
        # that call each other swap places at every round instead of coming together
        total = 1 + sum(w for _, w in neighbours[name])
        return (at[name] + sum(at[other] * w for other, w in neighbours[name])) / total

    order = free + pinned
    best, best_spread = order, spread(order)
    for _ in range(LANE_ROUNDS):
        at = {name: i for i, name in enumerate(order)}
        free = sorted(free, key=lambda n: (barycentre(n, at), at[n]))
        order = free + pinned
        if (value := spread(order)) < best_spread:
            best, best_spread = order, value
    return best


def _ordered_cells(keys: list[str], lane_of: Mapping[str, str], layer: Mapping[str, int],
                   lane_names: list[str], pred: Mapping[str, list[str]],
                   succ: Mapping[str, list[str]]) -> dict[tuple[str, int], list[str]]:
    """The nodes of each lane and layer (a cell), top to bottom: barycentre sweeps, left to
    right by callers, then right to left by callees."""
    cells: dict[tuple[str, int], list[str]] = {}
    for k in keys:  # sorted: the first order is alphabetical
        cells.setdefault((lane_of[k], layer[k]), []).append(k)
    lane_index = {name: i for i, name in enumerate(lane_names)}
    depth = max(layer.values(), default=0)
    rows = _rows(cells)
    lane_top: dict[str, int] = {}
    top = 0
    for name in lane_names:
        lane_top[name] = top
        top += rows[name] + 1  # a row between lanes: barycentres see lanes apart
    position: dict[str, float] = {}

    def place(cell_key: tuple[str, int]) -> None:
        for i, k in enumerate(cells[cell_key]):
            position[k] = lane_top[cell_key[0]] + i

    for cell_key in cells:
        place(cell_key)
    by_layer: dict[int, list[tuple[str, int]]] = {}
    for cell_key in sorted(cells, key=lambda c: (c[1], lane_index[c[0]])):
        by_layer.setdefault(cell_key[1], []).append(cell_key)
    for _ in range(SWEEPS):
        for layers, neighbours in ((range(1, depth + 1), pred), (range(depth - 1, -1, -1), succ)):
            for n in layers:
                for cell_key in by_layer.get(n, []):
                    cell = cells[cell_key]
                    cell.sort(key=lambda k: (_mean([position[o] for o in neighbours[k]], position[k]), position[k]))
                    place(cell_key)
    return cells


def _rows(cells: Mapping[tuple[str, int], list[str]]) -> dict[str, int]:
    """The rows of each lane: as many as its fullest cell has nodes."""
    rows: dict[str, int] = {}
    for (lane, _), cell in cells.items():
        rows[lane] = max(rows.get(lane, 1), len(cell))
    return rows


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _place(nodes: Mapping[str, tuple[str, str]], cells: dict[tuple[str, int], list[str]],
           lane_of: Mapping[str, str], layer: Mapping[str, int], lane_names: list[str],
           pred: Mapping[str, list[str]], succ: Mapping[str, list[str]], edges: list[tuple[str, str]]) -> Layout:
    labels = {k: _cut(label) for k, (label, _) in nodes.items()}
    width_of = {k: len(labels[k]) * CHAR_WIDTH + 2 * NODE_PADDING for k in nodes}
    # columns: one per layer, as wide as its widest node
    column_width = [0.0] * (max(layer.values(), default=0) + 1)
    for k in nodes:
        column_width[layer[k]] = max(column_width[layer[k]], width_of[k])
    column_x = []
    right: float = MARGIN + LANE_HEADER
    for w in column_width:
        column_x.append(right)
        right += w + LAYER_GAP
    # lanes: as tall as their fullest cell
    lanes: list[Lane] = []
    bottom: float = MARGIN
    rows = _rows(cells)
    for name in lane_names:
        height = 2 * LANE_PADDING + (rows[name] - 1) * ROW + NODE_HEIGHT
        lanes.append(Lane(name, bottom, height))
        bottom += height + LANE_GAP
    y = _heights(cells, {lane.name: lane for lane in lanes}, pred, succ)
    boxes = {k: Box(k, labels[k], lane_of[k], layer[k], column_x[layer[k]], y[k], width_of[k]) for k in nodes}
    # a label goes in the middle of the gap that follows its caller's layer, where no node is
    gap_middle = [x + w + LAYER_GAP / 2 for x, w in zip(column_x, column_width)]
    curves = _apart({(a, b): _curve(boxes[a], boxes[b], gap_middle[layer[a]]) for a, b in edges}, layer)
    width = right - LAYER_GAP + MARGIN if nodes else 2 * MARGIN
    return Layout(boxes, curves, lanes, width, bottom - LANE_GAP + MARGIN)


def _heights(cells: dict[tuple[str, int], list[str]], lanes: Mapping[str, Lane], pred: Mapping[str, list[str]],
             succ: Mapping[str, list[str]]) -> dict[str, float]:
    """Each node's y: its cell's rows, then moved towards the mean height of its neighbours,
    keeping the order and spacing of the cell inside its lane, layer by layer to the right,
    then back."""
    y: dict[str, float] = {}
    for (lane, _), cell in cells.items():
        for i, k in enumerate(cell):
            y[k] = lanes[lane].top + LANE_PADDING + i * ROW
    for rounds in range(SWEEPS):
        for (lane, _), cell in sorted(cells.items(), key=lambda item: item[0][1], reverse=rounds % 2 == 1):
            wanted = [_mean([y[o] for o in pred[k] + succ[k]], y[k]) for k in cell]
            low = lanes[lane].top + LANE_PADDING
            high = lanes[lane].top + lanes[lane].height - LANE_PADDING - NODE_HEIGHT
            for k, value in zip(cell, _spaced(wanted, ROW, low, high)):
                y[k] = value
    return y


def _apart(curves: dict[tuple[str, str], Curve], layer: Mapping[str, int]) -> dict[tuple[str, str], Curve]:
    """The labels of one gap share their x: moved apart vertically, as little as they can be
    (edges that leave one caller together would put theirs on top of each other)."""
    gaps: dict[int, list[Curve]] = {}
    for c in curves.values():
        if not c.backward:
            gaps.setdefault(layer[c.source], []).append(c)
    out = dict(curves)
    for column in gaps.values():
        column.sort(key=lambda c: (c.label_at.y, c.end.y))
        spaced = _spaced([c.label_at.y for c in column], EDGE_LABEL_PITCH, -math.inf, math.inf)
        for c, label_y in zip(column, spaced):
            out[(c.source, c.target)] = replace(c, label_at=Point(c.label_at.x, label_y),
                                                label_shift=label_y - c.label_at.y)
    return out


def _spaced(wanted: list[float], gap: float, low: float, high: float) -> list[float]:
    """Heights as close to `wanted` as possible (least squares) that keep the order, at least
    `gap` apart, between `low` and `high`: isotonic regression (pool adjacent violators) on
    `wanted[i] - i * gap`, which must not decrease."""
    blocks: list[list[float]] = []  # [sum, count]
    for i, w in enumerate(wanted):
        blocks.append([w - i * gap, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    top = high - (len(wanted) - 1) * gap
    out: list[float] = []
    for total, count in blocks:
        value = min(max(total / count, low), max(top, low))
        out += [value + (len(out) + j) * gap for j in range(int(count))]
    return out


def _curve(a: Box, b: Box, label_x: float) -> Curve:
    """The curve from `a` to `b`, labelled where it crosses `label_x` (forward edges) or at its
    lowest point (backward edges)."""
    if b.layer <= a.layer:  # backward: out of the caller's bottom, below the rows, into the callee's bottom
        start = Point(a.x + a.width / 2, a.y + a.height)
        end = Point(b.x + b.width / 2, b.y + b.height)
        drop = max(start.y, end.y) + ROW
        points = (start, Point(start.x, drop), Point(end.x, drop), end)
        return Curve(a.key, b.key, *points, label_at=_at(points, 0.5), label_t=0.5, backward=True)
    # forward: from the caller's right side to the callee's left side, leaving and arriving level
    start = Point(a.x + a.width, a.y + a.height / 2)
    end = Point(b.x, b.y + b.height / 2)
    reach = (end.x - start.x) / 2
    points = (start, Point(start.x + reach, start.y), Point(end.x - reach, end.y), end)
    # with these control points x(t) = start.x + (end.x - start.x) * (1.5t - 1.5t² + t³), which
    # grows with t: bisect for the t where the curve reaches label_x
    share = (label_x - start.x) / (end.x - start.x) if end.x > start.x else 0.5
    low, high = 0.0, 1.0
    for _ in range(16):  # to 1/65536 of the curve: well under a pixel
        t = (low + high) / 2
        if 1.5 * t - 1.5 * t * t + t * t * t < share:
            low = t
        else:
            high = t
    t = (low + high) / 2
    return Curve(a.key, b.key, *points, label_at=_at(points, t), label_t=t)


def _at(points: tuple[Point, Point, Point, Point], t: float) -> Point:
    """The point of a cubic Bézier curve at t (0: its start, 1: its end)."""
    p0, p1, p2, p3 = points
    u = 1 - t
    w0, w1, w2, w3 = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return Point(w0 * p0.x + w1 * p1.x + w2 * p2.x + w3 * p3.x, w0 * p0.y + w1 * p1.y + w2 * p2.y + w3 * p3.y)
