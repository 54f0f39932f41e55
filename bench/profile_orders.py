"""Profiling harness (not a timed test): place N 3-line orders through the Flask test client.

It drives POST /v1/orders in-process, as `bench/wrk_orders.lua` does over HTTP (three
distinct random SKUs, ship-tos at real ZIP coordinates, a unique Idempotency-Key each), on a
loaded PostgreSQL bench database, and prints per order: process CPU ms, wall ms, statements
and round trips sent to PostgreSQL (psycopg cursor executes, pipeline syncs, BEGIN, COMMIT
and ROLLBACK each counted), the PostgreSQL blocks its backends found in shared_buffers and
read from outside them (pg_stat_database's blks_hit and blks_read of the database, before
and after), and with --profile a cProfile of the CPU by phase. --json writes the figures.

Usage: python bench/profile_orders.py --pg-url URL [--orders 500] [--warm 100] [--profile]
       [--json PATH]
Run it under `strace -f -c -e trace=sendto` to confirm the round trips from the sockets.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import pstats
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import psycopg  # noqa: E402
from bench_orders import analyze_order_tables, shipto_file  # noqa: E402

from service.app import create_app  # noqa: E402
from service.services.access.keys import create_key  # noqa: E402

COUNTS: Counter[str] = Counter()
STATEMENTS: Counter[str] = Counter()

# phases of an order: the functions whose cumulative CPU is reported (name fragments)
PHASES = {
    "whole request (test client)": "testing.py:.*(open)",
    "auth (key lookup/confirm)": "auth.py:.*(wrapper|_authenticate|authenticated)",
    "body parsing (json_object)": "bodies.py:.*(json_object)",
    "place() total": "placing.py:.*(place)$",
    "transaction begin/commit": "context.py:.*(transaction)",
    "active ruleset": "active.py:.*(active)",
    "backlog + versions read": "backlog.py:.*(read_first)",
    "request parse/validate": "requests.py:.*(parse)",
    "experiment choice": "live.py:.*(choose)",
    "reservations.consume": "reservations.py:.*(consume)",
    "sourcing.source": "sourcing.py:.*(source)",
    "shadowing.plans": "shadowing.py:.*(plans)",
    "allocate": "allocation.py:.*(allocate)",
    "new order (domain)": "placing.py:.*(_new_order)",
    "order_view": "views.py:.*(order_view)",
    "orders.add (insert)": "orders.py:.*(add)",
    "request_hash": "placing.py:.*(request_hash)",
    "jsonify response": "json/provider.py:.*(response)",
}


def _count_calls() -> None:
    """Count what each psycopg connection sends (class-level wrappers, Python layer)."""
    def wrap(cls: Any, name: str, label: str) -> None:
        original = getattr(cls, name)

        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            COUNTS[label] += 1
            if args and label.startswith("execute"):
                STATEMENTS[" ".join(str(args[0]).split())[:90]] += 1
            return original(self, *args, **kwargs)
        setattr(cls, name, counted)

    from psycopg._connection_base import BaseConnection

    exec_command = BaseConnection._exec_command

    def command(self: Any, cmd: Any, *args: Any, **kwargs: Any) -> Any:
        COUNTS["command"] += 1
        STATEMENTS[f"(command) {bytes(cmd) if isinstance(cmd, bytes) else cmd!s}"[:90]] += 1
        return exec_command(self, cmd, *args, **kwargs)
    BaseConnection._exec_command = command  # type: ignore[method-assign]
    wrap(psycopg.Cursor, "execute", "execute")
    wrap(psycopg.Cursor, "executemany", "executemany")
    wrap(psycopg.Connection, "commit", "commit")
    wrap(psycopg.Connection, "rollback", "rollback")
    wrap(psycopg.Connection, "pipeline", "pipeline")


def _backend_cpu(pg_url: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends of this database (same machine),
    the harness's own included."""
    with psycopg.connect(common._libpq(pg_url), autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]
    return sum(sum(common.cpu_seconds(pid)) for pid in pids)


def _blocks(ctx: Any, pg_url: str) -> tuple[int, int]:
    """(blks_read, blks_hit) of this database so far. The pool's and kept connections are
    closed first and their backends waited for: a backend adds its counts to
    pg_stat_database when it exits (while it runs, at most once a second)."""
    ctx.close()  # the pool and the kept connections; both reopen on the next request
    with psycopg.connect(common._libpq(pg_url), autocommit=True) as conn:
        deadline = time.monotonic() + 20
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid()").fetchone()[0]:
            if time.monotonic() > deadline:
                print("warning: backends still connected, pg_stat_database may lag")
                break
            time.sleep(0.05)
        read, hit = conn.execute("SELECT blks_read, blks_hit FROM pg_stat_database "
                                 "WHERE datname = current_database()").fetchone()
    return int(read), int(hit)


