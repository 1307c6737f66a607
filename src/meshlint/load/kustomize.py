"""kustomize's patches in the input: partial objects, not manifests.

A kustomization lists the files it patches its resources with (`patches:`,
`patchesStrategicMerge:`, `patchesJson6902:`). A strategic-merge patch looks like an object
but holds only the fields it changes: analysed alone, a patched Service's ports or a patched
Deployment's annotations say nothing true about what is applied, so what `kustomize build`
renders is what must be checked. JSON 6902 patches are lists, skipped as any list is; naming
them here gives the better reason. Files under `resources:` stay manifests, even when another
kustomization patches with them.

The kustomizations read are those in the directories of the input's files (so a patch named on
the command line, as pre-commit does, is recognised too).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import yaml

from .kubeyaml import KubeLoader

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def patch_files(files: Iterable[str]) -> dict[str, str]:
    """The patch files among `files`: normalised absolute path -> the directory of the
    kustomization that names it (as the input names that directory)."""
    patches: dict[str, str] = {}
    resources: set[str] = set()
    for directory in sorted({os.path.dirname(f) for f in files if f != "-"}):
        for name in NAMES:
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                _read(path, directory, patches, resources)
                break  # kustomize refuses a directory with more than one
    return {path: directory for path, directory in patches.items() if path not in resources}


def key(path: str) -> str:
    """How `patch_files` names a file."""
    return os.path.normpath(os.path.abspath(path))


def _read(path: str, directory: str, patches: dict[str, str], resources: set[str]) -> None:
    try:
        with open(path, encoding="utf-8") as fh:
            kustomization = yaml.load(fh.read(), Loader=KubeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError):
        return  # a broken kustomization names nothing; it is reported when it is loaded
    if not isinstance(kustomization, dict):
        return
    for entry in _entries(kustomization, "resources"):
        if isinstance(entry, str):
            resources.add(key(os.path.join(directory, entry)))
    for field in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        for entry in _entries(kustomization, field):
            # `patchesStrategicMerge` names files or holds inline patches; `patches` and
            # `patchesJson6902` hold {path: FILE} or an inline {patch: ...}
            file = entry.get("path") if isinstance(entry, dict) else entry
            if isinstance(file, str) and "\n" not in file:
                patches.setdefault(key(os.path.join(directory, file)), directory or ".")


def _entries(kustomization: dict[str, Any], field: str) -> list[Any]:
    entries = kustomization.get(field)
    return entries if isinstance(entries, list) else []
