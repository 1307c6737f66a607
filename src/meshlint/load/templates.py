"""Templates are not manifests: files whose placeholders are filled in as text before the YAML
is read (Helm's Go templates, Jinja for Ansible), told apart from manifests that carry
placeholders inside their strings for a program to fill in later.

Many real manifests hold `{{ }}` legitimately, inside string values: Prometheus and
Alertmanager templates (`summary: "{{ $labels.instance }} is down"`, `{{ range .Alerts }}` in a
ConfigMap's block scalar), Grafana legend formats, Argo Workflows' `{{inputs.parameters.x}}`,
Kyverno's `{{request.object.metadata.name}}`. They are read as YAML first, so their
placeholders sit where a string can be, and they are analysed as usual.

A text template shows itself by a placeholder where a string cannot be, or cannot be for
Kubernetes. Outside comments, block scalars (`|`, `>`) and the lines a multi-line string
continues on, a file is a template when:

- a line starts with `{{` or `{%` (`{{- if .Values.enabled }}`, `{{ include "x" . | nindent 4 }}`,
  `{% for %}`, a placeholder as a key);
- an unquoted value or list item starts with one (`replicas: {{ .Values.replicas }}`): read as
  YAML first, it would be a flow mapping. Except a placeholder a controller fills in the stored
  object (Argo's `{{inputs.x}}`, `{{args.x}}`, Kyverno's `{{request.x}}`): that file is read as
  YAML by kubectl, and an unquoted one is the YAML error kubectl reports too (ML001);
- it references Helm's built-in objects (`.Values`, `.Release`, `.Chart`, `.Capabilities`,
  `.Files`, `.Template`) inside a placeholder, even in a string or a block scalar;
- or, once parsed, an object's identity holds a placeholder (apiVersion, kind, metadata.name,
  namespace, generateName, labels): the API server allows no braces there, so something must
  fill them in before the object is applied (a Jinja Namespace named `"{{ item }}"`).

Only files that contain `{{` or `{%` are looked at (found in C: `has_placeholders`), so a
large clean input pays nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

OPENERS = ("{{", "{%")
_OPENING = re.compile(r"\{[{%]")
# The patterns below are only needed once a file holds placeholders: compiled then, by `re`'s
# cache, so that `meshlint check one.yaml` does not pay for them at startup.
# Helm's built-in objects (helm.sh/docs/chart_template_guide/builtin_objects), in a placeholder
_HELM_OBJECTS = r"\{\{[^}]*?(?<![\w.])\$?\.(?:Values|Release|Chart|Capabilities|Files|Template)\b"
# Helm's own template functions, which mark a Helm template for the note even without an object
_HELM_FUNCTIONS = r"\{\{-?\s*(?:include|tpl|required)\s"
# Placeholders a controller fills in the object it reads back from the API server: Argo
# Workflows (inputs, outputs, steps, tasks, workflow, pod, node, retries, lastRetry,
# cronworkflow), Argo Rollouts analysis (args), Kyverno (request, element, images).
_RUNTIME = (r"\{\{\s*=?\s*(?:inputs|outputs|steps|tasks|workflow|pod|node|retries|lastRetry|cronworkflow"
            r"|args|request|element|images)\b")
_BLOCK_SCALAR = r"[|>][0-9+-]*(?:\s+#.*)?"
_MARKER = r"(?:---|\.\.\.)(?:[ \t]|$)"
_IDENTITY = ("name", "namespace", "generateName")


def has_placeholders(text: str) -> bool:
    """Does `text` hold `{{` or `{%` anywhere? (The only test a file without them pays.)"""
    # A single "{" is found with memchr (0.3 ms on a 15 MB stream), and most large inputs
    # have none; a two-character `in` costs ~25 ms there, the regex ~7 ms.
    return "{" in text and _OPENING.search(text) is not None


def structural_placeholder(text: str) -> int:
    """The 1-based line of the first placeholder that makes `text` a template (see the module's
    docstring), or 0."""
    scalar = -1  # lines indented deeper than this go on a block or plain scalar above them
    quote = ""  # inside a quoted scalar that goes on on the next lines: its quote character
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        content = line.lstrip(" ")
        indent = len(line) - len(content)
        if "{{" in content and re.search(_HELM_OBJECTS, content) and not content.startswith("#"):
            return number
        if quote:
            if _closing_quote(content, 0, quote) >= 0:
                quote = ""
            continue
        if scalar >= 0:
            if not content.strip() or indent > scalar:
                continue
            scalar = -1
        if not content or content.startswith("#") or re.match(_MARKER, content):
            continue
        if content.startswith(OPENERS):
            return number  # a whole-line action, or a placeholder as a key
        owner = indent  # the column of the node that owns the value on this line
        while content.startswith("- ") or content == "-":  # list items, possibly nested
            owner = len(line) - len(content)
            content = content[1:].lstrip(" ")
        key_value = _split_key(content)
        if key_value is not None:
            owner, value = len(line) - len(content), key_value
        else:
            value = content  # a list item's scalar or flow value
        if not value:
            continue
        if value.startswith(OPENERS):
            if not re.match(_RUNTIME, value):
                return number
        elif re.fullmatch(_BLOCK_SCALAR, value):
            scalar = owner
        elif value[0] in "\"'":
            if _closing_quote(value, 1, value[0]) < 0:
                quote = value[0]
        elif value[0] not in "[{&*!#":
            scalar = owner
    return 0


def _split_key(content: str) -> str | None:
    """The value of a `key: value` line, stripped ("" when it is on the next lines); None when
    the line is not a mapping entry."""
    if content[:1] in "\"'":
        end = _closing_quote(content, 1, content[0])
        if end < 0 or content[end:end + 1] != ":":
            return None
        return content[end + 1:].strip()
    if content[:1] in "[{":
        return None
    at = content.find(": ")
    if at < 0:
        return "" if content.endswith(":") else None
    return content[at + 1:].strip()


def _closing_quote(text: str, start: int, quote: str) -> int:
    """The index after the quote that closes a scalar opened before `start`, or -1."""
    i = start
    while True:
        i = text.find(quote, i)
        if i < 0:
            return -1
        if quote == '"' and _escaped(text, i):
            i += 1
            continue
        if quote == "'" and text.startswith("''", i):
            i += 2  # an escaped single quote
            continue
        return i + 1


def _escaped(text: str, i: int) -> bool:
    backslashes = 0
    while i > backslashes and text[i - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def identity_placeholder(values: Iterable[Any]) -> bool:
    """Does a parsed object's identity (apiVersion, kind, name, namespace, labels) hold a
    placeholder? Kubernetes allows no braces there."""
    for value in values:
        if not isinstance(value, dict):
            continue
        meta = value.get("metadata")
        fields = [value.get("apiVersion"), value.get("kind")]
        if isinstance(meta, dict):
            fields += [meta.get(key) for key in _IDENTITY]
            labels = meta.get("labels")
            if isinstance(labels, dict):
                fields += [*labels, *labels.values()]
        if any(isinstance(f, str) and has_placeholders(f) for f in fields):
            return True
    return False


def render_hint(path: str, text: str) -> str:
    """What the note about a skipped template tells the user to do."""
    chart = chart_of(path)
    if chart:
        return f"Helm template, not a manifest: check `helm template {chart}` instead"
    if re.search(_HELM_OBJECTS, text) or re.search(_HELM_FUNCTIONS, text):
        return "Helm template, not a manifest: check what `helm template <its chart>` renders"
    return "holds template placeholders, not a manifest: render it first (Jinja, Ansible) and check the result"


def chart_of(path: str) -> str:
    """The chart directory of a file under its `templates/` directory (beside `Chart.yaml`),
    relative to the working directory when `path` is; "" when it is not in a chart."""
    directory = os.path.dirname(os.path.abspath(path))
    while os.path.basename(directory) != "templates":
        parent = os.path.dirname(directory)
        if parent == directory:
            return ""
        directory = parent
    chart = os.path.dirname(directory)
    if not os.path.isfile(os.path.join(chart, "Chart.yaml")):
        return ""
    return chart if os.path.isabs(path) else os.path.relpath(chart)
