"""GET /v1/orders (issue 14): a status and channel filter over 1,000,000 orders, at 16
connections, against hello-world served the same way in the same run.

The orders are written straight into PostgreSQL (generate_series: 5 channels, 8 statuses,
created over a year), then analyzed; the service and hello-world run under gunicorn as
`oms serve` runs them, and wrk asks for the first page (100 orders, newest first) of a random
channel and status, in 3 rounds of hello-world and search. The figure is the median round's
p99 (target <= 20 ms), beside that round's hello-world p99.

Usage: python bench/bench_order_search.py [--pg-url URL] [--orders 1000000] [--duration 6]
       [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
from bench_http import free_port, run_wrk, start_hello, start_service, stop_server  # noqa: E402
from common import Figure  # noqa: E402

from service.services.access.keys import create_key  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402

ROUNDS = 3
SEARCH_P99_RATIO = 2.0
CHANNELS = ("web", "app", "marketplace", "kiosk", "call_center")
STATUSES = ("created", "in_progress", "partially_shipped", "shipped", "delivered",
            "backordered", "partially_backordered", "cancelled")
ORDERS_SQL = """
INSERT INTO orders (id, channel, order_ref, customer_id, status, delivery_method, ship_to,
                    attributes, ruleset, plan, explanation, created_at, updated_at)
SELECT md5(i::text), (ARRAY{channels})[1 + i % {n_channels}], 'REF-' || i,
       'c-' || (i % 50000), (ARRAY{statuses})[1 + (i / 7) % {n_statuses}], 'ship',
       '{{}}', '{{}}', 'default@2', '{{}}', '{{}}',
       TIMESTAMP '2026-01-01' + (i * INTERVAL '31 seconds'),
       TIMESTAMP '2026-01-01' + (i * INTERVAL '31 seconds')
FROM generate_series(1, {orders}) AS i
"""


def load_orders(url: str, orders: int) -> float:
    """Write `orders` orders and analyze; seconds taken (setup, not measured)."""
    started = time.perf_counter()
    sql = ORDERS_SQL.format(channels=_array(CHANNELS), n_channels=len(CHANNELS),
                            statuses=_array(STATUSES), n_statuses=len(STATUSES), orders=orders)
    with psycopg.connect(common._libpq(url), autocommit=True) as conn:
        conn.execute(sql)
        conn.execute("ANALYZE orders")
    return time.perf_counter() - started


def _array(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def run(url: str, duration: float) -> tuple[list[Figure], dict[str, Any]]:
    ctx = common.bench_context(url)
    try:
        key = create_key(ctx, "admin", label="bench")
    finally:
        ctx.close()
    hello_port, port = free_port(), free_port()
    hello, service = start_hello(hello_port), None
    try:
        service = start_service(url, port)
        urls = {"hello": f"http://127.0.0.1:{hello_port}", "search": f"http://127.0.0.1:{port}"}
        for mode, target in urls.items():
            run_wrk(target, mode, key, 2)
        rounds = [{mode: run_wrk(target, mode, key, duration) for mode, target in urls.items()}
                  for _ in range(ROUNDS)]
    finally:
        stop_server(hello)
        if service is not None:
            stop_server(service)
    return figures(rounds), {"rounds": rounds}


def figures(rounds: list[dict[str, Any]]) -> list[Figure]:
    ranked = sorted(rounds, key=lambda r: r["search"]["p99_ms"])
    median = ranked[len(ranked) // 2]
    errors = sum(r["search"]["errors"] for r in rounds)
    p99 = median["search"]["p99_ms"]
    listed = ", ".join(f"{r['search']['p99_ms']:.1f} ms (hello {r['hello']['p99_ms']:.1f})"
                       for r in rounds)
    hello_p99 = median["hello"]["p99_ms"]
    note = (f"{median['search']['rps']:.0f} req/s; rounds {listed}; errors {errors}")
    return [Figure("orders", "GET /v1/orders?channel=&status= p99 over 1M orders, 16 connections",
                   p99, "ms", baseline=hello_p99, baseline_what="hello-world p99 ms",
                   target="<= 20 ms", passed=p99 <= 20 and errors == 0, note=note),
            Figure("orders", "the same p99, x hello-world's p99 in the same round",
                   p99 / hello_p99, "x", baseline=hello_p99,
                   baseline_what="hello-world p99 ms", target=f"<= {SEARCH_P99_RATIO:g}x",
                   passed=p99 <= SEARCH_P99_RATIO * hello_p99 and errors == 0,
                   note="the ratio any machine can judge (issue 18's rule); 2x, as 20 ms is "
                        "twice hello-world's p99 of about 10 ms on a quiet 2-core machine")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="a migrated bench database to add the orders to")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    url, own = args.pg_url, args.pg_url is None
    if own:
        url = common.create_pg_database("oms_bench_search")
        upgrade(url)
    try:
        loaded = load_orders(url, args.orders)
        print(f"  {args.orders:,} orders written and analyzed in {loaded:.1f} s (setup)",
              flush=True)
        figs, results = run(url, args.duration)
    finally:
        if own:
            common.drop_pg_database("oms_bench_search")
    for fig in figs:
        common.print_figure(fig)
    common.write_json(args.json, figs, results=results, setup_seconds=loaded)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
