"""Finding and reading the configuration file (SPEC §4).

`--config FILE`, else the first of `.meshlint.yaml` / `.meshlint.yml` / `pyproject.toml` (with
a `[tool.meshlint]` table) in the working directory or one of its parents.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):  # (TOMLDecodeError is a ValueError)
        return None
    table = _meshlint_table(data)
    return table if isinstance(table, dict) else None


def _meshlint_table(data: dict[str, Any]) -> Any:
    """`[tool.meshlint]` of a pyproject.toml (None when absent; `tool` may be anything)."""
    tool = data.get("tool")
    return tool.get("meshlint") if isinstance(tool, dict) else None


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
        except RecursionError:
            raise ConfigError(f"{path}: invalid TOML: nesting is too deep") from None
        except ValueError as exc:  # a TOMLDecodeError, or an integer longer than Python converts
            why = f"a number of more than {sys.get_int_max_str_digits():,} digits" if "digits" in str(exc) else exc
            raise ConfigError(f"{path}: invalid TOML: {why}") from None
        table = _meshlint_table(data)
        if table is None:
            raise ConfigError(f"{path}: no [tool.meshlint] table")
        return table
    # read as a manifest is (load/parse.py): the same YAML, limits and messages
    from .load.parse import parse
    from .resource import Document, Source

    data, error, _ = parse(Document(Source(str(path), text), 0, len(text), 1, 0))
    if error is not None:
        raise ConfigError(f"{path}:{error.line}: {error.message}")
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
    shown = explicit if explicit else os.path.relpath(path)
    try:
        return from_mapping(read(path), rules, where=shown)
    except RecursionError:  # a value nested thousands deep, shown in a message
        raise ConfigError(f"{shown}: a value is nested too deep") from None
