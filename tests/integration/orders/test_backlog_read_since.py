"""An order's first statement sees the backlog exactly as a full read would, whatever other
transactions did since the previous order of the same thread.

On PostgreSQL the thread keeps its last read and asks only for the rows moved since that
read's snapshot (store/backlog_kept.py, migrations 0034 and 0035); SQLite reads every row. Other
connections update, insert, delete and roll back backlog rows between the reads, some still
open while the order reads and committed after it, and the reading transaction moves rows
itself (committed or rolled back, with or without a transaction id before its read).
"""

import random
from contextlib import suppress
from functools import partial

import pytest
from sqlalchemy import text

from service.services.orders import backlog
from service.store.backlog import KEPT

LOCATIONS = ["ST-1", "ST-2", "DC-1", "DS-1"]
UPSERT = text("INSERT INTO location_backlog (location_id, open_lines) VALUES (:loc, :n) "
              "ON CONFLICT (location_id) DO UPDATE SET open_lines = :n")
DELETE = text("DELETE FROM location_backlog WHERE location_id = :loc")
TABLE = text("SELECT location_id, open_lines FROM location_backlog")


class Rollback(Exception):
    """Raised to roll the reading transaction back."""


def order_start(ctx, take_id_first=None, moves: dict[str, int] | None = None,
                roll_back: bool = False) -> tuple[dict[str, int], dict[str, int]]:
    """The counts an order's first statement gives, and the table as the next statement of
    the same transaction reads it (nothing commits between the two in these tests).

    `take_id_first`: the transaction takes its id before reading, then this runs (another
    transaction completing after that id makes the id look visible in the read's snapshot).
    """
    seen: list[dict[str, int]] = []
    with suppress(Rollback), ctx.transaction() as uow:
        if take_id_first:
            uow.session.execute(text("SELECT pg_current_xact_id()"))
            take_id_first()
        backlog.read_first(uow, uow.journal.cause("order", order="o-1", channel="web"))
        seen.append(dict(backlog.open_lines(uow)))
        seen.append({loc: n for loc, n in uow.session.execute(TABLE) if n})
        if moves:
            uow.orders.backlog.move(moves)
        if roll_back:
            raise Rollback
    return seen[0], seen[1]


def commit_one(conn, loc: str, n: int) -> None:
    """Another transaction writes one row and completes."""
    conn.execute(UPSERT, {"loc": loc, "n": n})
    conn.commit()


@pytest.fixture
def other(small_network, db_engine):
    """Another connection writing backlog rows (its own transactions)."""
    with db_engine.connect() as conn:
        yield conn
        conn.rollback()


def test_each_order_start_sees_what_a_full_read_sees(small_network, other, db_engine):
    postgresql = db_engine.dialect.name == "postgresql"
    rng = random.Random(18)
    open_in_other = False
    for step in range(160):
        action = rng.choice(["update", "update", "delete", "open", "open delete", "roll back",
                             "own", "own rolled back", "own with an id"])
        loc, n = rng.choice(LOCATIONS), rng.choice([0, 1, 2, 5, 9])
        if open_in_other and rng.random() < 0.5:
            other.commit()  # committed after an order read while it was open
            open_in_other = False
        if action in ("update", "delete", "roll back") and not open_in_other:
            other.execute(DELETE if action == "delete" else UPSERT, {"loc": loc, "n": n})
            other.rollback() if action == "roll back" else other.commit()
        elif action.startswith("open") and postgresql and not open_in_other:
            # in progress while the order reads
            other.execute(DELETE if action.endswith("delete") else UPSERT, {"loc": loc, "n": n})
            open_in_other = True
        elif action.startswith("own") and not open_in_other:
            completes_later = partial(commit_one, other, rng.choice(LOCATIONS), n)
            taking_id = action.endswith("id") and postgresql
            kept, table = order_start(small_network, completes_later if taking_id else None,
                                      moves={loc: rng.choice([-2, 1, 3])},
                                      roll_back=action.endswith("back"))
            assert kept == table, f"step {step}: {action}"
        kept, table = order_start(small_network)
        assert kept == table, f"step {step} after {action}"
    if open_in_other:
        other.commit()
    assert order_start(small_network)[0] == order_start(small_network)[1]


def seed_and_read_once(ctx, db_engine) -> None:
    """A row at every location, read once by an order's first statement (and so kept)."""
    with db_engine.begin() as conn:
        for i, loc in enumerate(LOCATIONS):
            conn.execute(UPSERT, {"loc": loc, "n": i + 1})
    order_start(ctx)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_returns_only_the_rows_moved_since_the_last_read(small_network, db_engine):
    seed_and_read_once(small_network, db_engine)
    with db_engine.begin() as conn:
        conn.execute(UPSERT, {"loc": "DC-1", "n": 7})
    with small_network.transaction() as uow:
        cause = uow.journal.cause("order", order="o-2", channel="web")
        seen = KEPT.seen(uow.session.get_bind().url)
        rows = uow.session.execute(text(
            "SELECT kind, name, n FROM oms_order_start(:cause, :refs, :at, :seen)"),
            {**cause, "seen": seen}).all()
        deletions = uow.session.scalar(text("SELECT deletions FROM location_backlog_deletions"))
    assert [(name, n) for kind, name, n in rows if kind == "b"] == [("DC-1", 7)]
    assert next(n for kind, _, n in rows if kind == "s") == deletions  # the deletion count


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_truncated_backlog_is_read_in_full_by_the_next_order(small_network, db_engine):
    seed_and_read_once(small_network, db_engine)
    with db_engine.begin() as conn:
        conn.execute(text("TRUNCATE location_backlog"))
        conn.execute(UPSERT, {"loc": "ST-2", "n": 4})
    assert order_start(small_network) == ({"ST-2": 4}, {"ST-2": 4})


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_backlog_emptied_with_every_other_table_is_read_in_full(small_network, db_engine):
    seed_and_read_once(small_network, db_engine)
    with db_engine.begin() as conn:  # as a test's cleanup or a careless reset would
        conn.execute(text("DELETE FROM location_backlog"))
        conn.execute(text("DELETE FROM cache_versions"))
        conn.execute(UPSERT, {"loc": "DC-1", "n": 6})
    assert order_start(small_network) == ({"DC-1": 6}, {"DC-1": 6})
