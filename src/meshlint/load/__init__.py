"""Sources -> resources: files, directories, stdin; YAML streams, JSON, `*List` dumps.

Nothing here raises on bad input: unparsable documents become UNPARSABLE problems, documents
that are not Kubernetes objects (or whose fields have the wrong type) INVALID_OBJECT problems,
and every other document is still loaded. Only an unreadable path is an error (exit code 2).
Which rule reports a kind of problem, under which code, is the rules' business (`rules/`).

- `files.py`: the file source (discover, read and decode, then each document's objects);
- `split.py`, `sniff.py`, `lists.py`, `parse.py`: a source's text -> parsed documents;
- `objects.py`: parsed objects + their origin -> Resources or Problems, needing no text (the
  seam a live cluster source plugs into);
- `bounded.py`: reading one input within the size limit (`--max-file-size`);
- `schema.py`: the types of the fields rules read; `result.py`: what loading gives back;
- `context_files.py`: `--mesh-config` and `--call-graph`.
"""

from .files import LoadError, load, read_source
from .result import Loaded, Problem, ProblemKind

__all__ = ["LoadError", "Loaded", "Problem", "ProblemKind", "load", "read_source"]
