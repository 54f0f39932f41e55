"""docs/benchmarks.md and its plots, rewritten by run_all.py from one run's figures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from common import ROOT, Figure, verdict

DOC = ROOT / "docs" / "benchmarks.md"
HTTP_PNG = ROOT / "docs" / "benchmarks_http.png"
SNAPSHOT_PNG = ROOT / "docs" / "benchmarks_snapshot.png"

# Before/after of the optimisation work, measured while it was done (see the file).
CHANGES_MD = ROOT / "bench" / "changes.md"


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"


def table_text(figures: Sequence[Figure]) -> str:
    """A plain-text table for the terminal."""
    lines = [f"{'':6}{'figure':<66}{'value':>14}  {'baseline (same run)':<34}target"]
    for f in figures:
        base = f"{_fmt(f.baseline)} {f.baseline_what}" if f.baseline else ""
        lines.append(f"{verdict(f.passed):<6}{f.what[:65]:<66}"
                     f"{_fmt(f.value) + ' ' + f.unit:>14}  {base:<34}{f.target}")
    return "\n".join(lines)


def table_markdown(figures: Sequence[Figure]) -> str:
    rows = ["| figure | value | baseline (same run) | target | result | notes |",
            "| --- | ---: | --- | --- | --- | --- |"]
    for f in figures:
        base = f"{_fmt(f.baseline)} ({f.baseline_what})" if f.baseline else ""
        rows.append(f"| {f.what} | {_fmt(f.value)} {f.unit} | {base} | {f.target} | "
                    f"**{verdict(f.passed)}** | {f.note} |")
    return "\n".join(rows)


def plot_http(http: dict[str, Any]) -> bool:
    """Latency percentiles and requests/s per endpoint against hello-world."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = http.get("results") or {}
    names = [("hello", "hello-world"), ("get", "GET 1 SKU"), ("cart", "POST 20-SKU cart")]
    present = [(k, label) for k, label in names if k in results]
    if not present:
        return False
    fig, (lat, rps) = plt.subplots(1, 2, figsize=(11, 4.2))
    pcts = ("p50", "p90", "p99", "p999")
    width = 0.8 / len(present)
    for i, (key, label) in enumerate(present):
        xs = [j + i * width for j in range(len(pcts))]
        lat.bar(xs, [results[key][f"{p}_ms"] for p in pcts], width, label=label)
    lat.set_xticks([j + width * (len(present) - 1) / 2 for j in range(len(pcts))],
                   ["p50", "p90", "p99", "p99.9"])
    lat.set_ylabel("latency (ms), 16 connections")
    lat.axhline(10, color="grey", linestyle="--", linewidth=1)
    lat.axhline(15, color="grey", linestyle=":", linewidth=1)
    lat.set_title("Latency percentiles (dashed: 10 ms, dotted: 15 ms targets)")
    lat.legend()
    rps.bar([label for _, label in present], [results[k]["rps"] for k, _ in present],
            color=["#999999", "#1f77b4", "#ff7f0e"][:len(present)])
    hello = results.get("hello", {}).get("rps")
    if hello:
        rps.axhline(hello * 0.5, color="#1f77b4", linestyle="--", linewidth=1,
                    label="50% of hello-world")
        rps.axhline(hello * 0.25, color="#ff7f0e", linestyle="--", linewidth=1,
                    label="25% of hello-world")
        rps.legend()
    rps.set_ylabel("requests/s")
    rps.set_title("Throughput, gunicorn 2 sync workers")
    fig.tight_layout()
    fig.savefig(HTTP_PNG, dpi=110)
    plt.close(fig)
    return True


def plot_snapshot(snapshot: dict[str, Any]) -> bool:
    """Seconds per phase of the 1M-row snapshot against the bare COPY of the same file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pg = next((f["extra"] for f in snapshot.get("figures", []) if "copy_s" in f["extra"]), None)
    if pg is None:
        return False
    fig, ax = plt.subplots(figsize=(8, 2.8))
    ax.barh(["bare COPY"], [pg["copy_s"]], color="#999999")
    left = 0.0
    for phase, color in (("parse_s", "#c7c7c7"), ("apply_s", "#1f77b4"),
                         ("commit_s", "#2ca02c")):
        ax.barh(["service"], [pg[phase]], left=left, color=color,
                label=phase.removesuffix("_s"))
        left += pg[phase]
    ax.axvline(4 * pg["copy_s"], color="red", linestyle="--", linewidth=1, label="4x COPY")
    ax.set_xlabel("seconds (1M rows, 5% changed, PostgreSQL)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(SNAPSHOT_PNG, dpi=110)
    plt.close(fig)
    return True


def _changes() -> str:
    text = CHANGES_MD.read_text() if CHANGES_MD.exists() else ""
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith(("<!--", "  ")))


def write_docs(machine: dict[str, str], command: str, figures: Sequence[Figure],
               raw: dict[str, Any], elapsed: float) -> None:
    """Rewrite docs/benchmarks.md."""
    plots = []
    if raw.get("http") and plot_http(raw["http"]):
        plots.append(f"![HTTP latency and throughput]({HTTP_PNG.name})")
    if raw.get("snapshot") and plot_snapshot(raw["snapshot"]):
        plots.append(f"![Snapshot phases against COPY]({SNAPSHOT_PNG.name})")
    failed = [f for f in figures if f.passed is False]
    text = TEMPLATE.format(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine="\n".join(f"| {k} | {v} |" for k, v in machine.items()),
        command=command, minutes=elapsed / 60, table=table_markdown(figures),
        plots="\n\n".join(plots) or "(matplotlib missing: no plots)",
        missed="\n".join(f"- **{f.what}**: {_fmt(f.value)} {f.unit} (target {f.target})."
                         for f in failed) or "- none",
        changes=_changes(), rules=raw.get("rules_stdout", "").strip())
    DOC.write_text(text + EXPLANATIONS)


TEMPLATE = """\
# Benchmarks

