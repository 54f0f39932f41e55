"""Orders over HTTP on PostgreSQL, and 64 clients racing for 5 hot SKUs.

1. Throughput: 3-line orders (distinct random SKUs, ship-tos at real ZIP coordinates, a
   unique Idempotency-Key each) sent by wrk at 16 connections to `oms serve` (gunicorn, its
   default workers) on the 1,000 x 1,000 network, beside two baselines of the same run: a
   hello-world endpoint served the same way, and `pgbench` (its built-in TPC-B-like script,
   16 clients, scale 16) on the same PostgreSQL. Targets (issue 18, ratios so that any
   machine can judge them): >= 8% of hello-world's requests/s and >= 12% of pgbench's
   transactions/s. After a warm-up, ROUNDS rounds of hello-world, orders and pgbench run in
   turn; each round's shares are against its own baselines, and each figure is its median
   round's (on a 2-core VM the same code gave 5.5% and 6.8% of hello-world in single runs
   40 minutes apart: the machine's speed drifts between runs measured apart).
2. Contention: 64 concurrent clients order 5 hot SKUs that are nearly sold out; one request
   in five is retried with its Idempotency-Key. Afterwards the ledger is audited: no position
   allocates more than it holds, every allocated unit belongs to a fulfilment line, every 201
   is in the database, no key made two orders, and every retry returned the first answer.

Each part runs on its own copy of the loaded network (the throughput run's allocations would
otherwise sit on the hot SKUs when their counts are lowered).

Usage: python bench/bench_orders.py [--pg-url URL --hot-pg-url URL] [--duration 10]
       [--json PATH]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
from bench_http import free_port, start_hello, start_service, stop_server  # noqa: E402
from common import Figure  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from service.services.access.keys import create_key  # noqa: E402
from service.store.models import FulfilmentLineRow, OrderRow, StockPosition  # noqa: E402

CONNECTIONS, THREADS = 16, 2
HELLO_SHARE, PGBENCH_SHARE = 0.08, 0.12
PGBENCH_SCALE = 16  # pgbench's advice: a scale at least the number of clients
HOT_SKUS = [f"SKU-{i:06d}" for i in (11, 222, 333, 444, 555)]
CLIENTS, ORDERS_EACH = 64, 12
ROUNDS = 3  # hello-world, orders and pgbench in turn


def shipto_file(count: int = 2000, seed: int = 5) -> Path:
    """A file of "lat,lon" lines at real US ZIP codes (wrk reads it)."""
    import zipcodes

    rng = random.Random(seed)
    rows = [z for z in zipcodes.list_all() if z["zip_code_type"] == "STANDARD" and z["lat"]]
    path = Path(tempfile.mkstemp(suffix=".csv")[1])
    path.write_text("".join(f"{z['lat']},{z['long']}\n" for z in rng.sample(rows, count)))
    return path


def run_wrk(url: str, lua: Path, env: dict[str, str], duration: float) -> dict[str, Any]:
    """One wrk run: completed requests, non-2xx answers, latency percentiles (ms)."""
    argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration:g}s", "--latency",
            "-s", str(lua), url]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    raw = json.loads(next(ln for ln in out.splitlines() if ln.startswith("WRK_JSON "))[9:])
    seconds = raw["duration_us"] / 1e6
    return {"rps": raw["requests"] / seconds,
            "ok_rps": (raw["requests"] - raw["status"]) / seconds,
            "non_2xx": raw["status"], "requests": raw["requests"],
            "socket_errors": raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
            **{f"{p}_ms": raw[f"{p}_us"] / 1000 for p in ("p50", "p90", "p99")}}


def throughput(pg_url: str, duration: float, rounds: int = ROUNDS) -> dict[str, Any]:
    """After a 2 s orders warm-up and ANALYZE, `rounds` rounds of hello-world, orders and
    pgbench in turn, `duration` seconds each. Each round's shares are taken against that
    round's own baselines (the machine's speed drifts by 20% within minutes: measured apart,
    the baselines judged the drift), and the figures are the median rounds'."""
    ctx = common.bench_context(pg_url)
    key = create_key(ctx, "channel:web", label="bench-orders")
    ctx.close()
    hello_port, port = free_port(), free_port()
    hello = start_hello(hello_port)
    service = start_service(pg_url, port)
    shiptos = shipto_file()
    wrk_env = {**os.environ, "OMS_KEY": key, "OMS_SKUS": str(common.SKUS),
               "OMS_SHIPTOS": str(shiptos), "OMS_MODE": "hello"}
    done = []
    try:
        conninfo = pgbench_database()
        run_wrk(f"http://127.0.0.1:{port}", HERE / "wrk_orders.lua", wrk_env, 2)  # warm-up
        analyze_order_tables(pg_url)
        for _ in range(rounds):
            first = run_wrk(f"http://127.0.0.1:{hello_port}", HERE / "wrk_script.lua",
                            wrk_env, duration)
            orders = run_wrk(f"http://127.0.0.1:{port}", HERE / "wrk_orders.lua", wrk_env,
                             duration)
            done.append(_round(first, orders, pgbench_run(conninfo, duration)))
    finally:
        stop_server(hello)
        stop_server(service)
        shiptos.unlink()
        common.drop_pg_database(PGBENCH_DB)
    return summary(done)


