"""GitHub Actions workflow commands: one annotation line per reported finding.

`::error file=deploy/cart.yaml,line=14,col=5,title=ML101 port-protocol-unset::Service shop/cart: ...`
GitHub shows each one on the pull request's diff and in the run summary. The fix follows the
message on a second line of the annotation (an escaped newline, so it is still one log line).
Nothing else is printed, so the log stays clean. Findings read from stdin have no file in the
repository: their annotation has no file property and names `stdin:LINE:COLUMN` in its text;
those on live objects (`--kube`) name the object and its cluster instead. A finding whose
column is unknown (0) has no `col`.

Escaping (GitHub's runner `toolkit/packages/core/src/command.ts`): in the data `%`, `\\r`,
`\\n` become `%25`, `%0D`, `%0A`; property values also escape `:` and `,` (`%3A`, `%2C`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import live_place

if TYPE_CHECKING:
    from ..engine import Result
    from ..finding import Finding
    from . import RenderOptions

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    where = f"{f.resource.display()}: " if f.resource is not None else ""
    line = max(1, f.line)
    props: list[tuple[str, str]] = []
    if live_place(f):  # a live object: no file in the repository to annotate
        where = f"{live_place(f)}: "
    elif f.file in ("-", ""):
        where = f"stdin:{line}:{f.column}: {where}" if f.column else f"stdin:{line}: {where}"
    else:
        props += [("file", f.file.replace("\\", "/")), ("line", str(line))]
        if f.column:
            props.append(("col", str(f.column)))
    props.append(("title", f"{f.code} {f.name}"))
    data = f"{where}{f.message}\nhelp: {f.help}"
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{COMMANDS[f.severity.value]} {joined}::{escape_data(data)}"


def render(result: Result, options: RenderOptions) -> bytes:
    return "".join(annotation(f) + "\n" for f in result.reported).encode()
