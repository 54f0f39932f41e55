"""In-process CPU of GET /v1/orders?channel=&status= (issue 14), through the Flask test
client: the page, hello-world (GET /healthz-like cost of the framework) and, with --profile,
a cProfile breakdown. The noise of other load on the machine matters less here than under wrk.

The orders are loaded as bench_order_search.py loads them (its load_orders) into a PostgreSQL
database this script creates (--pg-url: an already loaded one), or into a SQLite file
(--sqlite, fewer orders, written through the same SQL shape).

Usage: python bench/profile_order_search.py [--pg-url URL | --sqlite PATH] [--orders N]
       [--requests 2000] [--profile] [--keep]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_order_search as search_bench  # noqa: E402
import common  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from service.app import create_app  # noqa: E402
from service.services.access.keys import create_key  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402

DATABASE = "oms_profile_order_search"


def load_sqlite(url: str, orders: int) -> None:
    """`orders` orders written with the bench's shape (channel, status, created times)."""
    engine = create_engine(url)
    rows = [{"id": f"{i:032x}", "channel": search_bench.CHANNELS[i % 5],
             "ref": f"REF-{i}", "customer": f"c-{i % 50000}",
             "status": search_bench.STATUSES[(i // 7) % 8],
             "at": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime(1767225600 + i * 31))}
            for i in range(1, orders + 1)]
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO orders (id, channel, order_ref, customer_id, status, delivery_method,"
            " ship_to, attributes, ruleset, plan, explanation, created_at, updated_at) VALUES"
            " (:id, :channel, :ref, :customer, :status, 'ship', '{}', '{}', 'default@2', '{}',"
            " '{}', :at, :at)"), rows)
    engine.dispose()


def measure(client, paths: list[str], headers: dict[str, str], requests: int) -> float:
    """Milliseconds of CPU per request (process time), over `requests` requests."""
    started = time.process_time()
    for i in range(requests):
        response = client.get(paths[i % len(paths)], headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
    return (time.process_time() - started) * 1000 / requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="an already loaded database (not dropped)")
    parser.add_argument("--sqlite", type=Path, help="a SQLite file to create and load")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database it created")
    args = parser.parse_args(argv)
    if args.sqlite:
        args.sqlite.unlink(missing_ok=True)
        url = f"sqlite:///{args.sqlite}"
        upgrade(url)
        load_sqlite(url, args.orders)
    elif args.pg_url:
        url = args.pg_url
    else:
        url = common.create_pg_database(DATABASE)
        upgrade(url)
        print(f"  loaded in {search_bench.load_orders(url, args.orders):.1f} s", flush=True)
    ctx = common.bench_context(url)
    try:
        key = create_key(ctx, "admin", label="profile")
        client = create_app(ctx=ctx).test_client()
        headers = {"Authorization": f"Bearer {key}"}
        rng = random.Random(14)
        paths = [f"/v1/orders?channel={rng.choice(search_bench.CHANNELS)}"
                 f"&status={rng.choice(search_bench.STATUSES)}" for _ in range(64)]
        measure(client, paths, headers, 200)  # warm: caches, connections, plans
        hello = measure(client, ["/healthz"], {}, args.requests)
        page = measure(client, paths, headers, args.requests)
        print(f"  GET /healthz {hello:.3f} ms CPU/request; GET /v1/orders?channel=&status= "
              f"(100 orders) {page:.3f} ms CPU/request; {args.requests} requests each")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            measure(client, paths, headers, args.requests)
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
    finally:
        ctx.close()
        if not args.pg_url and not args.sqlite and not args.keep:
            common.drop_pg_database(DATABASE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
