"""`meshlint simulate`'s reports: the load at every service, as it is and with the fixes, in
text or json, and as a chart over time (`--plot`, matplotlib)."""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import asdict

from ..mesh.callgraph import times
from .model import FixPolicy, Result

_HOW = {"503": "answering 503", "reset": "resetting connections", "timeout": "never answering"}
_FAILURE = {"503": "a 503", "reset": "a reset", "timeout": "a timeout"}


def _rows(result: Result, hosts: list[str]) -> list[dict]:
    return [{"host": h, "rps": round(result.rps(h), 3), "amplification": round(result.amplification(h), 4)}
            for h in hosts]


def ordered_hosts(current: Result, fixed: Result) -> list[str]:
    """Every service that received a try, the most loaded first."""
    hosts = set(current.tries) | set(fixed.tries)
    return sorted(hosts, key=lambda h: (-current.tries[h], h))


def _held_back(result: Result) -> dict:
    """The run's peak and what held its tries back, for JSON."""
    return {"peak_amplification": result.peak,
            "limits": [{"from": caller, "to": callee, **asdict(held)}
                       for (caller, callee), held in sorted(result.limits.items())]}


def render_json(current: Result, fixed: Result) -> str:
    hosts = ordered_hosts(current, fixed)
    worst = current.worst
    doc = {"entry_rps": current.entry_rps, "services": _rows(current, hosts),
           "worst_case": {"path": worst.hosts, "tries": worst.tries, "amplification": worst.amplification}
           if worst else None,
           **_held_back(current),
           "fixed": {"services": _rows(fixed, hosts), **_held_back(fixed)}}
    return json.dumps(doc, indent=2) + "\n"


def explain(result: Result, names: dict[str, str]) -> list[str]:
    """Why the failing service's load differs from ML302's figure: ML302 multiplies every hop's
    tries whatever fails, before anything acts; in a run, retryOn, outlier detection, retry
    budgets and timeouts hold tries back."""
    worst = result.worst
    if worst is None:
        return []
    name = names.get(result.failed, result.failed)
    path = " → ".join(names.get(h, h) for h in worst.hosts)
    per_hop = " x ".join(map(str, worst.tries))
    out = [f"ML302 multiplies every hop's tries, whatever fails: one request into "
           f"{names.get(result.entry, result.entry)} can make up to {times(worst.amplification)} tries at {name} "
           f"({path}: {per_hop} tries per hop). In this run one request made at most {result.peak}, and {name} "
           f"got {result.amplification(result.failed):.2f}x" + (", because:" if result.limits else ".")]
    for (caller, callee), held in sorted(result.limits.items(), key=lambda item: (-item[1].failed_fast, item[0])):
        reasons = []
        if held.ejections:
            reasons.append(f"outlierDetection ejected {names.get(callee, callee)} {_count(held.ejections, 'time')}, "
                           f"{_count(held.failed_fast, 'try', 'tries')} failed fast without being sent")
        if held.not_retried:
            retry_on = ",".join(held.retry_on) or "nothing"
            reasons.append(f"retryOn ({retry_on}) does not cover {_FAILURE[result.status]}: "
                           f"{_count(held.not_retried, 'call')} failed without a retry")
        if held.retries_refused:
            reasons.append(f"the retry budget refused {_count(held.retries_refused, 'retry', 'retries')}")
        if held.timed_out:
            reasons.append(f"the route timeout ended {_count(held.timed_out, 'call')} with retries left")
        out.append(f"  {names.get(caller, caller)} → {names.get(callee, callee)}: {'; '.join(reasons)}")
    return out


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def render_text(current: Result, fixed: Result, names: dict[str, str], fixes: FixPolicy) -> str:
    hosts = ordered_hosts(current, fixed)
    width = max([len(names.get(h, h)) for h in hosts] + [7])
    out = [f"{current.duration:g}s at {current.entry_rps:g} rps into {names.get(current.entry, current.entry)}, "
           f"with {names.get(current.failed, current.failed)} {_HOW[current.status]}:", "",
           f"{'service':<{width}}  {'current':>20}  {'with the fixes':>20}",
           f"{'':<{width}}  {'tries/s':>10} {'amp':>9}  {'tries/s':>10} {'amp':>9}"]
    for h in hosts:
        mark = "  <- failing" if h == current.failed else ""
        out.append(f"{names.get(h, h):<{width}}  {current.rps(h):>10.1f} {current.amplification(h):>8.2f}x"
                   f"  {fixed.rps(h):>10.1f} {fixed.amplification(h):>8.2f}x{mark}")
    why = explain(current, names)
    if why:
        out += ["", *_wrapped(why)]
    out += ["", *_wrapped([f"The fixes: {fixes.describe()}."])]
    return "\n".join(out) + "\n"


def _wrapped(lines: list[str]) -> list[str]:
    """Lines at 80 columns; an indented line's continuations indented two more."""
    out = []
    for line in lines:
        indent = line[:len(line) - len(line.lstrip())]
        out += textwrap.wrap(line, 80, subsequent_indent=indent + "  " if indent else "",
                             break_long_words=False, break_on_hyphens=False)
    return out


Line = tuple[list[str], tuple[float, ...], tuple[float, ...]]  # services, tries/s now, with the fixes


def chart_lines(current: Result, fixed: Result, most: int = 8) -> tuple[list[float], list[Line]]:
    """What `plot` draws: the edges of its time steps, and each line as (its services, tries
    per second in the current run, with the fixes).

    The steps are the seconds requests enter, the last one counted for its length when the
    duration is not whole: the retries still running after the last request are in the
    tables, not drawn as a drop. At most `most` services, the failing one always; services
    with the same load in both runs are one line (a line drawn over another would hide it)."""
    seconds = max(1, math.ceil(current.duration))
    widths = [min(1.0, current.duration - s) for s in range(seconds)]

    def series(result: Result, host: str) -> tuple[float, ...]:
        counts = result.timeline.get(host, [])
        return tuple((counts[s] if s < len(counts) else 0) / w for s, w in enumerate(widths))

    hosts = ordered_hosts(current, fixed)[:most]
    if current.failed not in hosts:
        hosts[-1] = current.failed
    lines: dict[tuple, list[str]] = {}
    for h in hosts:
        lines.setdefault((series(current, h), series(fixed, h)), []).append(h)
    edges = [0.0, *(min(s + 1.0, current.duration) for s in range(seconds))]
    return edges, [(group, now, with_fixes) for (now, with_fixes), group in lines.items()]


def plot(current: Result, fixed: Result, names: dict[str, str], path: str) -> None:
    """PNG chart of tries per second at each service over time (`chart_lines`), current vs
    with the fixes, on one time axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges, lines = chart_lines(current, fixed)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True, sharey=True)
    for ax, run, title in ((axes[0], 1, "current configuration"), (axes[1], 2, "with the fixes")):
        for line in lines:
            failing = current.failed in line[0]
            ax.stairs(line[run], edges, baseline=None, label=", ".join(names.get(h, h) for h in line[0]),
                      linewidth=2.4 if failing else 1.4, zorder=3 if failing else 2)
        ax.set_title(title)
        ax.set_xlabel("time (s)")
        ax.set_xlim(0, current.duration)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("tries per second")
    axes[1].legend(loc="upper right", fontsize=8)
    fig.suptitle(f"{names.get(current.failed, current.failed)} failing ({current.status}), "
                 f"{current.entry_rps:g} rps into {names.get(current.entry, current.entry)}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
