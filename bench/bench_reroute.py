"""Re-routing a rejected 3-line fulfilment against placing a 3-line order, in-process.

On the demo network (every SKU everywhere), places 3-line orders that ship from one location
(timed: the baseline), then has each order's location reject its whole fulfilment (timed:
release, re-source without that location, allocate, save). Both are the use cases the API
calls, each in its own committed transaction; the figure is the ratio of the medians
(target <= 2x). Setup (the network) is not measured. The ledger is checked at the end.

Usage: python bench/bench_reroute.py [--pg-url URL] [--orders N] [--json PATH]
(without --pg-url: a fresh SQLite file with 200 locations x 200 SKUs)
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
from common import Figure  # noqa: E402
from sqlalchemy import text  # noqa: E402

from service.domain.roles import Role  # noqa: E402
from service.services.demo.network import generate_network  # noqa: E402
from service.services.orders import placing, rejecting  # noqa: E402

TARGET = 2.0
ADMIN = Role.parse("admin")


def order_bodies(skus: list[str], count: int, seed: int = 3) -> list[dict]:
    """3-line web orders to real places in the US (each SKU once per order)."""
    rng = random.Random(seed)
    points = [(40.71, -74.0), (41.88, -87.63), (34.05, -118.24), (29.76, -95.37),
              (33.45, -112.07), (39.95, -75.17), (47.61, -122.33), (25.76, -80.19)]
    bodies = []
    for _ in range(count):
        lat, lon = rng.choice(points)
        lines = [{"sku": sku, "quantity": 1} for sku in rng.sample(skus, 3)]
        bodies.append({"channel": "web", "ship_to": {"lat": lat, "lon": lon}, "lines": lines})
    return bodies


def measure(url: str, orders: int) -> tuple[list[float], list[float], int]:
    """(placing seconds, re-routing seconds, re-routes that placed every unit elsewhere)."""
    ctx = common.bench_context(url)
    try:
        with ctx.reading() as uow:
            skus = sorted(uow.catalog().products)
        placed_s, rerouted_s, moved = [], [], 0
        placed = []
        for body in order_bodies(skus, orders):
            start = time.perf_counter()
            result = placing.place(ctx, ADMIN, body, None)
            placed_s.append(time.perf_counter() - start)
            single = [f for f in result["fulfilments"] if len(f["lines"]) == 3]
            if single:
                placed.append(single[0]["id"])
        for fulfilment_id in placed:
            start = time.perf_counter()
            after = rejecting.reject(ctx, ADMIN, fulfilment_id,
                                     {"type": "rejected", "reason": "not_found"})
            rerouted_s.append(time.perf_counter() - start)
            moved += "backordered" not in after["order_status"]
        check_ledger(ctx)
    finally:
        ctx.close()
    return placed_s, rerouted_s, moved


def check_ledger(ctx) -> None:
    """Allocated equals the open fulfilment lines at every position."""
    with ctx.engine.connect() as conn:
        wrong = conn.execute(text(
            "SELECT count(*) FROM stock_positions sp LEFT JOIN ("
            " SELECT f.location_id, fl.sku, sum(fl.quantity - fl.quantity_shipped"
            "  - fl.quantity_rejected - fl.quantity_cancelled) AS open"
            " FROM fulfilment_lines fl JOIN fulfilments f ON f.id = fl.fulfilment_id"
            " GROUP BY f.location_id, fl.sku) o"
            " ON o.location_id = sp.location_id AND o.sku = sp.sku"
            " WHERE sp.allocated <> coalesce(o.open, 0)")).scalar()
    if wrong:
        raise SystemExit(f"ledger check failed: {wrong} positions disagree")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="a loaded bench database (default: SQLite, set up)")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    url = args.pg_url
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='oms_reroute_')}/bench.db"
        common.load_network(url, generate_network(locations=200, skus=200,
                                                  store_coverage=1.0))
    place_s, reroute_s, moved = measure(url, args.orders)
    place_ms, reroute_ms = 1000 * common.median(place_s), 1000 * common.median(reroute_s)
    ratio = reroute_ms / place_ms
    where = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{where}: {len(place_s)} orders placed, {len(reroute_s)} 3-line fulfilments "
          f"rejected and re-routed ({moved} placed elsewhere in full)")
    print(f"placing a 3-line order      median {place_ms:8.2f} ms")
    print(f"re-routing its fulfilment   median {reroute_ms:8.2f} ms")
    print(f"ratio re-route / place      {ratio:8.2f}x  (target <= {TARGET:g}x)")
    figure = Figure("reroute", f"re-routing a rejected 3-line fulfilment ({where}): median",
                    reroute_ms, "ms", baseline=place_ms,
                    baseline_what="placing a 3-line order, median ms",
                    target=f"<= {TARGET:g}x placing", passed=ratio <= TARGET,
                    note=f"ratio {ratio:.2f}x over {len(reroute_s)} re-routes")
    common.print_figure(figure)
    common.write_json(args.json, [figure], place_ms=place_s, reroute_ms=reroute_s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
