"""The file source: paths -> sources -> documents -> Resources and Problems.

Directories are walked, `-` reads stdin, bytes are decoded (a file that is not text is an
UNPARSABLE problem, and so is each document that does not parse), and each document, or each
item document of a `kind: List`, goes to `objects.py` with its `FileOrigin`. A template (Helm,
Jinja: `templates.py`) is skipped whole, with one note naming the command that renders it, and
so are the patch files of a kustomization (`kustomize.py`).
Only an unreadable path is an error (`LoadError`, exit code 2).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, BinaryIO

from ..resource import Document, FileOrigin, Origin, Source, display_path
from . import kustomize, lists, objects, parse, templates
from .bounded import DEFAULT_MAX_FILE_SIZE, TooLarge, format_size, read_within
from .parse import ItemDocuments, ParseError
from .result import Loaded, Problem, ProblemKind, Skipped
from .split import split

EXTENSIONS = (".yaml", ".yml", ".json")


class LoadError(Exception):
    """A path that cannot be read at all (exit code 2)."""


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


def read_source(path: str, stdin: BinaryIO | None = None, stdin_name: str = "-",
                max_size: int = DEFAULT_MAX_FILE_SIZE, data: bytes | None = None) -> tuple[Source, Problem | None]:
    """Read and decode one input (`-`: stdin, named `stdin_name`) of at most `max_size` bytes
    (LoadError beyond), or decode `data` given for it (`meshlint fix` checks the texts it
    would write). Undecodable bytes give an UNPARSABLE problem (the text is kept, with
    replacement characters, so the other documents of the file are still analysed)."""
    try:
        if data is None and path == "-":
            data = read_within(stdin or sys.stdin.buffer, max_size)
        elif data is None:
            with open(path, "rb", buffering=0) as fh:
                data = read_within(fh, max_size, os.fstat(fh.fileno()).st_size)
    except OSError as exc:
        raise LoadError(f"{path}: {exc.strerror or exc}") from None
    except TooLarge:
        raise LoadError(f"{path}: over the {format_size(max_size)} limit (set it with --max-file-size)") from None
    text, (problem_line, problem_column), why = decode(data)
    source = Source(display_path(stdin_name), text) if path == "-" else Source(display_path(path), text, path)
    if why:
        doc = Document(source, 0, len(text), 1, 0)
        return source, Problem(ProblemKind.UNPARSABLE, FileOrigin(doc), why, line=problem_line, column=problem_column)
    return source, None


def decode(data: bytes) -> tuple[str, tuple[int, int], str]:
    """Bytes -> text. Returns (text, 1-based line and column of the first problem, problem or
    "").

    A file is binary when its first 8 KiB hold NUL bytes and either bytes that are not UTF-8
    (every image or archive) or NULs in more than 1 of 100 bytes; a stray NUL in text costs
    only the document holding it, which the parser refuses. Line breaks are YAML's: a CR alone
    is one, as are CR LF and LF, so CR-only files are split and located by their lines."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _lines(data.decode("utf-16")), (0, 0), ""
        except UnicodeDecodeError:
            return "", (1, 1), "file is not valid UTF-16 text"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    head = data[:8192]
    nuls = head.count(b"\x00")
    if nuls * 100 > len(head):
        return "", (1, 1), "binary file: not YAML or JSON text"
    try:
        return _lines(data.decode("utf-8")), (0, 0), ""
    except UnicodeDecodeError as exc:
        if nuls:
            return "", (1, 1), "binary file: not YAML or JSON text"
        text = _lines(data.decode("utf-8", errors="replace"))
        at = len(data[:exc.start].decode("utf-8", errors="replace"))  # in characters
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        return (text, (line, column), f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
                                      "the document holding it is not analysed")


