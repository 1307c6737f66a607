"""kustomize's patches in the input: partial objects, not manifests.

A kustomization lists the files it patches its resources with (`patches:`,
`patchesStrategicMerge:`, `patchesJson6902:`). A strategic-merge patch looks like an object
but holds only the fields it changes: analysed alone, a patched Service's ports or a patched
Deployment's annotations say nothing true about what is applied, so what `kustomize build`
renders is what must be checked. JSON 6902 patches are lists, skipped as any list is; naming
them here gives the better reason. Files under `resources:` stay manifests, even when another
kustomization patches with them. A Component's patches are checked through a kustomization
that uses it (kustomize builds no Component alone).

The kustomizations read are those a directory walk found, and those beside a file named on
the command line (so a patch that pre-commit passes alone is recognised too).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import yaml

from . import kubeyaml
from .bounded import DEFAULT_MAX_FILE_SIZE, TooLarge, read_within

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def patch_files(walked: Iterable[str], named: Iterable[str]) -> dict[str, str]:
    """The patch files of the kustomizations among `walked` (every file a directory walk
    found) and beside the files `named` on the command line: normalised absolute path -> the
    directory to run `kustomize build` in to see them applied (as the input names it): the
    kustomization that names the patch, or for a Component (which cannot be built alone) a
    kustomization that uses it; "" when no such kustomization is in the input."""
    found: dict[str, str] = {}  # directory -> its kustomization ("" for none)
    for file in walked:
        if os.path.basename(file) in NAMES:
            found.setdefault(os.path.dirname(file), file)  # kustomize refuses a directory with two
    for file in named:  # (a walk needs no stat: it listed the directories' names already)
        directory = os.path.dirname(file)
        if directory not in found:
            beside = [os.path.join(directory, name) for name in NAMES]
            found[directory] = next((path for path in beside if os.path.isfile(path)), "")
    kustomizations = []
    for directory, path in sorted(found.items()):
        value = _read(path) if path else None
        if value is not None:
            kustomizations.append((directory, value))
    users: dict[str, str] = {}  # Component directory -> a kustomization using it
    resources: set[str] = set()
    for directory, kustomization in kustomizations:
        for entry in _paths(kustomization, "components"):
            users.setdefault(key(os.path.join(directory, entry)), directory or ".")
        resources.update(key(os.path.join(directory, entry)) for entry in _paths(kustomization, "resources"))
    patches: dict[str, str] = {}
    for directory, kustomization in kustomizations:
        build = directory or "."
        if kustomization.get("kind") == "Component":
            build = users.get(key(directory), "")
        for field in ("patches", "patchesStrategicMerge", "patchesJson6902"):
            for entry in _paths(kustomization, field):
                patches.setdefault(key(os.path.join(directory, entry)), build)
    return {path: build for path, build in patches.items() if path not in resources}


def key(path: str) -> str:
    """How `patch_files` names a file."""
    return os.path.normpath(os.path.abspath(path))


def _read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as fh:
            kustomization = kubeyaml.load(read_within(fh, DEFAULT_MAX_FILE_SIZE).decode("utf-8"))
    except (OSError, UnicodeDecodeError, TooLarge, yaml.YAMLError, ValueError, TypeError, KeyError, IndexError,
            AttributeError, RecursionError):  # (the constructors' errors of a bad tag: `!!bool maybe`)
        return None  # a broken kustomization names nothing; it is reported when it is loaded
    return kustomization if isinstance(kustomization, dict) else None


def _paths(kustomization: dict[str, Any], field: str) -> list[str]:
    """The files (or directories) a field names. `patchesStrategicMerge` names files or holds
    inline patches; `patches` and `patchesJson6902` hold {path: FILE} or an inline {patch: ...}."""
    entries = kustomization.get(field)
    out = []
    for entry in entries if isinstance(entries, list) else []:
        file = entry.get("path") if isinstance(entry, dict) else entry
        if isinstance(file, str) and "\n" not in file:
            out.append(file)
    return out
