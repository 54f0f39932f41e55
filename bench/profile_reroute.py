"""Profiling harness (not a timed test): the re-route path of bench_reroute.py, counted.

Places N 3-line orders and has each order's location reject its whole fulfilment (the use
cases bench/bench_reroute.py times), and prints per operation: process CPU ms, wall ms and
the round trips sent to PostgreSQL (counted as bench/profile_orders.py counts them), the
statements of a re-route, and with --profile a cProfile of the re-routes' CPU.

Usage: python bench/profile_reroute.py --pg-url URL [--orders 200] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
from bench_reroute import ADMIN, order_bodies  # noqa: E402
from profile_orders import COUNTS, STATEMENTS, _count_calls  # noqa: E402

from service.services.orders import placing, rejecting  # noqa: E402


def _timed(run, items, profile=None):
    COUNTS.clear()
    STATEMENTS.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    out = [run(item) for item in items]
    if profile:
        profile.disable()
    n = max(len(items), 1)
    trips = sum(COUNTS.values()) - COUNTS["pipeline"]
    return out, (1000 * (time.process_time() - cpu) / n, 1000 * (time.perf_counter() - wall) / n,
                 trips / n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", choices=("cumulative", "tottime"), default="cumulative")
    args = parser.parse_args(argv)
    _count_calls()
    ctx = common.bench_context(args.pg_url)
    try:
        with ctx.reading() as uow:
            skus = sorted(uow.catalog().products)
        bodies = order_bodies(skus, args.orders, seed=int(time.time()))
        results, placed = _timed(lambda b: placing.place(ctx, ADMIN, b, None), bodies)
        ids = [f["id"] for r in results for f in r["fulfilments"] if len(f["lines"]) == 3]
        profile = cProfile.Profile() if args.profile else None
        _, rerouted = _timed(lambda fid: rejecting.reject(
            ctx, ADMIN, fid, {"type": "rejected", "reason": "not_found"}), ids, profile)
        statements = dict(STATEMENTS)
    finally:
        ctx.close()
    for label, (cpu, wall, trips) in (("placing", placed), ("re-routing", rerouted)):
        print(f"{label:11} CPU {cpu:6.2f} ms  wall {wall:6.2f} ms  round trips {trips:5.2f}")
    print(f"ratio wall {rerouted[1] / placed[1]:.2f}x  CPU {rerouted[0] / placed[0]:.2f}x")
    for text, count in sorted(statements.items(), key=lambda kv: -kv[1]):
        print(f"  {count / max(len(ids), 1):5.2f}  {text}")
    if profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(45)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
