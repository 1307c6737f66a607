"""Sources -> resources: files, directories, stdin; YAML streams, JSON, `*List` dumps.

Nothing here raises on bad input: unparsable documents become UNPARSABLE problems, objects
that are broken (or whose fields have the wrong type) INVALID_OBJECT problems, and every other
document is still loaded. Documents that are not Kubernetes objects at all (chart values, CI
configuration, kustomizations, templates) are skipped, each with its reason. Only an
unreadable path is an error (exit code 2).
Which rule reports a kind of problem, under which code, is the rules' business (`rules/`).

- `files.py`: the file source (discover, read and decode, then each document's objects);
- `templates.py`, `kustomize.py`: files that are not manifests although they look like some
  (templates to render, kustomize patches);
- `split.py`, `rendered.py`, `sniff.py`, `lists.py`, `parse.py`, `kubeyaml.py`: a source's
  text -> parsed documents (each with its origin, a Helm template's for rendered output),
  read as Kubernetes reads YAML;
- `objects.py`: parsed objects + their origin -> Resources, Problems or Skipped, needing no text (the
  seam a live cluster source plugs into);
- `bounded.py`: reading one input within the size limit (`--max-file-size`);
- `schema.py`: the types of the fields rules read; `result.py`: what loading gives back;
- `context_files.py`: `--mesh-config` and `--call-graph`;
- `kube.py`: the live cluster (`--kube`), the objects the selected rules read, each handed to
  `objects.py` with a `LiveOrigin`; the files given beside it overlay them.
"""

from .files import LoadError, load, read_source
from .result import ClusterError, Loaded, Problem, ProblemKind, Skipped

__all__ = ["ClusterError", "LoadError", "Loaded", "Problem", "ProblemKind", "Skipped", "load", "read_source"]
