"""`meshlint simulate`'s reports: the load at every service, as it is and with the fixes, in
text or json, and as a chart over time (`--plot`, matplotlib)."""

from __future__ import annotations

import json

from .model import FixPolicy, Result

_HOW = {"503": "answering 503", "reset": "resetting connections", "timeout": "never answering"}


def _rows(result: Result, hosts: list[str]) -> list[dict]:
    return [{"host": h, "rps": round(result.rps(h), 3), "amplification": round(result.amplification(h), 4)}
            for h in hosts]


def ordered_hosts(current: Result, fixed: Result) -> list[str]:
    """Every service that received a try, the most loaded first."""
    hosts = set(current.tries) | set(fixed.tries)
    return sorted(hosts, key=lambda h: (-current.tries[h], h))


def render_json(current: Result, fixed: Result) -> str:
    hosts = ordered_hosts(current, fixed)
    doc = {"entry_rps": current.entry_rps, "services": _rows(current, hosts),
           "fixed": {"services": _rows(fixed, hosts)}}
    return json.dumps(doc, indent=2) + "\n"


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
    out += ["", f"The fixes: {fixes.describe()}."]
    return "\n".join(out) + "\n"


def plot(current: Result, fixed: Result, names: dict[str, str], path: str) -> None:
    """PNG chart of tries per second at each service over time, current vs with the fixes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hosts = ordered_hosts(current, fixed)[:8]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, result, title in ((axes[0], current, "current configuration"), (axes[1], fixed, "with the fixes")):
        for h in hosts:
            series = result.timeline.get(h, [])
            ax.plot(range(len(series)), series, label=names.get(h, h), linewidth=2 if h == result.failed else 1.2)
        ax.set_title(title)
        ax.set_xlabel("time (s)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("tries per second")
    axes[1].legend(loc="upper right", fontsize=8)
    fig.suptitle(f"{names.get(current.failed, current.failed)} failing ({current.status}), "
                 f"{current.entry_rps:g} rps into {names.get(current.entry, current.entry)}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
