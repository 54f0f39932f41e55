"""Order placement with a long history (issue 18): 3-line orders over HTTP on a database
without historical orders, and on a copy of it holding N historical orders, in the same run.

Two copies of the 1,000 x 1,000 demo network (`--pg-url`, kept, or one it loads and drops):
one as it is, one given N historical orders
over the past 2 years (written straight into PostgreSQL with generate_series, time-ordered ids
in their months' partitions, each with its Idempotency-Key in order_keys and `--lines` order
lines; then ANALYZE). The service runs under gunicorn on each (as `oms serve` runs it) and wrk
sends 3-line orders (bench_orders.py's script, 16 connections) to one then the other, in
alternating rounds. The figure is the ratio of the median rounds' placement rates, history
over none (target >= 0.9: "unchanged"); the absolute rates move with the machine's load.

Usage: python bench/bench_history.py [--pg-url URL] [--orders 2000000] [--lines 1]
       [--duration 8] [--rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
from bench_http import free_port, start_service, stop_server  # noqa: E402
from bench_orders import analyze_order_tables, run_wrk, shipto_file  # noqa: E402
from common import Figure  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from service.services.access.keys import create_key  # noqa: E402
from service.store.order_partitions import ensure_order_partitions  # noqa: E402

RATIO_TARGET = 0.9
HISTORY_DAYS = 730
CHUNK = 1_000_000
BASE, NONE, HISTORY = "oms_bench_history", "oms_bench_history_none", "oms_bench_history_big"
CHANNELS = ("web", "app", "marketplace", "kiosk", "call_center")
STATUSES = ("delivered", "delivered", "delivered", "shipped", "cancelled", "partially_shipped")
# One chunk of historical orders [first, last]: order i was placed at start + i * step ms;
# its id is time-ordered (the first 12 hex digits its millisecond), as the service makes them.
HISTORY_SQL = """
WITH o AS (
  INSERT INTO orders (id, channel, order_ref, customer_id, status, delivery_method, ship_to,
                      attributes, ruleset, plan, explanation, idempotency_key, request_hash,
                      on_short, created_at, updated_at)
  SELECT lpad(to_hex(floor(extract(epoch FROM x.t) * 1000)::bigint), 12, '0') || '7'
           || lpad(to_hex(i), 19, '0'),
         (ARRAY{channels})[1 + i %% 5], 'H-' || lpad(i::text, 12, '0'), 'c-' || (i %% 500000),
         (ARRAY{statuses})[1 + (i / 7) %% 6], 'ship', '{{"lat": 40.7, "lon": -74.0}}', '{{}}',
         'default@2', '{{}}', '{{}}', 'hist-' || lpad(i::text, 12, '0'), 'h', 'backorder', x.t,
         x.t
  FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i,
       LATERAL (SELECT %(start)s::timestamp + i * %(step)s * INTERVAL '1 millisecond') AS x(t)
  RETURNING id, channel, idempotency_key, order_ref
), k AS (
  INSERT INTO order_keys (order_id, channel, idempotency_key, order_ref)
  SELECT id, channel, idempotency_key, order_ref FROM o
), skus AS (SELECT ARRAY(SELECT sku FROM products ORDER BY sku) AS a)
INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, quantity_cancelled,
                         quantity_backordered)
