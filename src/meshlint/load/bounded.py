"""Reading one input within a size limit: a file, a pipe, a device (`meshlint check /dev/zero`)
or stdin is never read whole before it is known to fit.

The default is far above any real input (the 25,000-service benchmark's `kubectl get -A -o
json` dump is 310 MB, and analysing it takes ~20x its size in memory) and far below what a
machine holds; `--max-file-size` raises it.
"""

from __future__ import annotations

import re
from typing import BinaryIO

DEFAULT_MAX_FILE_SIZE = 512 * 2**20
_CHUNK = 2**20  # what a stream of unknown size is read by
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class TooLarge(Exception):
    """The input holds more bytes than the limit."""


def read_within(stream: BinaryIO, limit: int, expected: int = 0) -> bytes:
    """All the bytes of `stream`, or TooLarge as soon as it holds more than `limit`. `expected`:
    its size when known (a regular file's), read in one call."""
    chunks: list[bytes] = []
    total = 0
    want = min(expected, limit) + 1 if expected else _CHUNK
    while True:
        chunk = stream.read(min(want, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)  # (one chunk is returned as it is, not copied)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise TooLarge
        want = _CHUNK


def parse_size(text: str) -> int:
    """`512M`, `2G`, `300MiB`, `1000000` -> bytes (K, M, G, T are powers of 1024). ValueError
    when it is no positive size."""
    m = re.fullmatch(r"\s*(\d{1,15})\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if m is None or int(m.group(1)) == 0:
        raise ValueError(f"{text!r} is not a size such as 512M or 2G")
    return int(m.group(1)) * _UNITS[m.group(2).upper()]


def format_size(size: int) -> str:
    """The size in its largest binary unit: 512 MiB, 1.5 GiB, 300 bytes."""
    for unit in ("T", "G", "M", "K"):
        if size >= _UNITS[unit]:
            return f"{size / _UNITS[unit]:.4g} {unit}iB"
    return f"{size} bytes"