def _round(hello: dict[str, Any], orders: dict[str, Any], tps: float) -> dict[str, Any]:
    return {"hello": hello, "orders": orders, "pgbench_tps": tps,
            "hello_share": orders["ok_rps"] / hello["rps"], "pgbench_share": orders["ok_rps"] / tps}


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median round by hello-world share (its orders and hello-world runs) and by
    pgbench share (its pgbench tps), and every round."""
    by_hello = sorted(rounds, key=lambda r: r["hello_share"])[len(rounds) // 2]
    by_pgbench = sorted(rounds, key=lambda r: r["pgbench_share"])[len(rounds) // 2]
    return {"orders": by_hello["orders"], "hello_rps": by_hello["hello"]["rps"],
            "hello_share": by_hello["hello_share"], "pgbench_share": by_pgbench["pgbench_share"],
            "pgbench": {"tps": by_pgbench["pgbench_tps"], "clients": CONNECTIONS,
                        "scale": PGBENCH_SCALE},
            "rounds": rounds}


# pgbench's database (OMS_BENCH_PGBENCH_DB: a name of its own when runs share a server)
PGBENCH_DB = os.environ.get("OMS_BENCH_PGBENCH_DB", "oms_bench_pgbench")


def pgbench_database() -> str:
    """pgbench's tables at PGBENCH_SCALE in a new database PGBENCH_DB; its conninfo."""
    conninfo = common._libpq(common.create_pg_database(PGBENCH_DB))
    subprocess.run(["pgbench", "-i", "-q", "-s", str(PGBENCH_SCALE), "-d", conninfo],
                   check=True, capture_output=True, text=True)
    return conninfo


def pgbench_run(conninfo: str, duration: float) -> float:
    """pgbench's built-in TPC-B-like script, as many clients as wrk has connections:
    committed transactions per second (without connection time)."""
    out = subprocess.run(["pgbench", "-n", "-c", str(CONNECTIONS), "-j", str(THREADS),
                          "-T", str(max(1, round(duration))), "-d", conninfo],
                         check=True, capture_output=True, text=True).stdout
    return next(float(ln.split("=")[1].split()[0]) for ln in out.splitlines()
                if ln.startswith("tps ="))


ORDER_TABLES = ("orders", "order_lines", "fulfilments", "fulfilment_lines", "events")


def analyze_order_tables(pg_url: str) -> None:
    """ANALYZE the order tables after the warm-up, as the scheduler's `tables.analyze` job
    does within 15 s (this benchmark runs no scheduler). The copy of the network starts with
    them empty, and each connection plans its foreign-key checks at its first order: by
    scanning those tables, a plan kept until statistics change. Unanalyzed, throughput falls
    as they grow (three 6 s runs in a row: 202, 173, 158 orders/s).
    """
    import psycopg

    with psycopg.connect(common._libpq(pg_url), autocommit=True) as conn:
        conn.execute(f"ANALYZE {', '.join(ORDER_TABLES)}")


