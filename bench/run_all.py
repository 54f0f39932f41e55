"""`make bench`: every benchmark, each figure beside its same-run baseline and its target.

Loads the 1,000 x 1,000 demo network once into a template PostgreSQL database, gives each
benchmark its own copy (CREATE DATABASE ... TEMPLATE), runs the benchmarks as separate
processes, prints PASS/FAIL per figure and rewrites docs/benchmarks.md (machine, command,
figures, plots). Every bench database is dropped at the end.

Usage: python bench/run_all.py [--quick] [--skip-sourcing] [--no-docs]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import report  # noqa: E402
from common import Figure  # noqa: E402

from service.store.migrate import upgrade  # noqa: E402

TEMPLATE = "oms_bench_template"
CLONES = ("oms_bench_http", "oms_bench_snapshot", "oms_bench_switch", "oms_bench_orders",
          "oms_bench_orders_hot", "oms_bench_search", "oms_bench_reroute", "oms_bench_console",
          "oms_bench_experiments", "oms_bench_replay")


def bench(script: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run one benchmark script with --json; its figures and raw results."""
    out = common.RESULTS_DIR / f"{Path(script).stem}.json"
    out.unlink(missing_ok=True)
    argv = [sys.executable, str(HERE / script), *args, "--json", str(out)]
    print(f"\n$ {' '.join(Path(a).name if a.endswith('.py') else a for a in argv[1:])}",
          flush=True)
    common.checkpoint()  # the previous benchmark's dirty pages are not flushed during this one
    subprocess.run(argv, check=True, timeout=timeout)
    return json.loads(out.read_text())


def figures_of(result: dict[str, Any]) -> list[Figure]:
    return [Figure(**f) for f in result["figures"]]


def rules_bench() -> tuple[list[Figure], str]:
    """bench_rules.py (issue 3): compiled predicates against business-rules run_all."""
    argv = [sys.executable, str(HERE / "bench_rules.py")]
    print("\n$ bench_rules.py", flush=True)
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=600).stdout
    print(out, end="")
    reference = float(re.search(r"business-rules run_all\s+([\d.]+)", out).group(1))
    compiled = float(re.search(r"compiled predicates\s+([\d.]+)", out).group(1))
    fig = Figure("rules", "compiled predicate, per position (web channel)", compiled,
                 "us", baseline=reference, baseline_what="business-rules run_all us",
                 target="faster than run_all", passed=compiled < reference,
                 note=f"speed-up {reference / compiled:.1f}x, outcomes identical")
    return [fig], out


def sourcing_bench(orders: int) -> tuple[list[Figure], dict[str, Any] | None]:
    """bench_sourcing.py (another issue's benchmark), run as it ships; its figures."""
    path = HERE / "bench_sourcing.py"
    if not path.exists():
        return [], None
    out = common.RESULTS_DIR / "bench_sourcing.json"
    argv = [sys.executable, str(path), "--orders", str(orders), "--json", str(out)]
    print(f"\n$ bench_sourcing.py --orders {orders}", flush=True)
    try:
        subprocess.run(argv, check=True, timeout=600)
        data = json.loads(out.read_text())
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        print(f"bench_sourcing.py failed: {exc}", flush=True)
        return [Figure("sourcing", "sourcing benchmark", float("nan"), "", passed=False,
                       note=f"did not run: {exc}")], None
    return sourcing_figures(data), data


def sourcing_figures(data: dict[str, Any]) -> list[Figure]:
    ours, highs, gap = data["ours_ms"], data["highs_ms"], data["gap"]
    return [
        Figure("sourcing", "sourcing, 5 lines, 1,000 candidates: median", ours["median"], "ms",
               baseline=highs["median"], baseline_what="HiGHS MIP median ms",
               target="<= 5 ms", passed=ours["median"] <= 5),
        Figure("sourcing", "sourcing p99", ours["p99"], "ms", baseline=highs["p99"],
               baseline_what="HiGHS MIP p99 ms", target="<= 20 ms", passed=ours["p99"] <= 20),
        Figure("sourcing", "orders within 1% of the HiGHS optimum", 100 * gap["within_1pct"],
               "%", target=">= 99%", passed=gap["within_1pct"] >= 0.99,
               note=f"exact {100 * gap['exact']:.1f}%, worst gap {100 * gap['max']:.2f}%"),
        Figure("sourcing", "sourcing worst case (slowest order, best of passes)", ours["max"],
               "ms", target="<= 250 ms (max_plan_ms 200 + 25%)", passed=ours["max"] <= 250,
               note=f"slowest single call {data.get('ours_ms_worst_call', float('nan')):.1f} ms"),
    ] + _adversarial_figures(data.get("adversarial"))


def _adversarial_figures(adv: dict[str, Any] | None) -> list[Figure]:
    """bench_sourcing's adversarial networks (issue 13): the worst plan, proven and exact."""
    if not adv:
        return []
    unproven = [r["case"] for r in adv["cases"] if not r["proven"]]
    return [
        Figure("sourcing", "adversarial networks: worst plan time", adv["worst_ms"], "ms",
               target="<= 250 ms (max_plan_ms 200 + 25%)", passed=adv["worst_ms"] <= 250,
               note=f"{adv['count']} networks (bench/adversarial.py)"),
        Figure("sourcing", "adversarial networks: plans equal to the optimum", adv["exact"],
               f"of {adv['count']}", target="every proven plan",
               passed=all(r["gap"] <= 1e-9 for r in adv["cases"] if r["proven"]),
               note=f"proven {adv['proven']}/{adv['count']}"
               + (f"; unproven: {', '.join(unproven)}" if unproven else "")),
    ]


