"""Finding and reading the configuration file (SPEC §4).

`--config FILE`, else the first of `.meshlint.yaml` / `.meshlint.yml` / `pyproject.toml` (with
a `[tool.meshlint]` table) in the working directory or one of its parents.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from .config import Config, ConfigError, from_mapping
from .finding import Rule

NAMES = (".meshlint.yaml", ".meshlint.yml")


def discover(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in NAMES:
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _pyproject_table(pyproject) is not None:
            return pyproject
    return None


def _pyproject_table(path: Path) -> Mapping[str, Any] | None:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = data.get("tool", {}).get("meshlint")
    return table if isinstance(table, dict) else None


def read(path: Path) -> Mapping[str, Any]:
    """The settings mapping held by a config file; ConfigError when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if path.suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        table = data.get("tool", {}).get("meshlint")
        if table is None:
            raise ConfigError(f"{path}: no [tool.meshlint] table")
        return table
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    return {} if data is None else data


def load_config(explicit: str | None, rules: Mapping[str, Rule]) -> Config:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{explicit}: no such configuration file")
    else:
        found = discover()
        if found is None:
            return Config()
        path = found
    shown = os.path.relpath(path) if not explicit else explicit
    return from_mapping(read(path), rules, where=shown)


def _single_document(path: str, option: str):
    """Read a one-document YAML/JSON file given to `option`: (document, mapping). ConfigError
    (exit 2) when it cannot be read, does not parse, or is not a mapping."""
    from .load import LoadError, documents, read_source

    try:
        source, problem = read_source(path)
    except LoadError as exc:
        raise ConfigError(f"{option}: cannot read {exc}") from None
    if problem is not None:
        raise ConfigError(f"{option} {path}: {problem.message}")
    parsed = [(d, v, e) for d, v, e in documents.iter_documents(source, path.lower().endswith(".json"))
              if e is not None or v is not None]
    if not parsed:
        raise ConfigError(f"{option} {path}: the file is empty")
    document, value, error = parsed[0]
    if error is not None:
        raise ConfigError(f"{option} {path}:{error.line}: {error.message}")
    if not isinstance(value, dict):
        raise ConfigError(f"{option} {path}: expected a mapping")
    return document, value


def read_mesh_config(path: str, config: Config) -> Config:
    """`--mesh-config FILE`: an IstioOperator, a MeshConfig or istiod Helm values (YAML/JSON).
    Its document is kept so that findings can point into it."""
    from dataclasses import replace

    document, value = _single_document(path, "--mesh-config")
    env = replace(config.env, mesh_config=value, mesh_config_name=path, mesh_config_document=document)
    return replace(config, env=env)


def read_call_graph(path: str, config: Config) -> Config:
    """`--call-graph FILE`: `edges: [{from: frontend.shop, to: cart.shop}, ...]` (YAML or JSON).
    Each edge keeps its position so that findings can point at it."""
    from dataclasses import replace

    from .locate import Locator
    from .mesh.callgraph import ExplicitEdge

    document, value = _single_document(path, "--call-graph")
    if set(value) - {"edges"} or not isinstance(value.get("edges"), list):
        raise ConfigError(f"--call-graph {path}: expected `edges: [{{from: a.ns, to: b.ns}}, ...]`")
    edges = []
    for i, item in enumerate(value["edges"]):
        if not isinstance(item, dict) or set(item) != {"from", "to"} or \
                not all(isinstance(item[k], str) and item[k].strip() for k in ("from", "to")):
            line = Locator().line(document, ("edges", i))
            raise ConfigError(f"--call-graph {path}:{line}: edge {i} must be {{from: host, to: host}}")
        edges.append(ExplicitEdge(item["from"], item["to"], document, ("edges", i)))
    return replace(config, env=replace(config.env, call_graph=tuple(edges)))