SELECT o.id, n, skus.a[1 + abs(hashint8(hashtext(o.id) + n)) %% cardinality(skus.a)], 1, 10, 0, 0
FROM o, skus, generate_series(1, %(lines)s) AS n
"""


def write_history(url: str, orders: int, lines: int) -> float:
    """Write `orders` historical orders (and their keys and lines) over the past two years,
    creating their months' partitions first; ANALYZE. Seconds taken (setup, not measured)."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    engine = create_engine(url)
    with engine.begin() as conn:
        ensure_order_partitions(conn, now, months_back=HISTORY_DAYS // 30 + 1)
    engine.dispose()
    start = (now - timedelta(days=HISTORY_DAYS)).replace(tzinfo=None)
    step = (HISTORY_DAYS - 1) * 86_400_000 // orders  # ms between orders, ending a day ago
    sql = HISTORY_SQL.format(channels=_array(CHANNELS), statuses=_array(STATUSES))
    with psycopg.connect(common._libpq(url), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # setup: FKs hold by design
        conn.execute("SET maintenance_work_mem = '512MB'")
        rebuild = drop_secondary_indexes(conn)  # built once at the end: far faster
        for first in range(1, orders + 1, CHUNK):
            last = min(orders, first + CHUNK - 1)
            conn.execute(sql, {"first": first, "last": last, "start": start, "step": step,
                               "lines": lines})
            print(f"  {last:,} of {orders:,} historical orders written "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
        for statement in rebuild:
            conn.execute(statement)
        print(f"  indexes rebuilt ({time.perf_counter() - started:.0f} s)", flush=True)
        conn.execute("SET session_replication_role = DEFAULT")
        conn.execute("VACUUM ANALYZE orders, order_keys, order_lines")
    return time.perf_counter() - started


def drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the indexes and unique constraints (not the primary keys) of orders, order_keys
    and order_lines; the statements that make them again, exactly as they were."""
    rows = conn.execute("""
        SELECT i.indexrelid::regclass::text, c.conname, c.conrelid::regclass::text,
               pg_get_indexdef(i.indexrelid), pg_get_constraintdef(c.oid)
        FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid
                                                 AND c.contype = 'u'
        WHERE i.indrelid IN ('orders'::regclass, 'order_keys'::regclass,
                             'order_lines'::regclass) AND NOT i.indisprimary""").fetchall()
    rebuild = []
    for index, constraint, table, index_def, constraint_def in rows:
        if constraint is not None:
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
            rebuild.append(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {constraint_def}")
        else:
            conn.execute(f"DROP INDEX {index}")
            rebuild.append(index_def.replace(" ON ONLY ", " ON "))  # every partition
    return rebuild


def _array(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def rounds(urls: dict[str, str], duration: float, count: int) -> list[dict[str, Any]]:
    """Alternating wrk runs of 3-line orders against a service on each database."""
    keys, services, ports = {}, {}, {}
    for name, url in urls.items():
        ctx = common.bench_context(url)
        keys[name] = create_key(ctx, "channel:web", label="bench-history")
        ctx.close()
    shiptos = shipto_file()
    try:
        for name, url in urls.items():
            ports[name] = free_port()
            services[name] = start_service(url, ports[name])
        env = {name: {**os.environ, "OMS_KEY": keys[name], "OMS_SKUS": str(common.SKUS),
                      "OMS_SHIPTOS": str(shiptos)} for name in urls}
        for name, url in urls.items():  # warm-up, then the statistics the scheduler keeps
            run_wrk(f"http://127.0.0.1:{ports[name]}", HERE / "wrk_orders.lua", env[name], 2)
            analyze_order_tables(url)
        results = []
        for i in range(count):
            order = list(urls) if i % 2 == 0 else list(reversed(urls))
            results.append({name: run_wrk(f"http://127.0.0.1:{ports[name]}",
                                          HERE / "wrk_orders.lua", env[name], duration)
                            for name in order})
            print(f"  round {i + 1}: " + ", ".join(
                f"{name} {r['ok_rps']:.0f} orders/s" for name, r in results[-1].items()),
                flush=True)
        return results
    finally:
        for service in services.values():
            stop_server(service)
        shiptos.unlink()


def figures(results: list[dict[str, Any]], orders: int, lines: int) -> list[Figure]:
    none = statistics.median(r["none"]["ok_rps"] for r in results)
    history = statistics.median(r["history"]["ok_rps"] for r in results)
    ratio = history / none
    errors = sum(r[m]["non_2xx"] + r[m]["socket_errors"] for r in results for m in r)
    listed = "; ".join(f"{r['none']['ok_rps']:.0f} vs {r['history']['ok_rps']:.0f}"
                       for r in results)
    return [Figure("orders", f"3-line orders/s with {orders:,} historical orders ({lines} "
                             "line(s) each), x the rate with none (same run)",
                   ratio, "x", baseline=none, baseline_what="orders/s with no history",
                   target=f">= {RATIO_TARGET:g}x", passed=ratio >= RATIO_TARGET and errors == 0,
                   note=f"{history:.0f} vs {none:.0f} orders/s (medians); rounds none vs "
                        f"history {listed}; non-2xx + socket errors {errors}")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="a loaded bench database (kept: its copy gets the "
                                         "history)")
    parser.add_argument("--orders", type=int, default=2_000_000)
    parser.add_argument("--lines", type=int, default=1, help="lines per historical order")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    own, url = args.pg_url is None, args.pg_url
    if own:
        url = common.create_pg_database(BASE)
        common.load_network(url, common.network())
    try:
        source = psycopg.conninfo.conninfo_to_dict(common._libpq(url))["dbname"]
        none, big = (common.clone_pg_database(source, name) for name in (NONE, HISTORY))
        written = write_history(big, args.orders, args.lines)
        print(f"  {args.orders:,} historical orders written and analyzed in {written:.0f} s "
              "(setup)", flush=True)
        common.checkpoint()
        results = rounds({"none": none, "history": big}, args.duration, args.rounds)
        machine = common.machine_info(url)
    finally:
        common.drop_pg_database(HISTORY)
        common.drop_pg_database(NONE)
        if own:
            common.drop_pg_database(BASE)
    figs = figures(results, args.orders, args.lines)
    for fig in figs:
        common.print_figure(fig)
    common.write_json(args.json, figs, rounds=results, setup_seconds=written,
                      orders=args.orders, lines=args.lines, machine=machine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