def setup_template() -> tuple[str, dict[str, float]]:
    """The loaded template database (setup, not measured)."""
    print("loading 1,000 locations x 1,000 SKUs into PostgreSQL (setup)...", flush=True)
    url = common.create_pg_database(TEMPLATE)
    timings = common.load_network(url, common.network())
    print("  " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()), flush=True)
    return url, timings


def main(argv: list[str] | None = None) -> int:
    """Run everything, print the table, rewrite docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s HTTP runs, 200 orders")
    parser.add_argument("--skip-sourcing", action="store_true")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the docs")
    args = parser.parse_args(argv)
    started = time.time()
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    template, setup = setup_template()
    machine = common.machine_info(template)
    figures: list[Figure] = []
    raw: dict[str, Any] = {"setup": setup}
    try:
        http_url = common.clone_pg_database(TEMPLATE, "oms_bench_http")
        duration = "3" if args.quick else "6"  # seconds per run; 3 rounds of each
        raw["http"] = bench("bench_http.py", "--pg-url", http_url, "--duration", duration)
        figures += figures_of(raw["http"])
        common.drop_pg_database("oms_bench_http")  # no autovacuum of it during the next ones
        switch_url = common.clone_pg_database(TEMPLATE, "oms_bench_switch")
        raw["switch"] = bench("bench_ruleset_switch.py", "--pg-url", switch_url)
        figures += figures_of(raw["switch"])
        common.drop_pg_database("oms_bench_switch")
        orders_url = common.clone_pg_database(TEMPLATE, "oms_bench_orders")
        hot_url = common.clone_pg_database(TEMPLATE, "oms_bench_orders_hot")
        raw["orders"] = bench("bench_orders.py", "--pg-url", orders_url, "--hot-pg-url",
                              hot_url, "--duration", "5" if args.quick else "12")
        figures += figures_of(raw["orders"])
        common.drop_pg_database("oms_bench_orders")
        common.drop_pg_database("oms_bench_orders_hot")
        search_url = common.create_pg_database("oms_bench_search")
        upgrade(search_url)  # orders only: 1M of them, written by the benchmark (setup)
        raw["search"] = bench("bench_order_search.py", "--pg-url", search_url, "--duration",
                              "3" if args.quick else "6")
        figures += figures_of(raw["search"])
        common.drop_pg_database("oms_bench_search")
        reroute_url = common.clone_pg_database(TEMPLATE, "oms_bench_reroute")
        raw["reroute"] = bench("bench_reroute.py", "--pg-url", reroute_url, "--orders",
                               "100" if args.quick else "300")
        figures += figures_of(raw["reroute"])
        common.drop_pg_database("oms_bench_reroute")
        console_url = common.clone_pg_database(TEMPLATE, "oms_bench_console")
        raw["console"] = bench("bench_console.py", "--pg-url", console_url, "--requests",
                               "10" if args.quick else "30")
        figures += figures_of(raw["console"])
        common.drop_pg_database("oms_bench_console")
        experiments_url = common.clone_pg_database(TEMPLATE, "oms_bench_experiments")
        raw["experiments"] = bench("bench_experiments.py", "--pg-url", experiments_url,
                                   "--requests", "5000" if args.quick else "20000")
        figures += figures_of(raw["experiments"])
        common.drop_pg_database("oms_bench_experiments")
        replay_url = common.clone_pg_database(TEMPLATE, "oms_bench_replay")
        raw["replay"] = bench("bench_replay.py", "--pg-url", replay_url, "--orders",
                              "1000" if args.quick else "10000", timeout=1800)
        figures += figures_of(raw["replay"])
        common.drop_pg_database("oms_bench_replay")
        snap_url = common.clone_pg_database(TEMPLATE, "oms_bench_snapshot")
        raw["snapshot"] = bench("bench_snapshot.py", "--pg-url", snap_url, "--sqlite")
        figures += figures_of(raw["snapshot"])
    finally:
        for name in (*CLONES, TEMPLATE):
            common.drop_pg_database(name)
    rules, raw["rules_stdout"] = rules_bench()
    figures += rules
    raw["webhooks"] = bench("bench_webhooks.py", "--events", "5000" if args.quick else "20000",
                            "--seconds", "8" if args.quick else "20")  # its own database
    figures += figures_of(raw["webhooks"])
    if not args.skip_sourcing:
        sourcing, raw["sourcing"] = sourcing_bench(200 if args.quick else 1000)
        figures += sourcing
    elapsed = time.time() - started
    print("\n" + report.table_text(figures))
    print(f"\nall benchmarks: {elapsed / 60:.1f} min", flush=True)
    (common.RESULTS_DIR / "run_all.json").write_text(json.dumps(
        {"machine": machine, "figures": [f.to_dict() for f in figures], "raw": raw},
        indent=2, default=str))
    if not args.no_docs:
        command = "make bench  (= .venv/bin/python bench/run_all.py" + (
            " " + " ".join(sys.argv[1:]) if sys.argv[1:] else "") + ")"
        report.write_docs(machine, command, figures, raw, elapsed)
        print(f"wrote {report.DOC}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
