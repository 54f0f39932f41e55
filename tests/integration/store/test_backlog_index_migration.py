"""Migration 0035 on PostgreSQL: the order's first statement counts backlog deletions and
finds moved rows by index; the downgrade gives 0034's function (the row count) back."""

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert, text

from service.store.db import make_engine
from service.store.migrate import alembic_config, upgrade
from service.store.models import Location
from tests.integration.store.test_order_ref_migration import fresh_url  # noqa: F401

NOW = datetime(2026, 12, 7, tzinfo=UTC)
START = text("SELECT kind, name, n FROM oms_order_start('order', '{}', '', NULL)")


def deletions_or_rows(engine) -> int:
    """The number the 's' row of oms_order_start carries."""
    with engine.begin() as conn:
        return next(n for kind, _, n in conn.execute(START) if kind == "s")


def seed_backlog(engine, locations: int) -> None:
    with engine.begin() as conn:
        for n in range(locations):
            conn.execute(insert(Location), [{"id": f"ST-{n}", "name": f"ST-{n}", "type": "store",
                                             "lat": 40.7, "lon": -74.0, "updated_at": NOW}])
            conn.execute(text("INSERT INTO location_backlog (location_id, open_lines) "
                              "VALUES (:id, 2)"), {"id": f"ST-{n}"})


def test_deletions_are_counted_and_the_downgrade_counts_rows_again(fresh_url):  # noqa: F811
    if not fresh_url.startswith("postgresql"):
        pytest.skip("the backlog read since a snapshot is PostgreSQL's")
    upgrade(fresh_url, "0035")
    engine = make_engine(fresh_url)
    seed_backlog(engine, 3)
    assert deletions_or_rows(engine) == 0
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM location_backlog WHERE location_id = 'ST-0'"))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM location_backlog WHERE location_id = 'nowhere'"))
    assert deletions_or_rows(engine) == 2  # each deleting statement, rows or none
    command.downgrade(alembic_config(fresh_url), "0034")
    assert deletions_or_rows(engine) == 2  # 0034's row count: ST-1 and ST-2
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM location_backlog WHERE location_id = 'ST-1'"))
        counter = conn.scalar(text("SELECT to_regclass('location_backlog_deletions')"))
    assert deletions_or_rows(engine) == 1
    assert counter is None
    upgrade(fresh_url, "head")
    assert deletions_or_rows(engine) == 0
    engine.dispose()
