"""Sources -> resources: files, directories, stdin; YAML streams, JSON, `*List` dumps.

Nothing here raises on bad input: unparsable documents become UNPARSABLE problems, objects
that are broken (or whose fields have the wrong type) INVALID_OBJECT problems, and every other
document is still loaded. Documents that are not Kubernetes objects at all (chart values, CI
configuration, kustomizations, templates) are skipped, each with its reason. Only an
unreadable path is an error (exit code 2).
Which rule reports a kind of problem, under which code, is the rules' business (`rules/`).

- `files.py`: the file source (discover, read and decode, then each document's objects);
- `split.py`, `sniff.py`, `lists.py`, `parse.py`: a source's text -> parsed documents;
- `objects.py`: parsed objects + their origin -> Resources or Problems, needing no text (the
  seam a live cluster source plugs into);
- `schema.py`: the types of the fields rules read; `result.py`: what loading gives back;
- `context_files.py`: `--mesh-config` and `--call-graph`.
"""

from .files import LoadError, load, read_source
from .result import Loaded, Problem, ProblemKind, Skipped

__all__ = ["LoadError", "Loaded", "Problem", "ProblemKind", "Skipped", "load", "read_source"]
