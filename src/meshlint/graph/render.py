"""`meshlint graph`'s formats: text (worst paths first, then every edge with its tries, source
and retry limits), `dot` (Graphviz), `mermaid`, `html` (the HTML report's graph view, alone:
`report/html`), and `json`:
`{"nodes": [host...], "edges": [{"from", "to", "source", "tries", "capped_tries", "observed"?}],
  "paths": [{"hosts": [...], "amplification": 64.0, "capped_amplification": ...}],
  "cycles": [[...]], "assumptions": ["assuming namespace shop is meshed: ...", ...]}`;
an edge that `--prometheus` saw has `"observed": {"rate": 12.5, "unit": "req/s"}` (`B/s` when
only TCP traffic was seen).
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable

from ..mesh.callgraph import Edge, times
from .model import CallGraph


def observed_of(edge: Edge) -> str:
    """`12.5 req/s`: the rate --prometheus saw on the call, or ""."""
    if edge.observed is None:
        return ""
    from ..evidence.prometheus import format_rate

    return format_rate(*edge.observed)


def route_of(edge: Edge) -> str:
    """What sets the hop's tries: the VirtualService route, or the default policy and why."""
    if edge.route is None:
        return edge.policy.source if edge.policy else edge.note
    path = edge.route_path
    where = f" http[{path[2]}]" if len(path) > 2 else ""
    return f"VirtualService {edge.route.namespace}/{edge.route.name}{where}"


COLUMNS = 80  # the text report is read at a terminal


def _fit(line: str) -> str:
    """A line of at most COLUMNS, continued on indented lines (hop names are never split)."""
    if len(line) <= COLUMNS:
        return line
    return textwrap.fill(line, COLUMNS, subsequent_indent="      ", break_long_words=False, break_on_hyphens=False)


def render_text(view: CallGraph) -> str:
    graph, names = view.graph, view.names
    out = [f"{len(graph.nodes)} services, {len(graph.edges)} calls"]
    paths = [p for p in view.worst_paths() if p.edges]
    out.append("")
    out.append("Worst paths (tries multiply at every hop):")
    if not paths:
        out.append("  none: no service calls another")
    for p in paths:
        capped = f" (capped {times(p.capped_amplification)}x)" if p.capped_amplification != p.amplification else ""
        out.append(f"  {times(p.amplification):>6}x{capped}  " + " → ".join(names[h] for h in p.hosts))
    out.append("")
    out.append("Calls:")
    width = max((len(f"{names[e.source]} → {names[e.target]}") for e in graph.edges.values()), default=0)
    for (a, b), e in sorted(graph.edges.items(), key=lambda kv: (-kv[1].tries, names[kv[0][0]], names[kv[0][1]])):
        hop = f"{names[a]} → {names[b]}"
        extras = [x for x in (observed_of(e), route_of(e), e.budget,
                              e.note if e.route is not None or "routes" in e.note else "") if x]
        out.append(f"  {hop:<{width}}  {e.tries} tr{'y' if e.tries == 1 else 'ies'}  "
                   f"[{','.join(e.origins)}]  " + "; ".join(dict.fromkeys(extras)))
    cycles = graph.cycles()
    out.append("")
    out.append("Cycles: " + ("none" if not cycles else ""))
    for c in cycles:
        out.append("  " + " → ".join(names[h] for h in c))
    if view.assumptions:
        out.append("")
        out.append("Assumed (the tries above rest on it):")
        out += [f"  {a}" for a in view.assumptions]
    return "\n".join(_fit(line) for line in out) + "\n"


def render_json(view: CallGraph) -> str:
    graph = view.graph
    edges = []
    for (a, b), e in sorted(graph.edges.items()):
        edge = {"from": a, "to": b, "source": ",".join(e.origins), "tries": e.tries,
                "capped_tries": round(e.capped_tries, 6)}
        if e.observed is not None:
            edge["observed"] = {"rate": round(e.observed[0], 6), "unit": e.observed[1]}
        edges.append(edge)
    doc = {
        "nodes": sorted(graph.nodes),
        "edges": edges,
        # (JSON has no infinity: the largest number stands for it)
        "paths": [{"hosts": p.hosts, "amplification": min(float(p.amplification), sys.float_info.max),
                   "capped_amplification": min(round(float(p.capped_amplification), 6), sys.float_info.max)}
                  for p in view.worst_paths() if p.edges],
        "cycles": graph.cycles(),
        "assumptions": view.assumptions,
    }
    return json.dumps(doc, indent=2) + "\n"


def _color(tries: int) -> str:
    return "firebrick" if tries >= 4 else "darkorange" if tries >= 3 else "gray40"


def render_dot(view: CallGraph) -> str:
    graph, names = view.graph, view.names
    worst = {id(e) for p in view.worst_paths()[:1] for e in p.edges}
    out = ["digraph meshlint {", "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="Helvetica"];',
           '  edge [fontname="Helvetica"];']
    for host in sorted(graph.nodes):
        shape = ', shape=ellipse, style=dashed' if graph.nodes[host] is None else ""
        out.append(f'  "{host}" [label="{names[host]}"{shape}];')
    for (a, b), e in sorted(graph.edges.items()):
        width = ", penwidth=3" if id(e) in worst else ""
        label = f"{e.tries}x" + (f"\\n{observed_of(e)}" if e.observed else "")
        out.append(f'  "{a}" -> "{b}" [label="{label}", color={_color(e.tries)}{width}];')
    out.append("}")
    return "\n".join(out) + "\n"


def render_mermaid(view: CallGraph) -> str:
    graph, names = view.graph, view.names
    ids = {h: f"n{i}" for i, h in enumerate(sorted(graph.nodes))}
    out = ["graph LR"]
    for host in sorted(graph.nodes):
        label = names[host].replace('"', "'")
        out.append(f'  {ids[host]}["{label}"]' if graph.nodes[host] is not None else f'  {ids[host]}(["{label}"])')
    for (a, b), e in sorted(graph.edges.items()):
        label = f"{e.tries}x" + (f" · {observed_of(e)}" if e.observed else "")
        out.append(f"  {ids[a]} -->|{label}| {ids[b]}")
    return "\n".join(out) + "\n"


def render_html(view: CallGraph) -> str:
    """The call graph page of the HTML report, alone (its machinery is imported only here)."""
    from ..report.html import render_graph

    return render_graph(view)


RENDERERS: dict[str, Callable[[CallGraph], str]] = {
    "text": render_text, "dot": render_dot, "mermaid": render_mermaid, "json": render_json, "html": render_html}
