"""What the inventory journal costs a write of stock, on PostgreSQL.

Two writes, each timed with the journal's triggers on (and the cause named, as a use case
does) and off (the triggers disabled, no cause), in alternating rounds on one database so
load on a shared machine falls on both alike:

1. an order's write: one transaction that names its cause and moves one position's
   allocation by a one-row UPDATE (the shape of the order path's allocation statement);
2. a snapshot's write: one UPDATE ... FROM of `--rows` positions' on_hand (the shape of the
   snapshot path's set-based count write);
3. with `--snapshot-locations N`: whole snapshot files of N x 1,000 positions, 5% changed,
   applied as bench_snapshot applies them (file to commit, against the round's bare COPY),
   rounds alternating journal on and off.

Usage: python bench/bench_journal.py [--locations 20] [--rounds 5] [--orders 300]
       [--rows 20000] [--snapshot-locations 0] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_snapshot  # noqa: E402
import common  # noqa: E402
import psycopg  # noqa: E402
from common import Figure  # noqa: E402

from service.services.demo.network import generate_network  # noqa: E402

DATABASE = "oms_bench_journal"
TRIGGERS = ("inventory_journal_updates", "inventory_journal_inserts")
CAUSE = ("SELECT set_config('oms.journal_cause', 'order', true),"
         " set_config('oms.journal_refs', '{\"order\": \"bench\"}', true),"
         " set_config('oms.journal_at', '2026-12-06 12:00:00.000000', true)")


def journal(conn: psycopg.Connection, on: bool) -> None:
    """Turn the journal's triggers on or off."""
    verb = "ENABLE" if on else "DISABLE"
    for name in TRIGGERS:
        conn.execute(f"ALTER TABLE stock_positions {verb} TRIGGER {name}")
    conn.commit()


def order_writes(conn: psycopg.Connection, ids: list[int], on: bool) -> float:
    """Median seconds of one order-shaped transaction (name the cause, allocate one unit)."""
    samples = []
    for pid in ids:
        start = time.perf_counter()
        with conn.transaction():
            if on:
                conn.execute(CAUSE)
            conn.execute("UPDATE stock_positions SET allocated = allocated + 1,"
                         " updated_at = now() WHERE id = %s", (pid,))
        samples.append(time.perf_counter() - start)
    return common.median(samples)


def snapshot_write(conn: psycopg.Connection, ids: list[int], on: bool, step: int) -> float:
    """Seconds of one set-based count write of these positions, committed."""
    start = time.perf_counter()
    with conn.transaction():
        if on:
            conn.execute(CAUSE.replace("'order'", "'snapshot'"))
        conn.execute("UPDATE stock_positions AS sp SET on_hand = sp.on_hand + %s,"
                     " updated_at = now() FROM unnest(%s::int[]) AS u(id) WHERE sp.id = u.id",
                     (step, ids))
    return time.perf_counter() - start


def run(url: str, rounds: int, orders: int, rows: int) -> list[Figure]:
    """Alternating rounds, journal on and off; the medians of the rounds."""
    results: dict[tuple[str, bool], list[float]] = {}
    with psycopg.connect(common._libpq(url)) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM stock_positions ORDER BY id")]
        conn.commit()
        for n in range(rounds):
            for on in (True, False):
                journal(conn, on)
                results.setdefault(("order", on), []).append(
                    order_writes(conn, ids[n * orders:(n + 1) * orders], on))
                results.setdefault(("snapshot", on), []).append(
                    snapshot_write(conn, ids[:rows], on, 1 if on else -1))
        journal(conn, True)
    figures = []
    for kind, unit in (("order", "ms per transaction"), ("snapshot", f"s per {rows:,} rows")):
        on, off = (common.median(results[(kind, flag)]) for flag in (True, False))
        scale = 1000 if kind == "order" else 1
        figures.append(Figure(
            f"journal_{kind}", f"{kind} write with the journal on (PostgreSQL)", on * scale,
            unit, baseline=off * scale, baseline_what="journal off",
            note=f"{on / off:.2f}x the same write without the journal; median of {rounds} "
                 "alternating rounds"))
    return figures


def snapshot_files(locations: int, rounds: int) -> Figure:
    """Snapshot files applied as the service applies them, journal on and off in turn."""
    net = common.network(locations)
    url = common.create_pg_database(DATABASE)
    ratios: dict[bool, list[float]] = {True: [], False: []}
    try:
        common.load_network(url, net)
        paths = [common.RESULTS_DIR / f"journal_{n}.csv" for n in range(2 * rounds)]
        common.write_snapshot_files(paths, net)
        for n, path in enumerate(paths):
            with psycopg.connect(common._libpq(url)) as conn:
                journal(conn, n % 2 == 0)
            common.checkpoint()
            copy_s = bench_snapshot.bare_copy(url, path)
            common.checkpoint()
            ratios[n % 2 == 0].append(bench_snapshot.apply_file(url, path)["total_s"] / copy_s)
    finally:
        common.drop_pg_database(DATABASE)
    on, off = (common.median(ratios[flag]) for flag in (True, False))
    return Figure("journal_snapshot_file", f"{locations * 1000:,}-position snapshot file, 5% "
                  "changed, journal on (PostgreSQL)", on, "x COPY", baseline=off,
                  baseline_what="journal off, x COPY",
                  note=f"median of {rounds} rounds each, alternating")


def main(argv: list[str] | None = None) -> int:
    """Load a small network, time both writes on and off, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--snapshot-locations", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    url = common.create_pg_database(DATABASE)
    try:
        common.load_network(url, generate_network(locations=args.locations, skus=common.SKUS,
                                                  store_coverage=1.0))
        figures = run(url, args.rounds, args.orders, args.rows)
    finally:
        common.drop_pg_database(DATABASE)
    if args.snapshot_locations:
        figures.append(snapshot_files(args.snapshot_locations, args.rounds))
    for fig in figures:
        common.print_figure(fig)
        print("   ", fig.note, flush=True)
    common.write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