def _bodies(n: int, skus: int, seed: int) -> list[tuple[dict[str, Any], str]]:
    rng = random.Random(seed)
    points = [ln.split(",") for ln in shipto_file().read_text().splitlines()]
    out = []
    for i in range(n):
        chosen = rng.sample(range(1, skus + 1), 3)
        lat, lon = rng.choice(points)
        body = {"channel": "web", "ship_to": {"lat": float(lat), "lon": float(lon)},
                "lines": [{"sku": f"SKU-{s:06d}", "quantity": 1} for s in chosen]}
        out.append((body, f"prof-{seed}-{i}"))
    return out


def _place_all(client: Any, headers: dict[str, str],
               orders: list[tuple[dict[str, Any], str]]) -> Counter[int]:
    statuses: Counter[int] = Counter()
    for body, key in orders:
        response = client.post("/v1/orders", data=json.dumps(body),
                               headers={**headers, "Idempotency-Key": key,
                                        "Content-Type": "application/json"})
        statuses[response.status_code] += 1
    return statuses


def _phases(profile: cProfile.Profile, n: int) -> list[tuple[str, float]]:
    import re

    stats = pstats.Stats(profile)
    rows = []
    for label, pattern in PHASES.items():
        file_part, func_part = pattern.split(":.*")
        regex = re.compile(func_part.strip("()$").join(["^(", ")$"]))
        total = sum(v[3] for (file, _line, func), v in stats.stats.items()  # type: ignore[attr-defined]
                    if file.endswith(file_part) and regex.match(func))
        rows.append((label, total * 1000 / n))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--warm", type=int, default=100)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=0, help="print the top N functions")
    parser.add_argument("--sort", default="tottime", help="pstats sort key for --top")
    parser.add_argument("--json", type=Path, help="write the per-order figures here")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # no request log lines
    ctx = common.bench_context(args.pg_url)
    app = create_app(ctx=ctx)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {create_key(ctx, 'channel:web', label='profile')}"}
    _count_calls()
    warm = _bodies(args.warm, common.SKUS, args.seed + 1)
    print("warm-up:", dict(_place_all(client, headers, warm)))
    analyze_order_tables(args.pg_url)
    orders = _bodies(args.orders, common.SKUS, args.seed)
    COUNTS.clear()
    STATEMENTS.clear()
    profile = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
    blocks = _blocks(ctx, args.pg_url)
    server = _backend_cpu(args.pg_url)
    cpu, wall = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    statuses = _place_all(client, headers, orders)
    if profile:
        profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    server = _backend_cpu(args.pg_url) - server
    read, hit = (after - before for after, before in zip(_blocks(ctx, args.pg_url), blocks,
                                                         strict=True))
    n = args.orders
    trips = COUNTS["execute"] + COUNTS["executemany"] + COUNTS["command"]
    print(f"statuses {dict(statuses)}")
    print(f"per order: CPU {cpu * 1000 / n:.2f} ms, wall {wall * 1000 / n:.2f} ms "
          f"(database and waits {max(0.0, wall - cpu) * 1000 / n:.2f} ms); PostgreSQL "
          f"backends' CPU {server * 1000 / n:.2f} ms")
    print("per order: " + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(COUNTS.items()))
          + f"; round trips (statements + BEGIN/COMMIT/ROLLBACK commands) {trips / n:.2f}")
    print(f"per order: PostgreSQL blocks {(read + hit) / n:.1f} (found in shared_buffers "
          f"{hit / n:.1f}, read from outside them {read / n:.1f})")
    common.write_json(args.json, [], per_order={
        "orders": n, "statuses": dict(statuses), "worker_cpu_ms": cpu * 1000 / n,
        "wall_ms": wall * 1000 / n, "pg_cpu_ms": server * 1000 / n, "round_trips": trips / n,
        "blks_read": read / n, "blks_hit": hit / n})
    for text, count in STATEMENTS.most_common(20):
        print(f"  {count / n:5.2f} x {text}")
    if profile:
        print("CPU by phase (cumulative, ms per order):")
        for label, ms in _phases(profile, n):
            print(f"  {label:32s} {ms:7.3f} ms")
        if args.top:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
    ctx.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
