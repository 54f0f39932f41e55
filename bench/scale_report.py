"""The "Scale" section of docs/benchmarks.md and its log-log plot, written by run_scale.py.

The section sits between two HTML comments; `make bench` (report.write_docs) rewrites the
rest of the file and carries the marked block over unchanged, so neither run clobbers the
other's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from common import ROOT, Figure, size_label
from report import table_markdown

DOC = ROOT / "docs" / "benchmarks.md"
PNG = ROOT / "docs" / "benchmarks_scale.png"
HEADER = ("| positions | locations | setup | size on disk | snapshot | switch | sourcing "
          "median / p99 | GET req/s | cart req/s | orders/s | worker RSS |\n"
          + "| --- " * 11 + "|")
NOTES: list[str] = []  # lines about the run that the figures cannot say (run_scale.json)
BEGIN, END = "<!-- scale:begin (bench/run_scale.py) -->", "<!-- scale:end -->"


def scale_block(text: str) -> str:
    """The marked Scale section of a benchmarks.md text ('' when there is none)."""
    if BEGIN not in text or END not in text:
        return ""
    return text[text.index(BEGIN):text.index(END) + len(END)]


def plot(results: dict[int, dict[str, Any]], measures: dict[int, dict[str, float]]) -> bool:
    """Seconds (snapshot, its COPY, switch) and sourcing ms against positions, log-log."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(measures)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for key, name, style in (("snapshot_s", "full snapshot, 5% changed", "o-"),
                             ("copy_s", "bare COPY of the same file", "o--"),
                             ("switch_s", "ruleset switch", "s-"),
                             ("setup_s", "setup (load)", "^:")):
        left.plot(sizes, [measures[n][key] for n in sizes], style, label=name)
    left.set_ylabel("seconds")
    src = [n for n in sizes if "sourcing_median_ms" in measures[n]]
    for key, name, style in (("sourcing_median_ms", "sourcing median", "o-"),
                             ("sourcing_p99_ms", "sourcing p99", "s--")):
        right.plot(src, [measures[n][key] for n in src], style, label=name)
    right.set_ylabel("ms per 5-line plan")
    right.set_title("candidates = positions / 1,000", fontsize=9)
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(sizes, [size_label(n) for n in sizes])
        ax.set_xlabel("positions")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PNG, dpi=110)
    plt.close(fig)
    return True


def section(machine: dict[str, str], command: str, figures: Sequence[Figure],
            results: dict[int, dict[str, Any]], elapsed: float, plotted: bool) -> str:
    """The marked Scale section's markdown."""
    import run_scale

    ms = {n: run_scale.measures(raw) for n, raw in results.items()}
    rows = "\n".join(
        f"| {size_label(n)} | {results[n]['locations']:,} | {ms[n]['setup_s']:,.0f} s | "
        f"{ms[n]['db_mib']:,.0f} MiB | {ms[n]['snapshot_s']:,.1f} s ({ms[n]['snapshot_x']:.2f}x "
        f"COPY {ms[n]['copy_s']:.1f} s) | {ms[n]['switch_s']:.2f} s | "
        f"{ms[n].get('sourcing_median_ms', float('nan')):.2f} / "
        f"{ms[n].get('sourcing_p99_ms', float('nan')):.2f} ms | {ms[n]['get_rps']:,.0f} | "
        f"{ms[n]['cart_rps']:,.0f} | {ms[n]['orders_rps']:,.0f} | {ms[n]['rss_mb']:,.0f} MiB |"
        for n in sorted(ms))
    notes = "".join(f"- {line}\n" for line in NOTES) + ("\n" if NOTES else "")
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    picture = f"![Time against positions, log-log]({PNG.name})" if plotted else "(no plot)"
    return f"""{BEGIN}
## Scale: time against positions

Written by `make bench-scale` ({date}, {elapsed / 60:.0f} min on {machine.get('cpu')},
{machine.get('cores')} cores, {machine.get('ram')}); `make bench` keeps this section as it
is. Each size is `generate_network(locations=positions/1000, skus=1000,
store_coverage=1.0)` in its own database; the figures past 1M are judged against the 1M
network of the same run. Command:

```
{command}
```

{HEADER}
{rows}

{notes}{picture}

{table_markdown(figures)}
{END}"""


def write(machine: dict[str, str], command: str, figures: Sequence[Figure],
          results: dict[int, dict[str, Any]], elapsed: float) -> None:
    """Rewrite (or append) the marked Scale section of docs/benchmarks.md."""
    import run_scale

    plotted = plot(results, {n: run_scale.measures(raw) for n, raw in results.items()})
    new = section(machine, command, figures, results, elapsed, plotted)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    old = scale_block(text)
    text = text.replace(old, new) if old else text.rstrip("\n") + "\n\n" + new + "\n"
    DOC.write_text(text)
