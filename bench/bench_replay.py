"""Replaying past orders against stock as it was, in-process, beside live planning.

On the demo network, places `--orders` 3-line web orders through the placing use case (the
history; every 100 orders a delta push moves some of their SKUs' stock), then:

1. live planning (the baseline): the same requests planned by the dry-run use case, reading
   the database as the live path does, orders/s;
2. replay: the replay use case with the ruleset that decided live, twice over (baseline and
   candidate are the same ruleset): the history read (journal, positions, fulfilments)
   and every order re-planned on the in-memory ledger, orders/s over both rulesets' orders.

Every replayed plan must equal its live plan (checked and printed). Target >= 500 orders/s.

Usage: python bench/bench_replay.py [--pg-url URL] [--orders N] [--json PATH]
(without --pg-url: a fresh SQLite file with 100 locations x 200 SKUs)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from bench_reroute import order_bodies  # noqa: E402
from common import Figure  # noqa: E402

from service.domain.roles import Role  # noqa: E402
from service.services.demo.network import generate_network  # noqa: E402
from service.services.inventory import pushes  # noqa: E402
from service.services.orders import placing, planning  # noqa: E402
from service.services.replay.simulate import Ask, simulate  # noqa: E402

TARGET = 500.0
ADMIN = Role.parse("admin")


def place_history(ctx, bodies: list[dict]) -> tuple[list[str], float]:
    """Place the orders (a delta push every 100); their ids and the seconds it took."""
    rng = random.Random(11)
    ids = []
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        ids.append(placing.place(ctx, ADMIN, body, None)["id"])
        if i % 100 == 99:
            with ctx.reading() as uow:
                locations = sorted(uow.catalog().locations)
            rows = [{"location": rng.choice(locations), "sku": line["sku"], "adjust": 3}
                    for line in body["lines"]]
            pushes.push_deltas(ctx, ADMIN, {}, rows)
    return ids, time.perf_counter() - start


def live_planning(ctx, bodies: list[dict]) -> float:
    """Seconds to plan every request with the dry-run use case (the live path's reads)."""
    start = time.perf_counter()
    for body in bodies:
        planning.plan(ctx, ADMIN, body)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="a loaded bench database (default: SQLite, set up)")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    url = args.pg_url
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='oms_replay_')}/bench.db"
        common.load_network(url, generate_network(locations=100, skus=200,
                                                  store_coverage=1.0))
    ctx = common.bench_context(url)
    try:
        with ctx.reading() as uow:
            skus, active = sorted(uow.catalog().products), ctx.rules.active(uow).ref
        bodies = order_bodies(skus, args.orders)
        ids, placed_s = place_history(ctx, bodies)
        planned_s = live_planning(ctx, bodies)
        start = time.perf_counter()
        result = simulate(ctx, Ask(active, active, orders=tuple(ids)))
        replay_s = time.perf_counter() - start
    finally:
        ctx.close()
    live_rate, replay_rate = len(ids) / planned_s, 2 * len(ids) / replay_s
    same = result["baseline"]["same_as_live"]
    where = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{where}: {len(ids)} orders placed in {placed_s:.1f} s "
          f"({len(ids) / placed_s:.0f}/s, the history)")
    print(f"live planning (dry run)   {live_rate:10.0f} orders/s")
    print(f"replay (read + re-plan)   {replay_rate:10.0f} orders/s  ({len(ids)} orders x 2 "
          f"rulesets in {replay_s:.2f} s; target >= {TARGET:g})")
    print(f"replayed plans equal to live: {same} of {len(ids)}")
    figure = Figure("replay", f"replaying orders against stock as it was ({where}, "
                    "in-process, history read included)", replay_rate, "orders/s",
                    baseline=live_rate, baseline_what="live planning (dry run), orders/s",
                    target=f">= {TARGET:g} orders/s, every plan as live",
                    passed=replay_rate >= TARGET and same == len(ids),
                    note=f"{same}/{len(ids)} plans as live")
    common.print_figure(figure)
    common.write_json(args.json, [figure], orders=len(ids), placed_s=placed_s,
                      planned_s=planned_s, replay_s=replay_s, same_as_live=same)
    return 0  # a plan unlike live fails the figure (passed=False), not the run


if __name__ == "__main__":
    raise SystemExit(main())
