"""The call graph (mesh/callgraph.py), ML302's arithmetic, and `meshlint graph` output shapes."""

from __future__ import annotations

import json
import time

import pytest

from meshlint.config import Config
from meshlint.engine import Inputs, check
from meshlint.index import Index
from meshlint.load import load
from meshlint.mesh.callgraph import Edge, Graph
from meshlint.mesh.retries import effective


def graph_of(edges: dict[tuple[str, str], int]) -> Graph:
    hosts = sorted({h for pair in edges for h in pair})
    return Graph({h: None for h in hosts},
                 {(a, b): Edge(a, b, [], tries=t, capped_tries=float(t)) for (a, b), t in edges.items()})


def test_chain_multiplies_tries():
    g = graph_of({("a", "b"): 3, ("b", "c"): 3, ("c", "d"): 3})
    (p,) = g.worst_paths()
    assert p.hosts == ["a", "b", "c", "d"] and p.amplification == 27


def test_fan_out_takes_the_worst_branch():
    g = graph_of({("a", "b"): 2, ("a", "c"): 5, ("c", "d"): 1})
    (p,) = g.worst_paths()
    assert p.hosts == ["a", "c", "d"] and p.amplification == 5


def test_diamond_is_memoised_not_enumerated():
    g = graph_of({("a", "b"): 2, ("a", "c"): 3, ("b", "d"): 4, ("c", "d"): 1, ("d", "e"): 3})
    (p,) = g.worst_paths()
    assert p.hosts == ["a", "b", "d", "e"] and p.amplification == 24


def test_cycles_are_reported_once_and_not_followed():
    g = graph_of({("a", "b"): 3, ("b", "c"): 3, ("c", "b"): 3, ("c", "d"): 2})
    assert g.cycles() == [["b", "c", "b"]]
    (p,) = g.worst_paths()
    assert p.amplification == 18 and p.hosts == ["a", "b", "c", "d"]


def test_attempts_zero_and_default_retries():
    assert effective({"attempts": 0}).tries == 1
    assert effective(None).tries == 3
    g = graph_of({("a", "b"): effective({"attempts": 0}).tries, ("b", "c"): effective(None).tries})
    assert g.worst_paths()[0].amplification == 3


def test_capped_amplification_uses_retry_budgets():
    g = graph_of({("a", "b"): 3, ("b", "c"): 5})
    g.edges[("b", "c")].capped_tries = 1.2
    (p,) = g.worst_paths()
    assert p.amplification == 15 and p.capped_amplification == pytest.approx(3.6)


@pytest.mark.parametrize("form", ["cart", "cart:80", "cart.shop", "cart.shop.svc", "cart.shop.svc.cluster.local:80",
                                  "http://cart.shop:80/api", "grpc://cart:80", "dns:///cart.shop:80"])
def test_env_forms_make_edges(tmp_path, form, mesh_yaml):
    path = tmp_path / "m.yaml"
    path.write_text(mesh_yaml({"web": [form]}))
    graph = Index(load([str(path)]).resources).call_graph()
    assert list(graph.edges) == [("web.shop.svc.cluster.local", "cart.shop.svc.cluster.local")]
    assert graph.edges[list(graph.edges)[0]].origins == ["env"]


