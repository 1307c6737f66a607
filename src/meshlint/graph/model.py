"""The call graph of one input, as `graph`, `simulate` and the reports see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..mesh.callgraph import Graph, PathResult, resolve_host, short_names


@dataclass
class CallGraph:
    """The service call graph (`mesh.callgraph.Graph`), the hosts external requests enter
    through, and how hosts are named."""

    graph: Graph
    exposed: set[str]  # hosts external requests enter through a gateway
    domain: str
    default_namespace: str
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # input problems, left out of the graph
    # what the callers' tries rest on: namespaces not in the input, assumed meshed or not
    assumptions: list[str] = field(default_factory=list)
    # ML302's max-amplification as configured: the paths above it are the ones to fix
    max_amplification: float = 10.0
    # --prometheus: the requests per second each host received (from every caller, outside the
    # mesh too), and the window they were measured over, in words ("in the last 1h")
    observed_rps: dict[str, float] = field(default_factory=dict)
    span: str = ""

    @cached_property
    def names(self) -> dict[str, str]:
        """Each host's shortest unambiguous name (`cart.shop`)."""
        return short_names(self.graph.nodes, self.domain)

    def namespace(self, host: str) -> str:
        """The namespace of a node: its Service's or workload's, the one a cluster-local host
        names, or "" for a host outside the cluster."""
        resource = self.graph.nodes.get(host)
        if resource is not None:
            return resource.namespace
        parts = host.split(".")
        return parts[1] if host.endswith(f".svc.{self.domain}") and len(parts) > 2 else ""

    def worst_paths(self) -> list[PathResult]:
        """Every entry's worst path, worst first."""
        return self.graph.worst_paths(self.exposed)

    def find(self, text: str) -> str | None:
        """The host a user means by `text`: a host of the graph, a name resolved as a Service
        host (`cart`, `cart.shop`, `cart.shop.svc`), or a unique short name."""
        if text in self.graph.nodes:
            return text
        host = resolve_host(text, self.default_namespace, self.domain)
        if host in self.graph.nodes:
            return host
        matches = [h for h, n in self.names.items() if n == text]
        return matches[0] if len(matches) == 1 else None
