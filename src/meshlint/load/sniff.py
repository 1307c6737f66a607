"""The YAML 1.2 vs Kubernetes sniff: which documents the fast parser (yaml_rs) may read, which
must go to PyYAML.

The fast parser follows YAML 1.2; Kubernetes (sigs.k8s.io/yaml over go-yaml v2) types plain
scalars partly as YAML 1.1 does, and PyYAML reads them as Kubernetes does (`kubeyaml.py`).
They agree on everything a manifest normally holds. Where they could differ, the document
goes to PyYAML: a plain scalar that Kubernetes reads as a boolean (y/n/yes/no/on/off) or as a
number YAML 1.2 reads differently (leading zero, 0o/0b, underscores, an integer beyond 64
bits, an exponent that may overflow), merge keys, anchors, aliases, tags, complex or flow
keys, template braces, directives. Sexagesimal `1:30` and dates are read alike (strings). The
patterns are deliberately broad (a false alarm only costs PyYAML's speed).

The sniff reads the whole input once more, so it is written for speed: every pattern starts
with a literal (the regex engine then skips to its next occurrence in C), repetitions are
possessive (`*+`, Python >= 3.11: no backtracking state per line), a one-character gate
precedes the alternations, and rare single characters are found with str.find (memchr).
"""

from __future__ import annotations

import bisect
import re

_END = r"(?=[ \t]*+(?:$|[,\]}#]|:(?:[ \t]|$)))"  # where a plain scalar ends
_BOOL = r"[yYnNoO](?:[eEoOnNfF][sSfF]?+)?+"  # y/Y/yes/Yes/YES n/no/... on/On/ON off/Off/OFF, and a few more
_NUMBER = (  # whole plain scalars that Kubernetes (PyYAML) and YAML 1.2 (yaml_rs) type differently
    r"[-+]?+(?:0[0-9_]++(?:\.[0-9_]*+)?+"  # leading zero: octal in YAML 1.1
    r"|[0-9]{19}[0-9]*+(?:\.[0-9]*+)?+"  # beyond 64 bits: a float for Kubernetes (or beyond a float)
    r"|0[oObBxX][0-9a-fA-F_]*+"  # 0o/0b prefixes (and hex with underscores)
    r"|[0-9.][0-9a-fA-FxX.]*+_[0-9a-fA-FxX._]*+|_[0-9a-fA-F._]*+"  # underscores
    r"|(?:[0-9][0-9_]*+)?+(?:\.[0-9_]*+)?+[eE][-+]?+[0-9]++"  # exponents: beyond a float, a string
    r"|\.[0-9_]++(?:[eE][-+]?+[0-9]++)?+"  # a signed leading dot
    r")"
)
_GATE = "(?=[yYnNoO0-9+._-])"  # the first character of anything risky
_SCALAR_BODY = "(?:" + _BOOL + "|" + _NUMBER + ")" + _END
_SCALAR = _GATE + _SCALAR_BODY
_KEY = (  # a block key Kubernetes reads as a boolean or a number: `on:`, `0755:`
    r"(?:" + _BOOL + r"|(?:[0-9+._]|-[^ \n])[^\s:]*+)[ \t]*+:(?:[ \t]|$)"
)
_SNIFF_PATTERNS = (
    # a plain scalar in value position: after "key: ", "- ", or inside a flow collection
    r":[ \t]++" + _SCALAR, r"-[ \t]++" + _SCALAR,
    r"\[[ \t]*+" + _SCALAR, r"\{[ \t]*+" + _SCALAR, r",[ \t]*+" + _SCALAR,
    # a flow collection that goes on on the next line (its items then start a line)
    r"\[[ \t]*+$", r"\{[ \t]*+$", r",[ \t]*+$",
    # at the start of a line (or of a list item, or after `---`): a key YAML 1.1 reads as a
    # boolean or a number, or a value alone on its line (`key:` then `  yes` below it)
    r"\n[ \t]*+(?:- ++)*+" + _GATE + "(?:" + _KEY + "|" + _SCALAR_BODY + ")",
    r"\n---[ \t]++(?:- ++)*+" + _GATE + "(?:" + _KEY + "|" + _SCALAR_BODY + ")",
)
# A tag or an anchor only starts a node after one of these characters (or whitespace).
_NODE_START = "[{,"
# merge keys, templates, complex and flow keys, directives, each found by its rarer character:
# (literal, offset of that character in it)
_LITERALS = (("<<", 0), ("{{", 0), ("? ", 0), ("]:", 0), ("}:", 0), ("\n%", 1))
_sniffs: list = []  # compiled on first use


def _compiled_sniffs() -> list:
    if not _sniffs:
        _sniffs.extend(re.compile(p, re.M) for p in _SNIFF_PATTERNS)
    return _sniffs


class Sniffer:
    """Offsets in a source where the fast parser and PyYAML might disagree."""

    def __init__(self, text: str) -> None:
        # Each hit is an offset inside the risky construct, so inside its document. Patterns
        # that start with "\n" hit at the line after it; the first line of the text, which has
        # no "\n" before it, is searched again with one (no copy of the whole text).
        hits: set[int] = set()
        nl = text.find("\n")
        head = "\n" + (text if nl < 0 else text[:nl + 1])
        for rx in _compiled_sniffs():
            if rx.pattern.startswith("\\n"):
                hits.update(m.start() + 1 for m in rx.finditer(text))  # the line after the "\n"
                m = rx.match(head)
                if m:
                    hits.add(0)
            else:
                hits.update(m.start() for m in rx.finditer(text))
        find = text.find
        for literal, offset in _LITERALS:
            char = literal[offset]
            pos = find(char)
            while pos >= 0:
                if text.startswith(literal, pos - offset) if pos >= offset else \
                        literal[0] == "\n" and text.startswith(literal[1:], 0):
                    hits.add(pos)
                pos = find(char, pos + 1)
        for mark in "!&":  # a tag or an anchor where a node starts
            pos = find(mark)
            while pos >= 0:
                before = text[pos - 1] if pos else "\n"
                if before.isspace() or before in _NODE_START:
                    hits.add(pos)
                pos = find(mark, pos + 1)
        self.hits = sorted(hits)

    def risky(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.hits, start)
        return i < len(self.hits) and self.hits[i] < end