def test_graph_json_shape(tmp_path, run, mesh_yaml):
    path = tmp_path / "m.yaml"
    path.write_text(mesh_yaml({"web": ["api:80"], "api": ["db:80"]}))
    proc = run("graph", str(path), "--format", "json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert set(doc) == {"nodes", "edges", "paths", "cycles", "assumptions"}
    assert doc["assumptions"] == []  # mesh_yaml labels namespace shop for injection
    assert doc["nodes"] == [f"{n}.shop.svc.cluster.local" for n in ("api", "db", "web")]
    assert doc["edges"][0] == {"from": "api.shop.svc.cluster.local", "to": "db.shop.svc.cluster.local",
                               "source": "env", "tries": 3, "capped_tries": 3.0}
    assert doc["paths"] == [{"hosts": [f"{n}.shop.svc.cluster.local" for n in ("web", "api", "db")],
                             "amplification": 9.0, "capped_amplification": 9.0}]
    assert doc["cycles"] == []


def test_graph_text_dot_mermaid(tmp_path, run, mesh_yaml):
    path = tmp_path / "m.yaml"
    path.write_text(mesh_yaml({"web": ["api:80"], "api": ["web:80"]}))
    text = run("graph", str(path)).stdout
    assert "Worst paths" in text and "Cycles:" in text and "api → web → api" in text
    dot = run("graph", str(path), "-f", "dot").stdout
    assert dot.startswith("digraph meshlint {") and '-> "web.shop.svc.cluster.local" [label="3x"' in dot
    mermaid = run("graph", str(path), "-f", "mermaid").stdout
    assert mermaid.startswith("graph LR") and "-->|3x|" in mermaid


def test_call_graph_file_edges_and_external_leaves(tmp_path, run):
    cg = tmp_path / "edges.yaml"
    cg.write_text("edges:\n- {from: web.shop, to: api.shop}\n- {from: api.shop, to: payments.example.com}\n")
    proc = run("graph", str(tmp_path), "--call-graph", str(cg), "-f", "json")
    doc = json.loads(proc.stdout)
    assert [e["source"] for e in doc["edges"]] == ["call-graph", "call-graph"]
    assert "payments.example.com" in doc["nodes"]
    assert doc["paths"][0]["amplification"] == 9.0


def test_five_thousand_services_stay_linear(tmp_path, mesh_yaml):
    """5,000 services in 50 layers of 100, each calling two services of the next layer."""
    calls = {}
    for layer in range(49):
        for i in range(100):
            calls[f"s{layer}-{i}"] = [f"s{layer + 1}-{i}:80", f"s{layer + 1}-{(i + 1) % 100}:80"]
    path = tmp_path / "big.yaml"
    path.write_text(mesh_yaml(calls))
    start = time.perf_counter()
    loaded = load([str(path)])
    graph = Index(loaded.resources).call_graph()
    paths = graph.worst_paths()
    elapsed = time.perf_counter() - start
    assert len(graph.nodes) == 5000 and len(graph.edges) == 9800
    assert len(paths) == 100 and paths[0].amplification == 3.0 ** 49
    # the timing target lives in benchmarks/; this only shows the order of magnitude
    print(f"5,000-service graph: {elapsed:.2f}s")


def test_ml302_uses_the_max_amplification_option(tmp_path, mesh_yaml):
    path = tmp_path / "m.yaml"
    path.write_text(mesh_yaml({"web": ["api:80"], "api": ["db:80"]}))
    from meshlint import rules
    from meshlint.config import from_mapping
    def found(cfg):
        return [f for f in check(Inputs([str(path)]), cfg).reported if f.code == "ML302"]

    assert found(Config()) == []  # 9x <= 10
    strict = from_mapping({"retry-amplification": {"max-amplification": 5}}, rules.BY_CODE)
    (f,) = found(strict)
    assert f.message.startswith("web → api → db: up to 9x at db (3 x 3 tries per hop)")


def test_every_graph_renderer_is_a_choice_of_the_command_line(run):
    """The CLI names the formats without importing the renderers (start-up time): they agree."""
    from meshlint.graph.render import RENDERERS

    usage = run("graph", "--help").stdout
    assert "{" + ",".join(RENDERERS) + "}" in usage


def test_graph_says_what_the_tries_rest_on(tmp_path, run):
    """No Namespace in the input, and a VirtualService that targets the namespace: the callers
    are assumed meshed, and the graph says so (SPEC §2)."""
    path = tmp_path / "m.yaml"
    path.write_text("""\
apiVersion: v1
kind: Service
metadata: {name: api, namespace: store}
spec: {selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: store}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web:1, env: [{name: API, value: "http://api"}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: store}
spec: {hosts: [api], http: [{route: [{destination: {host: api}}]}]}
""")
    doc = json.loads(run("graph", str(path), "--format", "json").stdout)
    assert doc["edges"][0]["tries"] == 3
    assert doc["assumptions"] == ["assuming namespace store is meshed: its Namespace is not in the input and "
                                  "VirtualService store/api targets it; set injected-namespaces or "
                                  "uninjected-namespaces"]
    text = run("graph", str(path)).stdout
    assert "Assumed (the tries above rest on it):\n  assuming namespace store is meshed" in text


def test_graph_text_fits_80_columns(run, root):
    """Issue #13: the text graph is read at a terminal; long hops continue on indented lines."""
    lines = run("graph", "examples", cwd=root).stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("      ") for line in lines)
