"""Ruleset switch on 1M positions: validate + activate + every channel figure recomputed.

Times ``governance.activate`` (which resolves the validated, loaded version,
records the activation and recomputes every figure set-based) on PostgreSQL, switching
default@2 -> dc-first -> default@2, each in its own committed transaction; the validation of
the rule files (a registry reload from disk) is timed beside it and included in the figure.
The baseline is the bare grouped scan the recompute cannot avoid: one pass over the 1M
positions (SELECT sku, sum(on_hand) ... GROUP BY sku) in the same run.

Usage: python bench/bench_ruleset_switch.py [--pg-url URL] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import Figure  # noqa: E402
from sqlalchemy import text  # noqa: E402

from service.rules.registry import Registry  # noqa: E402
from service.services.rulesets import governance  # noqa: E402

TARGET_S = 10.0
SWITCHES = (("dc-first", None), ("default", 2))


def grouped_scan(url: str) -> float:
    """Seconds for one grouped pass over every position (the floor of any recompute)."""
    ctx = common.bench_context(url)
    try:
        with ctx.engine.connect() as conn:
            start = time.perf_counter()
            conn.execute(text("SELECT sku, sum(on_hand) FROM stock_positions GROUP BY sku")).all()
            return time.perf_counter() - start
    finally:
        ctx.close()


def switch(url: str) -> list[dict[str, Any]]:
    """Validate (reload every rule file), then activate each target; seconds per step."""
    ctx = common.bench_context(url)
    runs = []
    try:
        for name, version in SWITCHES:
            start = time.perf_counter()
            registry = Registry(ctx.settings.rulesets_dir)
            report = registry.reload()
            if report.errors:
                raise SystemExit(f"rule files do not validate: {report.errors[:3]}")
            validated = time.perf_counter()
            activation = governance.activate(ctx, {"name": name, "version": version}, "bench")
            done = time.perf_counter()
            runs.append({"to": activation.ref, "from": activation.previous,
                         "validate_s": validated - start, "activate_s": done - validated,
                         "total_s": done - start})
    finally:
        ctx.close()
    return runs


def run(url: str, size: str = "1M") -> tuple[Figure, dict[str, Any]]:
    scan = grouped_scan(url)
    runs = switch(url)
    worst = max(r["total_s"] for r in runs)
    note = "; ".join(f"{r['from']} -> {r['to']}: validate {r['validate_s']:.2f} s + activate "
                     f"{r['activate_s']:.2f} s" for r in runs)
    fig = Figure("ruleset_switch", f"ruleset switch on {size} positions (slowest of 2 switches)",
                 worst, "s", baseline=scan, baseline_what="bare grouped scan s",
                 target=f"<= {TARGET_S:g} s", passed=worst <= TARGET_S, note=note,
                 extra={"runs": runs, "grouped_scan_s": scan})
    return fig, {"runs": runs, "grouped_scan_s": scan}


def main(argv: list[str] | None = None) -> int:
    """Run the switch benchmark (on a loaded database, or a fresh one it loads and drops)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="an already loaded bench database (not dropped)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--locations", type=int, default=common.LOCATIONS,
                        help="network size: locations x 1,000 SKUs")
    args = parser.parse_args(argv)
    url, own = args.pg_url, args.pg_url is None
    if own:
        url = common.create_pg_database("oms_bench_switch")
        common.load_network(url, common.network(args.locations))
    try:
        fig, results = run(url, common.size_label(args.locations * common.SKUS))
    finally:
        if own:
            common.drop_pg_database("oms_bench_switch")
    common.print_figure(fig)
    print("   ", fig.note)
    common.write_json(args.json, [fig], results=results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
