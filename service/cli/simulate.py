"""`oms rules simulate`: replay past orders under a baseline and a candidate ruleset against
stock as it was, with a progress bar, a comparison table and optionally a chart."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.cli.feeds import format_table
from service.cli.progress import ProgressBar
from service.errors import OmsError

ContextFactory = Callable[[argparse.Namespace], Any]
ROWS = (("cost per order", "cost_per_order"), ("total cost", "total_cost"),
        ("shipments per order", "shipments_per_order"), ("km", "km"),
        ("km per shipment", "km_per_shipment"), ("fill rate", "fill_rate"),
        ("backorders", "backorders"), ("refused", "refused"),
        ("plans as live", "same_as_live"), ("events not followed", "diverged_events"))
CHARTED = ("cost_per_order", "shipments_per_order", "km_per_shipment", "fill_rate")


def add_simulate_command(rules: argparse._SubParsersAction, context: ContextFactory) -> None:
    """Register `rules simulate`."""
    simulate = rules.add_parser(
        "simulate", help="replay past orders under two rulesets against stock as it was "
                         "(nothing is written) and compare them")
    simulate.add_argument("--baseline", required=True, help="name@version, e.g. default@2")
    simulate.add_argument("--candidate", required=True, help="name@version, e.g. dc-first@1")
    which = simulate.add_mutually_exclusive_group(required=True)
    which.add_argument("--orders", type=Path, help="a file of order ids (one a line, or a "
                                                   "JSON array)")
    which.add_argument("--since", help="the orders placed since this date or time")
    simulate.add_argument("--stock", type=Path, help="start from this snapshot file's counts "
                          "(CSV: location,sku,on_hand) instead of stock as it was")
    simulate.add_argument("--plot", type=Path, help="also draw the comparison to FILE.png")
    simulate.add_argument("--json", action="store_true", help="print the whole result")
    simulate.set_defaults(handler=lambda a: _simulate(a, context))


def order_ids(path: Path) -> list[str]:
    """Order ids from a file: a JSON array, or one id a line (blank lines and # skipped)."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return [str(i) for i in json.loads(text)]
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def snapshot_counts(path: Path) -> list[tuple[str, str, int]]:
    """(location, sku, on_hand) rows of a snapshot CSV file (header location,sku,on_hand)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["location"], row["sku"], int(row["on_hand"]))
                for row in csv.DictReader(handle)]


def _simulate(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.services.replay.simulate import Ask, parse_since, simulate

    try:
        since = parse_since(args.since) if args.since else None
    except ValueError:
        print(f"--since: expected a date or ISO 8601 time, not {args.since!r}", file=sys.stderr)
        return 2
    orders = tuple(order_ids(args.orders)) if args.orders else None
    try:
        stock = snapshot_counts(args.stock) if args.stock else None
    except (OSError, ValueError, KeyError) as exc:
        print(f"--stock: expected CSV with location,sku,on_hand ({exc})", file=sys.stderr)
        return 2
    ask = Ask(args.baseline, args.candidate, since, orders, stock=stock)
    try:
        with ProgressBar("replaying", None, "orders") as bar:
            result = simulate(context(args), ask, bar)
    except OmsError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        for found in exc.problems:
            print(f"  {found.get('pointer', '')}: {found.get('message', '')}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if args.json else table(result))
    if args.plot:
        plot(result, args.plot)
        print(f"chart: {args.plot}")
    return 0


def table(result: dict[str, Any]) -> str:
    """The comparison: one row per figure, baseline and candidate side by side."""
    base, cand = result["baseline"], result["candidate"]
    rows = [[label, str(base[key]), str(cand[key])] for label, key in ROWS]
    rows.append(["orders whose plan changed", "", str(result["changed"])])
    head = f"{result['orders']} orders replayed"
    if result["skipped"]:
        head += f", {len(result['skipped'])} skipped (no longer in the catalog)"
    return head + "\n" + format_table(["", base["ruleset"], cand["ruleset"]], rows)


def plot(result: dict[str, Any], path: Path) -> None:
    """Bars of the charted figures, baseline beside candidate (matplotlib, `bench` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, len(CHARTED), figsize=(3.2 * len(CHARTED), 3.2))
    names = [result["baseline"]["ruleset"], result["candidate"]["ruleset"]]
    for ax, key in zip(axes, CHARTED, strict=True):
        ax.bar(names, [result["baseline"][key], result["candidate"][key]],
               color=["#777777", "#1f77b4"])
        ax.set_title(key.replace("_", " "))
        ax.tick_params(axis="x", labelrotation=20)
    figure.suptitle(f"{result['orders']} orders replayed; {result['changed']} plans changed")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
