"""`meshlint graph`: the service call graph with per-hop tries and worst-case amplification.

- `model.py`: `CallGraph`, the graph of the input with what its reports need beside it;
- `build.py`: the index -> that model (the graph itself is `mesh/callgraph_builder.py`'s);
- `render.py`: text, `dot`, `mermaid` and `json`.
"""