def _lines(text: str) -> str:
    """`text` with each CR that is a line break on its own written LF (YAML 1.2, 5.4: CR LF, CR
    and LF are line breaks), so that documents are split and lines counted as a parser sees
    them. CR LF stays as it is."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return re.sub(r"\r(?!\n)", "\n", text)
    return text


def load(paths: Iterable[str], default_namespace: str = "default", stdin: BinaryIO | None = None,
         progress: Callable[[int, int], None] | None = None, stdin_name: str = "-",
         max_file_size: int = DEFAULT_MAX_FILE_SIZE, texts: Mapping[str, bytes] | None = None) -> Loaded:
    """Read every file under `paths` (`-`: stdin, named `stdin_name`) into resources and
    problems; `texts`: the bytes to read instead of some of them, by path as discovered.
    Raises LoadError when a path cannot be read, or holds more than `max_file_size` bytes."""
    paths = list(paths)
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
    report = _Reporter(progress, total)
    patches = kustomize.patch_files(files + skipped, [p for p in paths if p != "-" and not os.path.isdir(p)])
    patched: dict[str, int] = {}  # kustomization directory -> patch files skipped
    for path in files:
        source, problem = read_source(path, stdin, stdin_name, max_file_size, texts.get(path) if texts else None)
        report.start(source, path)
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
        build = patches.get(kustomize.key(path)) if patches and path != "-" else None
        if build is not None:
            why = f"a kustomize patch (a partial object): {_build_hint(build)}"
            out.skipped.extend(Skipped(FileOrigin(doc), why) for doc in split(source))
            patched[build] = patched.get(build, 0) + 1
            continue
        first = re.search(r"\S", source.text)
        as_json = path.lower().endswith(".json") or (first is not None and first.group(0) in ("{", "["))
        documents: Iterable[tuple[Document, Any, ParseError | None, ItemDocuments]]
        # an unnamed stream keeps the origin `helm template` writes above each document
        helm_origins = path == "-" and stdin_name == "-" and problem is None
        documents = parse.iter_documents(source, as_json, fast, helm_origins)
        if templates.has_placeholders(source.text):
            if templates.structural_placeholder(source.text):
                _skip_template(out, source)
                continue
            documents = list(documents)  # every object's identity is read before any is added
            if templates.identity_placeholder(value for _, value, error, _ in documents if error is None):
                _skip_template(out, source)
                continue
        for doc, value, error, items in documents:
            report.parsed(doc)
            if bad_line and _contains_line(doc, bad_line):
                continue  # holds the undecodable byte: already reported
            if error is not None:
                out.problems.append(Problem(ProblemKind.UNPARSABLE, FileOrigin(doc), error.message, line=error.line,
                                            column=error.column))
                continue
            objects.add_value(out, value, FileOrigin(doc), default_namespace, _item_origins(items))
    for build, count in patched.items():
        patch_files = f"{count} kustomize patch file{'s' if count != 1 else ''}"
        out.notes.append(f"{build}: {patch_files} skipped: {_build_hint(build)}" if build else
                         f"{patch_files} of a Component skipped: {_build_hint(build)}")
    return out


def _build_hint(build: str) -> str:
    if build:
        return f"check `kustomize build {build}` instead"
    return "check `kustomize build` of a kustomization that uses it instead"


def _skip_template(out: Loaded, source: Source) -> None:
    """A template is not a manifest: one note for the file, each of its documents skipped."""
    hint = templates.render_hint(source.path or source.name, source.text)
    out.notes.append(f"{source.name}: {hint}")
    out.skipped.extend(Skipped(FileOrigin(doc), hint) for doc in split(source))


class _Reporter:
    """Progress in characters read, so that one big file or stdin moves the bar too: reported
    as each document is parsed, at most every PROGRESS_STEP characters."""

    PROGRESS_STEP = 1 << 20

    def __init__(self, progress: Callable[[int, int], None] | None, total: int) -> None:
        self._progress, self._total = progress, total
        self._done = 0  # characters of the files read before the current one
        self._current = 0  # the current file's length
        self._shown = 0

    def start(self, source: Source, path: str) -> None:
        self._done += self._current
        self._current = len(source.text)
        if path == "-":  # stdin's size is known once it is read
            self._total += self._current
        self._show(self._done)

    def parsed(self, doc: Document) -> None:
        at = self._done + doc.end
        if at - self._shown >= self.PROGRESS_STEP:
            self._show(at)

    def _show(self, at: int) -> None:
        if self._progress is not None:
            self._shown = at
            self._progress(at, max(self._total, at))


def _size(path: str) -> int:
    if path == "-":
        return 0
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _contains_line(doc: Document, line: int) -> bool:
    return doc.line <= line <= doc.line + doc.text.count("\n")


def _item_origins(items: ItemDocuments) -> list[Origin] | None:
    """Where each item of a List the parser cut into item documents is: in its own document."""
    if not items:
        return None
    path = lists.item_path(items[0])
    return [FileOrigin(item, path) for item in items]
