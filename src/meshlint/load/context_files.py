"""The files that describe the manifests' context: `--mesh-config` and `--call-graph`.

They are inputs, read like the manifests and handed to the index beside them; unlike a
manifest, a broken one ends the run (exit code 2), because the user named it to be relied on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..resource import Document, MeshConfigFile
from .bounded import DEFAULT_MAX_FILE_SIZE

if TYPE_CHECKING:
    from ..mesh.callgraph import ExplicitEdge


class ContextFileError(Exception):
    """A `--mesh-config` or `--call-graph` file that cannot be used (exit code 2)."""


@dataclass(frozen=True)
class ContextFiles:
    mesh_config: MeshConfigFile | None = None
    call_edges: tuple[ExplicitEdge, ...] = ()


def read_context(mesh_config: str | None, call_graph: str | None,
                 max_size: int = DEFAULT_MAX_FILE_SIZE) -> ContextFiles:
    return ContextFiles(read_mesh_config(mesh_config, max_size) if mesh_config else None,
                        read_call_graph(call_graph, max_size) if call_graph else ())


def _single_document(path: str, option: str, max_size: int) -> tuple[Document, dict[str, Any]]:
    """Read a one-document YAML/JSON file given to `option`: (document, mapping)."""
    from . import LoadError, read_source
    from .parse import iter_documents

    try:
        source, problem = read_source(path, max_size=max_size)
    except LoadError as exc:
        raise ContextFileError(f"{option}: cannot read {exc}") from None
    if problem is not None:
        raise ContextFileError(f"{option} {path}: {problem.message}")
    parsed = [(d, v, e) for d, v, e, _ in iter_documents(source, path.lower().endswith(".json"))
              if e is not None or v is not None]
    if not parsed:
        raise ContextFileError(f"{option} {path}: the file is empty")
    document, value, error = parsed[0]
    if error is not None:
        raise ContextFileError(f"{option} {path}:{error.line}:{error.column}: {error.message}")
    if not isinstance(value, dict):
        raise ContextFileError(f"{option} {path}: expected a mapping")
    return document, value


def read_mesh_config(path: str, max_size: int = DEFAULT_MAX_FILE_SIZE) -> MeshConfigFile:
    """`--mesh-config FILE`: an IstioOperator, a MeshConfig or istiod Helm values (YAML/JSON).
    Its document is kept so that findings can point into it."""
    from ..mesh.meshconfig import classify_file, describes_installation, parse_text

    document, value = _single_document(path, "--mesh-config", max_size)
    if not describes_installation(value):
        keys = ", ".join(sorted(map(str, value))[:5]) or "none"
        raise ContextFileError(f"--mesh-config {path}: holds no IstioOperator, istio ConfigMap, MeshConfig or "
                               f"istiod Helm values (top-level keys: {keys}; expected kind: IstioOperator, or "
                               "keys such as meshConfig, defaultConfig, global, sidecarInjectorWebhook)")
    kind = classify_file(value)
    if kind == "configmap":
        mesh, why = parse_text(value["data"]["mesh"])
        if why:
            raise ContextFileError(f"--mesh-config {path}: data.mesh is not valid YAML: {why}")
        if mesh is not None and not isinstance(mesh, dict):
            raise ContextFileError(f"--mesh-config {path}: data.mesh must hold a MeshConfig mapping")
        _check_mesh_config(path, document, ("data", "mesh"), mesh, "data.mesh: ")
    elif kind == "operator":
        spec = value.get("spec")
        if isinstance(spec, dict):
            _check_mesh_config(path, document, ("spec", "meshConfig"), spec.get("meshConfig"), "spec.meshConfig.")
    elif kind == "mesh":
        _check_mesh_config(path, document, (), value, "")
    else:
        _check_mesh_config(path, document, ("meshConfig",), value.get("meshConfig"), "meshConfig.")
    return MeshConfigFile(path, document, value)


def _check_mesh_config(path: str, document: Document, at: tuple, mesh: Any, where: str) -> None:
    """A mesh config istiod would refuse is no description of the installation (exit code 2),
    reported at the field's line and column (for MeshConfig held as text, at the text's)."""
    from ..locate import Locator
    from .schema import mesh_config_problem

    problem = mesh_config_problem(mesh)
    if problem is None:
        return
    field, message = problem
    line, column = Locator().position(document, at if at == ("data", "mesh") else at + field)
    raise ContextFileError(f"--mesh-config {path}:{line}:{column}: {where}{message}: istiod refuses this mesh config")


def read_call_graph(path: str, max_size: int = DEFAULT_MAX_FILE_SIZE) -> tuple[ExplicitEdge, ...]:
    """`--call-graph FILE`: `edges: [{from: frontend.shop, to: cart.shop}, ...]` (YAML or JSON).
    Each edge keeps its position so that findings can point at it."""
    from ..locate import Locator
    from ..mesh.callgraph import ExplicitEdge

    document, value = _single_document(path, "--call-graph", max_size)
    if set(value) - {"edges"} or not isinstance(value.get("edges"), list):
        raise ContextFileError(f"--call-graph {path}: expected `edges: [{{from: a.ns, to: b.ns}}, ...]`")
    edges = []
    for i, item in enumerate(value["edges"]):
        if not isinstance(item, dict) or set(item) != {"from", "to"} or \
                not all(isinstance(item[k], str) and item[k].strip() for k in ("from", "to")):
            line, column = Locator().position(document, ("edges", i))
            raise ContextFileError(f"--call-graph {path}:{line}:{column}: edge {i} must be {{from: host, to: host}}")
        edges.append(ExplicitEdge(item["from"], item["to"], document, ("edges", i)))
    return tuple(edges)
