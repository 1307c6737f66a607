"""Sources -> resources: files, directories, stdin; YAML streams, JSON, `*List` dumps.

Nothing here raises on bad input: unparsable documents become UNPARSABLE problems, documents
that are not Kubernetes objects (or whose fields have the wrong type) INVALID_OBJECT problems,
and every other document is still loaded. Only an unreadable path is an error (exit code 2).
Which rule reports a kind of problem, under which code, is the rules' business (`rules/`).
"""

from __future__ import annotations

import enum
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..resource import CLUSTER_SCOPED, Document, Ref, Resource, Source, kind_key
from . import lists, parse, schema

EXTENSIONS = (".yaml", ".yml", ".json")


class ProblemKind(enum.Enum):
    """What is wrong with an input the loader could not turn into a resource."""

    UNPARSABLE = "unparsable"  # not text, not valid YAML/JSON, or an alias bomb
    INVALID_OBJECT = "invalid-object"  # not a Kubernetes object, or a field of the wrong type


class LoadError(Exception):
    """A path that cannot be read at all (exit code 2)."""


@dataclass(slots=True)
class Problem:
    """Bad input found while loading: a document that does not parse, or an object that is
    not valid."""

    kind: ProblemKind
    document: Document
    message: str
    path: tuple = ()  # field inside the document
    line: int = 0  # explicit line when known (parser errors), else resolved from path
    resource: Resource | None = None


@dataclass
class Loaded:
    sources: list[Source] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    count: int = 0  # Kubernetes objects seen, valid or not


