"""Ring reads benchmark (issue 18): what an order's rings cost in process, as the service runs them.

Per order, as `services/orders/sourcing.plan` does: the site table patched with a few moved
backlog ratios, the floors for the ship-to, then `plan_in_rings` over a fetch that hands out
the candidates of the asked locations (no database). The network is bench_sourcing's, every
SKU at every location (as the HTTP bench's), three 1-unit lines per order. Prints medians and
p99 (best of `--repeat` passes per order) per phase, the locations read per order, and a
checksum of every plan (shipments, cost, policy, locations read), which must not change
between two versions of the code that read the same rings.
Usage: python bench/bench_rings.py --locations 10000 --orders 300
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sourcing as bs  # noqa: E402

from service.domain.sourcing import Limits, SourcingLine  # noqa: E402
from service.domain.sourcing.rings import Site, SiteTable, plan_in_rings  # noqa: E402
from service.solvers import highs  # noqa: E402

PHASES = ("with_backlog", "floors", "plan_in_rings", "total")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    candidates = bs.build_candidates(args.locations, args.skus, args.seed, 1.0)
    by_id = {c.location_id: c for c in candidates}
    sites = [Site(c.location_id, c.lat, c.lon, c.backlog_ratio, c.processing_hours,
                  c.priority) for c in candidates]
    table = SiteTable(sites, bs.WEIGHTS, [c.rule_cost for c in candidates])
    rng = random.Random(args.seed + 5)
    skus = sorted({sku for c in candidates for sku in c.available})
    ship_tos = [ship_to for ship_to, _ in bs.build_orders(args.orders, candidates, args.seed)]
    orders = [(ship_to, [SourcingLine(sku, 1) for sku in rng.sample(skus, 3)])
              for ship_to in ship_tos]
    moves = [{rng.choice(sites).location_id: rng.uniform(0, 1.5) for _ in range(3)}
             for _ in orders]

    def fetch(location_ids):
        return [by_id[i] for i in location_ids if i in by_id]

    def one_pass() -> tuple[list[tuple[float, ...]], list[tuple]]:
        patched, times, plans = table, [], []
        for (ship_to, lines), moved in zip(orders, moves, strict=True):
            t0 = time.perf_counter()
            patched = patched.with_backlog(moved)
            t1 = time.perf_counter()
            floors = patched.floors(ship_to, bs.SHIPPING, bs.POLICY.shipment_penalty)
            t2 = time.perf_counter()
            plan = plan_in_rings(lines, ship_to, floors, fetch, bs.WEIGHTS, bs.POLICY,
                                 bs.SHIPPING, True, limits=Limits(bs.MAX_PLAN_MS, highs.solve))
            t3 = time.perf_counter()
            times.append(tuple(x * 1000 for x in (t1 - t0, t2 - t1, t3 - t2, t3 - t0)))
            plans.append((tuple((s.location_id, s.lines) for s in plan.shipments),
                          round(plan.total_cost, 6), plan.policy_applied,
                          plan.explanation["candidates"]["locations_read"]))
        return times, plans

    gc.collect()
    passes = []
    for _ in range(args.repeat):
        times, plans = one_pass()
        passes.append(times)
    best = [tuple(min(column) for column in zip(*per_order, strict=True))
            for per_order in zip(*passes, strict=True)]
    read = statistics.fmean(p[3] for p in plans)
    checksum = hashlib.sha1(repr(plans).encode()).hexdigest()[:12]
    print(f"rings: {args.locations} locations, {args.orders} orders, {read:.1f} locations "
          f"read per order, plans checksum {checksum}")
    for n, name in enumerate(PHASES):
        column = [row[n] for row in best]
        print(f"  {name:14s} median {statistics.median(column):.3f} ms  "
              f"p99 {bs.percentile(column, 99):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
