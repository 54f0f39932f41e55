"""Outbox and journal inserts, partitioned (migration 0026) against plain tables (0025).

Two schemas on one PostgreSQL, one migrated to 0025 (plain tables) and one to head
(partitioned by month, with the partitions the migration makes plus DEFAULT); the same
single-row INSERTs (one transaction each, as the service writes them) alternate between
them in rounds, so noise from other work on the machine hits both alike. Prints the median
per-row wall time of each, and the ratio.

    .venv/bin/python bench/bench_partitions.py \
        postgresql+psycopg://postgres@127.0.0.1:5432/test [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.store.db import make_engine
from service.store.migrate import upgrade

EVENT = text("INSERT INTO events (aggregate_type, aggregate_id, type, payload, created_at,"
             " attempts) VALUES ('order', 'o-1', 'order.placed', '{\"a\": 1}', :at, 0)")
JOURNAL = text("INSERT INTO inventory_journal (at, location_id, sku, cause, refs,"
               " on_hand_before, on_hand_after, allocated_before, allocated_after,"
               " reserved_before, reserved_after) VALUES (:at, 'DC-1', 'A', 'order', '{}',"
               " 5, 5, 0, 1, 0, 0)")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
PER_ROUND = 250


def schema_url(url: str, schema: str) -> str:
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}) \
        .render_as_string(hide_password=False)


def per_row(engine, statement, one_transaction: bool) -> float:
    """Seconds per row of PER_ROUND single-row INSERT statements: each its own transaction
    (commit included, as the service writes), or all in one (the statement alone: what
    tuple routing could add, without the commit's fsync)."""
    started = time.perf_counter()
    if one_transaction:
        with engine.begin() as conn:
            for _ in range(PER_ROUND):
                conn.execute(statement, {"at": datetime.now(UTC).replace(tzinfo=None)})
    else:
        for _ in range(PER_ROUND):
            with engine.begin() as conn:
                conn.execute(statement, {"at": datetime.now(UTC).replace(tzinfo=None)})
    return (time.perf_counter() - started) / PER_ROUND


def main(url: str) -> None:
    admin = make_engine(url)
    schemas = {"plain": f"bench_plain_{uuid.uuid4().hex[:6]}",
               "partitioned": f"bench_part_{uuid.uuid4().hex[:6]}"}
    with admin.begin() as conn:
        for schema in schemas.values():
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        upgrade(schema_url(url, schemas["plain"]), "0025")
        upgrade(schema_url(url, schemas["partitioned"]))
        engines = {k: make_engine(schema_url(url, s)) for k, s in schemas.items()}
        for mode, together in (("a transaction per row", False),
                               ("rows in one transaction", True)):
            for name, statement in (("events", EVENT), ("inventory_journal", JOURNAL)):
                times: dict[str, list[float]] = {"plain": [], "partitioned": []}
                for _ in range(ROUNDS):
                    for kind, engine in engines.items():
                        times[kind].append(per_row(engine, statement, together))
                plain, parted = (statistics.median(times[k]) for k in times)
                print(f"{name}, {mode}: plain {plain * 1e6:.0f} us/row, partitioned"
                      f" {parted * 1e6:.0f} us/row, ratio {parted / plain:.3f} (median of"
                      f" {ROUNDS} rounds of {PER_ROUND} single-row INSERTs)")
        for engine in engines.values():
            engine.dispose()
    finally:
        with admin.begin() as conn:
            for schema in schemas.values():
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