Written by `make bench` ({date}); every figure is measured against a baseline run in the
same invocation, so a noisy machine moves both (DESIGN.md §7).

## Machine

| | |
| --- | --- |
{machine}

## Command

```
{command}
```

Whole run: {minutes:.1f} min. Data: `service.demo.generate_network(locations=1000, skus=1000,
store_coverage=1.0)`, i.e. 1,000 locations x 1,000 SKUs = 1,000,000 positions, loaded once
into a template PostgreSQL database (setup, not measured) and copied for each benchmark.

## Figures

{table}

{plots}

## Targets missed in this run

{missed}

## What we changed and what it bought

{changes}

## Rules benchmark output (issue 3)

```
{rules}
```
"""

EXPLANATIONS = """
## How each figure is measured

- **HTTP** (`bench/bench_http.py`): the hello-world app (`bench/hello_app.py`, one
  `jsonify` route) and the service both run under gunicorn with the arguments `oms serve`
  uses (2 sync workers, access log on, output discarded), one after the other, each loaded
  by `wrk -t2 -c16 --latency` (a separate process, loopback) for a 2 s warm-up and then the
  timed run. The service answers with a `channel:web` key; each request asks for random SKUs
  (`bench/wrk_script.lua`). Memory is the resident set (VmRSS) of each service worker right
  after the HTTP runs.
- **Snapshot** (`bench/bench_snapshot.py`): one CSV file of all 1M positions (5% of counts
  changed). Baseline: `COPY ... FROM STDIN (FORMAT csv)` of that file into an empty,
  unindexed table (best of two). Service: the file as a CSV feed applies it,
  `service.services.snapshot_copy.apply_csv` (streamed into a temporary table by COPY, diffed
  against the positions in SQL, only the differing rows read in Python) in one transaction,
  committed, channel figures included; the kept figures are then checked against a full
  set-based recompute (mismatches must be 0). SQLite: the Python path (`csv.DictReader`,
  `stock_rows.parse_rows`, `inventory.apply_snapshot`) on a file of 200 locations x 1,000 SKUs.
- **Ruleset switch** (`bench/bench_ruleset_switch.py`): reload and validate every rule
  file, then `service.services.rulesets.activate` (recording the activation and recomputing
  every channel figure of the 1M positions), committed; twice (default@2 -> dc-first ->
  default@2), slowest reported. Baseline: a bare grouped scan of the positions.
- **Orders** (`bench/bench_orders.py`): throughput is wrk (`bench/wrk_orders.lua`, 16
  connections) posting 3-line orders (three distinct random SKUs, ship-tos at real ZIP
  coordinates, a unique `Idempotency-Key` each) to `oms serve` (2 sync workers) on its own
  copy of the 1M-position network, between two hello-world runs served the same way. The
  contention run uses another copy: the 5 hot SKUs are counted down to 1-4 units at 20
  locations each (through the delta path), then 64 threads with keep-alive connections each
  place 12 two-line orders on them, retrying one request in five with the same key; the
  ledger is then audited (positions allocating more than they hold, allocations without a
  fulfilment line, 201s missing from the database, keys with two orders, retries that
  answered differently, 5xx answers).
- **Rules** (`bench/bench_rules.py`) and **sourcing** (`bench/bench_sourcing.py`) run as
  they ship, as separate processes.

## Why some targets are out of reach on this machine

- **p99 at 16 connections.** With 2 sync gunicorn workers, 16 connections queue: by Little's
  law the mean latency is 16 / throughput, so the hello-world endpoint's own p99 is already
  at or near 10 ms here (see the table). The service's per-request work (one PostgreSQL round
  trip, and the database server needs CPU on the same 2 cores) makes its queue longer still.
  The figure is reported as measured; no worker class or connection count was changed to
  pass it.
- **Single-SKU requests/s.** A lookup is one statement on a pooled autocommit connection;
  what remains is Flask, SQLAlchemy Core execution and the PostgreSQL round trip, and the
  database server competes with the workers and wrk for the same 2 cores. Run-to-run noise
  on this shared machine is several percentage points (runs of the same code gave 38-43%).
- **1M-row snapshot against COPY.** The file now goes to PostgreSQL by COPY as well (into a
  temporary table), so the service pays that COPY plus the work COPY never does: a scan for
  the locations and time texts, one hash full join of the 1M rows with the 1M positions, and
  rewriting the 50,000 changed positions (three index entries each, as the covering sourcing
  index holds on_hand). Those take about 0.6 + 0.2 + 1.2-1.4 + 0.7 s on a quiet machine, close
  to 4x a COPY of 0.9-1.0 s; the figure moves with whatever else shares the 2 cores.
- **Orders per second.** Placing an order reads every position of its SKUs (3,000 for a
  3-line order on this network) through the channel's compiled rules, evaluates the sourcing
  rules for each of the ~700 candidate locations, plans (2-3 ms, see the sourcing figures),
  locks and allocates, moves the channel figures and writes the order, its lines,
  fulfilments and outbox events in one transaction: about 30-50 ms of CPU shared between
  Python and PostgreSQL on the same 2 cores, so two workers land far below 200 orders/s.
  Reaching it needs the candidate read to stop scaling with the number of locations (a
  kept per-channel position table, or pruning candidates by a cost bound before reading
  them), which is a design change left for a later issue.
- **SQLite rows/s.** The same Python parsing is about half of the time; the rest is the
  staged diff and the channel-figure deltas.
"""
