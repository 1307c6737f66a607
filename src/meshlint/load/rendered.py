"""Rendered Helm output keeps its origin: `helm template` writes `# Source: <chart>/templates/<file>`
above each document it renders, and a document of such a stream on stdin is attributed to that
template path.

The line is counted inside the rendered document, from the line after the `# Source:`
comment (line 1): the template itself is not in the input, and its `{{- if }}` lines and
expanded helpers move the rendered lines, so no line of the template can be named for sure;
the rendered document's own lines are exact, and match the template's wherever the template
has no action above them. Only an unnamed stream is attributed: a rendered file on disk, or
stdin given a name with --stdin-filename, keeps its own name and lines, which point at the
text that was checked.
"""

from __future__ import annotations

from ..resource import Document, Source

SOURCE_COMMENT = "# Source: "


def attributed(source: Source, documents: list[Document]) -> list[Document]:
    """`documents` of `source`, each one under a `# Source:` comment as a document of a source
    named by that path, starting on the line after the comment."""
    if SOURCE_COMMENT not in source.text:
        return documents
    templates: dict[str, Source] = {}
    out = []
    for document in documents:
        found = _source_comment(source.text, document)
        if found is None:
            out.append(document)
            continue
        path, start = found
        template = templates.get(path)
        if template is None:
            template = templates[path] = Source(path, source.text)  # the same text: offsets hold
        out.append(Document(template, start, document.end, 1, document.index))
    return out


def _source_comment(text: str, document: Document) -> tuple[str, int] | None:
    """(template path, offset of the line after the comment) when the `# Source:` comment is
    in the comments that open `document` (before its first content line)."""
    at = document.start
    while at < document.end:
        end = text.find("\n", at, document.end)
        end = document.end if end < 0 else end + 1
        line = text[at:end].strip()
        if line.startswith(SOURCE_COMMENT):
            path = line[len(SOURCE_COMMENT):].strip()
            return (path, end) if path else None
        if line and not line.startswith("#") and line != "---":
            return None
        at = end
    return None