def make_scarce(pg_url: str) -> dict[str, int]:
    """Leave each hot SKU with a few units at 20 locations (through the delta push path)."""
    from datetime import UTC, datetime

    from service.feeds.stock_rows import StockRow
    from service.services.inventory import deltas

    ctx = common.bench_context(pg_url)
    when = datetime.now(UTC)
    rng = random.Random(9)
    with ctx.sessions() as session:
        locations = session.scalars(text("SELECT id FROM locations ORDER BY id")).all()
    rows, line = [], 0
    for sku in HOT_SKUS:
        keep = set(rng.sample(locations, 20))
        for location in locations:
            line += 1
            rows.append(StockRow(line, location, sku, when,
                                 on_hand=rng.randint(1, 4) if location in keep else 0))
    with ctx.transaction() as uow:
        uow.journal.because("delta", feed="bench")
        deltas.apply_deltas(ctx, uow, rows, [], len(rows))
    with ctx.sessions() as session:
        on_hand = dict(session.execute(
            select(StockPosition.sku, func.sum(StockPosition.on_hand))
            .where(StockPosition.sku.in_(HOT_SKUS)).group_by(StockPosition.sku)).all())
    ctx.close()
    return {sku: int(units) for sku, units in on_hand.items()}


def _post(conn: http.client.HTTPConnection, key: str, body: dict, idem: str) -> tuple[int, str]:
    conn.request("POST", "/v1/orders", json.dumps(body), {
        "Authorization": f"Bearer {key}", "Content-Type": "application/json",
        "Idempotency-Key": idem})
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    return response.status, payload.get("id", "")


def _client(port: int, key: str, n: int) -> list[dict[str, Any]]:
    rng = random.Random(n)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    done = []
    for i in range(ORDERS_EACH):
        lines = [{"sku": s, "quantity": rng.randint(1, 2)} for s in rng.sample(HOT_SKUS, 2)]
        body = {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0}, "lines": lines}
        idem = f"hot-{n}-{i}"
        status, order_id = _post(conn, key, body, idem)
        record = {"key": idem, "status": status, "id": order_id}
        if i % 5 == 0:  # the client "timed out" and retries the same request
            record["retry"] = _post(conn, key, body, idem)
        done.append(record)
    conn.close()
    return done


def contention(pg_url: str) -> dict[str, Any]:
    """64 clients on 5 hot SKUs, then an audit of the ledger against the answers."""
    stock = make_scarce(pg_url)
    ctx = common.bench_context(pg_url)
    key = create_key(ctx, "channel:web", label="bench-hot")
    port = free_port()
    service = start_service(pg_url, port)
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            records = [r for batch in pool.map(lambda n: _client(port, key, n), range(CLIENTS))
                       for r in batch]
    finally:
        stop_server(service)
    audit = _audit(ctx, records)
    ctx.close()
    return {"stock": stock, "records": len(records), **audit}


