"""Baselines: adopt meshlint on a large repository and fail only on new findings.

`--write-baseline FILE` records the findings reported today; `--baseline FILE` then marks each
finding that the baseline records as suppressed ("baseline"), so only new ones count towards the
exit code. A finding is matched by what it is, not where: its code and variant, its file, its
resource and its message, never its line, so that edits elsewhere in a file keep it matched.
Each recorded finding matches once: a second, identical finding is new.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from .finding import Finding

FORMAT_VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or written (exit code 2)."""


Key = tuple[str, str, str, str, str]


def key(f: Finding) -> Key:
    """What identifies a finding across edits: code, variant, file, resource, message."""
    where = os.path.normpath(f.file) if f.file else ""
    resource = f.resource.display() if f.resource is not None else ""
    return (f.code, f.variant, where, resource, f.message)


def write(path: str, findings: Iterable[Finding]) -> int:
    """Record the findings (the reported ones) in `path`. Returns how many."""
    entries = sorted(key(f) for f in findings if not f.suppressed)
    doc = {"meshlint-baseline": FORMAT_VERSION,
           "findings": [dict(zip(("code", "variant", "file", "resource", "message"), e)) for e in entries]}
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
    except OSError as exc:
        raise BaselineError(f"cannot write baseline {path}: {exc.strerror or exc}") from None
    return len(entries)


def read(path: str) -> Counter[Key]:
    """The findings a baseline file records, each with how many times."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc: Any = json.load(fh)
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BaselineError(f"baseline {path} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("meshlint-baseline") != FORMAT_VERSION or \
            not isinstance(doc.get("findings"), list):
        raise BaselineError(f"baseline {path} is not a meshlint baseline (write one with --write-baseline)")
    out: Counter[Key] = Counter()
    fields = ("code", "variant", "file", "resource", "message")
    for i, entry in enumerate(doc["findings"]):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in fields):
            raise BaselineError(f"baseline {path}: entry {i} must have the string fields {', '.join(fields)}")
        out[(entry["code"], entry["variant"], entry["file"], entry["resource"], entry["message"])] += 1
    return out


def apply(findings: Sequence[Finding], recorded: Counter[Key], name: str) -> tuple[list[Finding], int]:
    """The findings with those the baseline records marked suppressed, and how many recorded
    findings no longer occur (fixed since, or changed)."""
    left = Counter(recorded)
    out = []
    for f in findings:
        k = key(f)
        if not f.suppressed and left[k] > 0:
            left[k] -= 1
            f = replace(f, suppressed=f"baseline {name}")
        out.append(f)
    return out, sum(left.values())
