"""The call graph as the HTML report draws it: every service in its namespace's lane (laid out
by `graph/layout.py`), the worst paths, and the ids that tie them together (a finding names a
node or a path by id). Only data: the template writes the SVG and escapes every name it prints.

The page's script can collapse a lane into one bar (a namespace seen from afar) and expand it
again without a new layout: nodes keep their x, lanes below move up or down, and the edges are
redrawn from their ends with the formulas of `layout.Curve`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...graph import layout
from ...graph.render import observed_of, route_of

if TYPE_CHECKING:
    from ...finding import Finding
    from ...graph.model import CallGraph
    from ...mesh.callgraph import Edge, PathResult
    from ...resource import Ref

OUTSIDE = "outside the cluster"  # the lane of hosts that belong to no namespace
COLLAPSED_ABOVE = 120  # services: a larger graph opens with its lanes collapsed
LISTED_PATHS = 20  # worst paths listed beside the drawing (all of those above the limit, at least)
_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class NodeMark:
    id: str
    host: str  # the full name, shown as the tooltip
    name: str  # the short name of `meshlint graph`
    label: str
    lane: str  # the id of its lane
    x: float
    y: float
    width: float
    kind: str  # "service", "workload" (a caller no Service selects) or "external" (no object in the input)
    severity: str  # the worst severity of the findings on its resource, or ""
    findings: int


@dataclass(frozen=True)
class EdgeMark:
    id: str
    source: str  # node ids
    target: str
    d: str  # the SVG path
    label: str
    label_x: float
    label_y: float
    label_t: float  # where the label sits along the curve (0 at the caller, 1 at the callee)
    label_shift: float  # and how far below that point (off the curve, to keep labels apart)
    backward: bool
    level: str  # how many tries: "low" (1-2), "mid" (3), "high" (4 and more)
    hot: bool  # on a path above max-amplification
    title: str


@dataclass(frozen=True)
class LaneMark:
    id: str
    name: str
    top: float
    height: float
    services: int


@dataclass(frozen=True)
class PathMark:
    id: str
    chain: str
    amplification: float
    capped: float
    hot: bool
    nodes: str  # node ids, space-separated
    edges: str  # edge ids, space-separated


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    nodes: list[NodeMark]
    edges: list[EdgeMark]
    lanes: list[LaneMark]
    paths: list[PathMark]
    more_paths: int  # worst paths not listed
    cycles: list[str]
    assumptions: list[str]
    limit: float
    collapsed: bool  # open with every lane collapsed

    @property
    def geometry(self) -> dict[str, float]:
        """What the script needs to redraw edges as the layout drew them."""
        return {"row": layout.ROW, "node-height": layout.NODE_HEIGHT, "margin": layout.MARGIN,
                "lane-gap": layout.LANE_GAP, "lane-header": layout.LANE_HEADER, "bar": layout.BAR_HEIGHT}


def draw(view: CallGraph, findings: Iterable[Finding] = ()) -> tuple[Drawing, dict[Ref, str], dict[Ref, str]]:
    """The drawing, and the ids of the nodes and of the listed paths by the ref of their
    resource (for a path: its entry's), so that findings can point into the drawing."""
    graph, names = view.graph, view.names
    hosts = sorted(graph.nodes)
    node_id = {h: f"n{i}" for i, h in enumerate(hosts)}
    lane_name = {h: view.namespace(h) or OUTSIDE for h in hosts}
    placed = layout.layered({h: (_label(view, h), lane_name[h]) for h in hosts}, graph.edges, last_lanes=(OUTSIDE,))
    worst = [p for p in view.worst_paths() if p.edges]
    hot_edges = {id(e) for p in worst if p.amplification > view.max_amplification for e in p.edges}

    by_resource: dict[Ref, list[Finding]] = {}
    for f in findings:
        if f.resource is not None:
            by_resource.setdefault(f.resource.ref, []).append(f)
    lane_id = {lane.name: f"l{i}" for i, lane in enumerate(placed.lanes)}
    members: dict[str, int] = {}
    nodes = []
    for h in hosts:
        box, resource = placed.boxes[h], graph.nodes[h]
        on_it = by_resource.get(resource.ref, []) if resource is not None else []
        kind = "external" if resource is None else "service" if resource.kind == "Service" else "workload"
        severity = max((f.severity.value for f in on_it), key=_RANK.__getitem__, default="")
        nodes.append(NodeMark(node_id[h], h, names[h], box.label, lane_id[box.lane], box.x, box.y, box.width, kind,
                              severity, len(on_it)))
        members[box.lane] = members.get(box.lane, 0) + 1
    lanes = [LaneMark(lane_id[lane.name], lane.name, lane.top, lane.height, members[lane.name])
             for lane in placed.lanes]
    edges = []
    edge_id = {}
    for i, ((a, b), e) in enumerate(sorted(graph.edges.items())):
        edge_id[(a, b)] = f"e{i}"
        curve = placed.curves[(a, b)]
        edges.append(EdgeMark(f"e{i}", node_id[a], node_id[b], _path(curve), f"{e.tries}×", curve.label_at.x,
                              curve.label_at.y, curve.label_t, curve.label_shift, curve.backward, _level(e.tries),
                              id(e) in hot_edges, _edge_title(e, names)))

    listed = [p for p in worst if p.amplification > view.max_amplification]
    listed += [p for p in worst if p.amplification <= view.max_amplification][:max(0, LISTED_PATHS - len(listed))]
    paths = [_path_mark(f"p{i}", p, names, node_id, edge_id, view.max_amplification) for i, p in enumerate(listed)]
    node_ids = {resource.ref: node_id[h] for h, resource in graph.nodes.items() if resource is not None}
    path_ids: dict[Ref, str] = {}
    for mark, p in zip(paths, listed):
        entry = graph.nodes.get(p.hosts[0])
        if entry is not None:
            path_ids.setdefault(entry.ref, mark.id)
    drawing = Drawing(placed.width, placed.height, nodes, edges, lanes, paths, len(worst) - len(listed),
                      [" → ".join(names[h] for h in c) for c in graph.cycles()], view.assumptions,
                      view.max_amplification, len(hosts) > COLLAPSED_ABOVE)
    return drawing, node_ids, path_ids


def number(value: float) -> str:
    """A coordinate or a factor as short as it reads: 18.0 -> 18, 2.41666 -> 2.42 (never in
    exponent form)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _label(view: CallGraph, host: str) -> str:
    """A node's name inside its namespace's lane: the Service's name, `Kind name` for a
    workload, the host itself outside the cluster."""
    resource = view.graph.nodes.get(host)
    if resource is not None:
        return resource.name if resource.kind == "Service" else f"{resource.kind_name or resource.kind} {resource.name}"
    return host.split(".")[0] if view.namespace(host) else host


def _level(tries: float) -> str:
    return "high" if tries >= 4 else "mid" if tries >= 3 else "low"


def _path(c: layout.Curve) -> str:
    x0, y0, x1, y1, x2, y2, x3, y3 = (number(v) for p in (c.start, c.control1, c.control2, c.end) for v in (p.x, p.y))
    return f"M{x0},{y0}C{x1},{y1} {x2},{y2} {x3},{y3}"


def _edge_title(e: Edge, names: Mapping[str, str]) -> str:
    tries = f"{e.tries} tr{'y' if e.tries == 1 else 'ies'}"
    capped = f" ({e.capped_tries:g} with the retry budget)" if e.capped_tries != e.tries else ""
    details = [x for x in (observed_of(e), route_of(e), e.budget, e.note) if x]
    return (f"{names[e.source]} → {names[e.target]}: {tries}{capped}; " + "; ".join(dict.fromkeys(details))
            + f" [{', '.join(e.origins)}]")


def _path_mark(mark_id: str, p: PathResult, names: Mapping[str, str], node_id: Mapping[str, str],
               edge_id: Mapping[tuple[str, str], str], limit: float) -> PathMark:
    return PathMark(mark_id, " → ".join(names[h] for h in p.hosts), p.amplification, p.capped_amplification,
                    p.amplification > limit, " ".join(node_id[h] for h in p.hosts),
                    " ".join(edge_id[(e.source, e.target)] for e in p.edges))