def _audit(ctx: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    with ctx.sessions() as session:
        positions = session.execute(select(StockPosition.location_id, StockPosition.sku,
                                           StockPosition.on_hand, StockPosition.allocated)
                                    .where(StockPosition.sku.in_(HOT_SKUS))).all()
        open_lines = dict(session.execute(text(
            "SELECT f.location_id || '|' || fl.sku, SUM(fl.quantity - fl.quantity_cancelled) "
            "FROM fulfilment_lines fl JOIN fulfilments f ON f.id = fl.fulfilment_id "
            "WHERE fl.sku = ANY(:skus) GROUP BY 1"), {"skus": HOT_SKUS}).all())
        ids = set(session.scalars(
            select(OrderRow.id).where(OrderRow.idempotency_key.like("hot-%"))))
        keys = session.execute(select(OrderRow.idempotency_key, func.count())
                               .where(OrderRow.idempotency_key.like("hot-%"))
                               .group_by(OrderRow.idempotency_key)).all()
        taken = session.scalar(select(func.sum(FulfilmentLineRow.quantity)).where(
            FulfilmentLineRow.sku.in_(HOT_SKUS)))
    created = [r for r in records if r["status"] == 201]
    return {
        "statuses": {str(s): sum(r["status"] == s for r in records)
                     for s in sorted({r["status"] for r in records})},
        "oversold_positions": sum(1 for p in positions if p.allocated > p.on_hand),
        "allocation_mismatches": sum(1 for p in positions if p.allocated != int(
            open_lines.get(f"{p.location_id}|{p.sku}", 0))),
        "lost_orders": sum(1 for r in created if r["id"] not in ids),
        "duplicate_orders": sum(1 for _key, n in keys if n > 1),
        "retries_differing": sum(1 for r in records if "retry" in r and r["status"] == 201
                                 and r["retry"] != (201, r["id"])),
        "server_errors": sum(r["status"] >= 500 for r in records),
        "units_allocated": int(taken or 0),
    }


def figures(tp: dict[str, Any], hot: dict[str, Any]) -> list[Figure]:
    """Each figure beside its baseline and target."""
    orders, tps = tp["orders"], tp["pgbench"]["tps"]
    bad = sum(hot[k] for k in ("oversold_positions", "allocation_mismatches", "lost_orders",
                               "duplicate_orders", "retries_differing", "server_errors"))
    hello_share, pgbench_share = tp["hello_share"], tp["pgbench_share"]
    errors = sum(r["orders"]["non_2xx"] + r["orders"]["socket_errors"] for r in tp["rounds"])
    note = (f"{orders['ok_rps']:.0f} orders/s; p50 {orders['p50_ms']:.0f} ms, "
            f"p99 {orders['p99_ms']:.0f} ms; non-2xx and socket errors {errors}; rounds "
            + ", ".join(f"{r['orders']['ok_rps']:.0f}/s ({100 * r['hello_share']:.2f}% of "
                        f"{r['hello']['rps']:,.0f}, {100 * r['pgbench_share']:.1f}% of "
                        f"{r['pgbench_tps']:,.0f})" for r in tp["rounds"]))
    return [
        Figure("orders", "3-line orders over HTTP on PostgreSQL, share of hello-world req/s",
               100 * hello_share, "%", baseline=tp["hello_rps"],
               baseline_what="hello-world req/s", target=f">= {100 * HELLO_SHARE:g}%",
               passed=hello_share >= HELLO_SHARE, note=note),
        Figure("orders", "3-line orders over HTTP on PostgreSQL, share of pgbench's TPC-B tps",
               100 * pgbench_share, "%", baseline=tps,
               baseline_what=f"pgbench tps ({CONNECTIONS} clients, scale {PGBENCH_SCALE})",
               target=f">= {100 * PGBENCH_SHARE:g}%", passed=pgbench_share >= PGBENCH_SHARE,
               note=note),
        Figure("orders", "64 clients on 5 hot SKUs: oversold + lost + duplicate + mismatched",
               bad, "faults", target="0", passed=bad == 0,
               note=f"answers {hot['statuses']}; units allocated {hot['units_allocated']} of "
                    f"{sum(hot['stock'].values())} in stock"),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run both parts on loaded databases (or on fresh copies it loads and drops)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="a loaded bench database for throughput (not dropped)")
    parser.add_argument("--hot-pg-url", help="another loaded copy for the hot-SKU run")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    own = args.pg_url is None or args.hot_pg_url is None
    url, hot_url = args.pg_url, args.hot_pg_url
    if own:
        url = common.create_pg_database("oms_bench_orders")
        common.load_network(url, common.network())
        hot_url = common.clone_pg_database("oms_bench_orders", "oms_bench_orders_hot")
    try:
        tp = throughput(url, args.duration)
        hot = contention(hot_url)
    finally:
        if own:
            common.drop_pg_database("oms_bench_orders_hot")
            common.drop_pg_database("oms_bench_orders")
    figs = figures(tp, hot)
    for fig in figs:
        common.print_figure(fig)
    common.write_json(args.json, figs, throughput=tp, contention=hot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