def discover(paths: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    """Expand directories. Returns (files, skipped, errors); `-` stays `-` (stdin)."""
    files: list[str] = []
    skipped: list[str] = []
    errors: list[str] = []
    for path in paths:
        if path == "-":
            files.append(path)
            continue
        if os.path.isdir(path):
            _walk(path, files, skipped, errors)
        elif os.path.exists(path):
            files.append(path)  # named explicitly: read whatever its extension
        else:
            errors.append(f"{path}: no such file or directory")
    return files, skipped, errors


def _walk(top: str, files: list[str], skipped: list[str], errors: list[str]) -> None:
    """Recursive walk that follows symlinked directories but never loops."""
    seen: set[tuple[int, int]] = set()

    def onerror(exc: OSError) -> None:
        errors.append(f"{exc.filename}: {exc.strerror}")

    for root, dirs, names in os.walk(top, followlinks=True, onerror=onerror):
        try:
            st = os.stat(root)
        except OSError as exc:
            errors.append(f"{root}: {exc.strerror}")
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            full = os.path.join(root, name)
            if name.lower().endswith(EXTENSIONS):
                if os.path.isfile(full):
                    files.append(full)
            elif not name.startswith("."):
                skipped.append(full)


def read_source(path: str, stdin: BinaryIO | None = None) -> tuple[Source, Problem | None]:
    """Read and decode one input. Undecodable bytes give an UNPARSABLE problem (the text is kept,
    with replacement characters, so the other documents of the file are still analysed)."""
    if path == "-":
        data = (stdin or sys.stdin.buffer).read()
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise LoadError(f"{path}: {exc.strerror or exc}") from None
    text, problem_line, why = decode(data)
    source = Source(path, text, None if path == "-" else path)
    if why:
        doc = Document(source, 0, len(text), 1, 0)
        return source, Problem(ProblemKind.UNPARSABLE, doc, why, line=problem_line)
    return source, None


def decode(data: bytes) -> tuple[str, int, str]:
    """Bytes -> text. Returns (text, line of the first problem, problem or "")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), 0, ""
        except UnicodeDecodeError:
            return "", 1, "file is not valid UTF-16 text"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:8192]:
        return "", 1, "binary file: not YAML or JSON text"
    try:
        return data.decode("utf-8"), 0, ""
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return (data.decode("utf-8", errors="replace"), line,
                f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
                "the document holding it is not analysed")


def load(paths: Iterable[str], default_namespace: str = "default",
         stdin: BinaryIO | None = None, progress: Callable[[int, int], None] | None = None) -> Loaded:
    files, skipped, errors = discover(paths)
    if errors:
        raise LoadError("; ".join(errors))
    out = Loaded()
    if skipped:
        example = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        out.notes.append(f"skipped {len(skipped)} file(s) that are not .yaml/.yml/.json: {example}")
    # the fast parsers pay for their import on inputs of some size: decide on the whole input
    total = sum(_size(path) for path in files)
    fast = total >= parse.FAST_PATH_MIN_BYTES or None  # None: decide per source (stdin)
    for number, path in enumerate(files):
        if progress is not None:
            progress(number, len(files))
        source, problem = read_source(path, stdin)
        out.sources.append(source)
        bad_line = 0
        if problem is not None:
            out.problems.append(problem)
            bad_line = problem.line
            if not source.text:
                continue
        if not source.text or source.text.isspace():  # (no copy of a large text)
            out.notes.append(f"{path}: no documents")
            continue
        first = re.search(r"\S", source.text)
        as_json = path.lower().endswith(".json") or (first is not None and first.group(0) in ("{", "["))
        for doc, value, error, items in parse.iter_documents(source, as_json, fast):
            if bad_line and _contains_line(doc, bad_line):
                continue  # holds the undecodable byte: already reported
            if error is not None:
                out.problems.append(Problem(ProblemKind.UNPARSABLE, doc, error.message, line=error.line))
                continue
            _add_document(out, doc, value, default_namespace, items)

    return out


def _size(path: str) -> int:
    if path == "-":
        return 0
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _contains_line(doc: Document, line: int) -> bool:
    return doc.line <= line <= doc.line + doc.text.count("\n")


def _add_document(out: Loaded, doc: Document, value: Any, default_namespace: str,
                  item_docs: list[Document] | None = None) -> None:
    if value is None:
        return  # empty, or comments only
    if not isinstance(value, dict):
        what = "a list" if isinstance(value, list) else schema.describe(value)
        out.problems.append(Problem(ProblemKind.INVALID_OBJECT, doc, f"document is {what}, not a Kubernetes object"))
        return
    kind = value.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in value:
        items = value.get("items")
        if items is None:
            return
        if not isinstance(items, list):
            out.problems.append(Problem(ProblemKind.INVALID_OBJECT, doc, f"{kind} items must be a list, not {schema.describe(items)}",
                                        path=("items",)))
            return
        list_version = value.get("apiVersion")
        item_kind = kind[:-4] if kind != "List" else None
        # each item as a document of its own (as the parser cut them), so that locating a
        # finding reads one item
        if item_docs is not None and len(item_docs) != len(items):
            item_docs = None
        item_path = lists.item_path(item_docs[0]) if item_docs else ()
        for i, item in enumerate(items):
            # typed lists (`ServiceList`) from the API omit each item's kind and apiVersion
            if isinstance(item, dict) and item_kind and isinstance(list_version, str) \
                    and ("kind" not in item or "apiVersion" not in item):
                item = {"apiVersion": list_version, "kind": item_kind, **item}
            if item_docs is not None:
                _add_object(out, item_docs[i], item, item_path, default_namespace)
            else:
                _add_object(out, doc, item, ("items", i), default_namespace)
        return
    _add_object(out, doc, value, (), default_namespace)


def _add_object(out: Loaded, doc: Document, obj: Any, prefix: tuple, default_namespace: str) -> None:
    out.count += 1
    if not isinstance(obj, dict):
        out.problems.append(Problem(ProblemKind.INVALID_OBJECT, doc, f"list item is {schema.describe(obj)}, not a Kubernetes object",
                                    path=prefix))
        return
    missing = [f for f in ("apiVersion", "kind") if not isinstance(obj.get(f), str) or not obj.get(f)]
    meta = obj.get("metadata")
    name = meta.get("name") or meta.get("generateName") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        missing.append("metadata.name")
    if missing:
        label = obj.get("kind") if isinstance(obj.get("kind"), str) else "document"
        where = prefix + (("metadata",) if "metadata.name" in missing and isinstance(meta, dict) else ())
        out.problems.append(Problem(ProblemKind.INVALID_OBJECT, doc, f"{label} has no {', '.join(missing)}", path=where))
        return
    assert isinstance(meta, dict) and isinstance(name, str)  # a name was found in it above
    api_version, kind = obj["apiVersion"], obj["kind"]
    key = kind_key(api_version, kind)
    namespace = meta.get("namespace")
    if kind in CLUSTER_SCOPED:
        namespace = ""
    elif not isinstance(namespace, str) or not namespace:
        namespace = default_namespace
    resource = Resource(raw=obj, ref=Ref(key, namespace, name), api_version=api_version,
                        document=doc, prefix=prefix, kind_name=kind, _meta=meta)
    error = schema.check(key, obj)
    if error is not None:
        path, expected = error
        value = _get(obj, path)
        field_name = _dotted(path)
        out.problems.append(Problem(ProblemKind.INVALID_OBJECT, doc, f"{field_name} must be {expected}, not {schema.describe(value)}",
                                    path=prefix + path, resource=resource))
        return
    if key == "ConfigMap":
        for data_key, why in _embedded_errors(resource):
            out.problems.append(Problem(ProblemKind.INVALID_OBJECT, doc, why, path=prefix + ("data", data_key), resource=resource))
            return
    out.resources.append(resource)


def _embedded_errors(cm: Resource) -> list[tuple[str, str]]:
    """Istio's own ConfigMaps hold YAML/JSON as text; it must parse (istiod refuses it)."""
    from ..mesh.meshconfig import embedded

    name = cm.name
    keys: tuple[str, ...]
    if name.startswith("istio-sidecar-injector"):
        keys = ("config", "values")
    elif name == "istio" or name.startswith("istio-"):
        keys = ("mesh",)
    else:
        return []
    errors = []
    for key in keys:
        _, why = embedded(cm, key)
        if why:
            errors.append((key, why))
    return errors


def _get(obj: Any, path: tuple) -> Any:
    for step in path:
        obj = obj[step]
    return obj


def _dotted(path: tuple) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out
