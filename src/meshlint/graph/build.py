"""The index -> the call graph model of `graph` and `simulate`."""

from __future__ import annotations

from ..config import Facts
from ..index import Index
from ..mesh.routes import exposed_hosts
from .model import CallGraph


def build(index: Index, facts: Facts, notes: list[str], warnings: list[str], max_amplification: float) -> CallGraph:
    """The index's call graph, with the hosts its VirtualServices expose through a gateway."""
    graph = index.call_graph()
    return CallGraph(graph, exposed_hosts(index.of_kind("VirtualService"), facts.domain), facts.domain,
                     facts.default_namespace, notes, warnings,
                     list(dict.fromkeys(e.assumption for e in graph.edges.values() if e.assumption)),
                     max_amplification)
