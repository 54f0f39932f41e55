"""The schema enforces integrity itself, identically on SQLite and PostgreSQL."""

import re
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from service.store.models import Base, Location, Product, StockPosition

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def seed_master(engine):
    with engine.begin() as conn:
        conn.execute(
            insert(Product),
            [{"sku": "A", "name": "a", "tags": [], "attributes": {}, "tags_text": ",",
              "updated_at": NOW}],
        )
        conn.execute(
            insert(Location),
            [
                {
                    "id": "L1",
                    "name": "l",
                    "type": "store",
                    "lat": 1,
                    "lon": 2,
                    "tags": [],
                    "tags_text": ",",
                    "updated_at": NOW,
                }
            ],
        )


def position(**overrides):
    row = {"location_id": "L1", "sku": "A", "on_hand": 1, "as_of": NOW, "updated_at": NOW}
    row.update(overrides)
    return row


ORDER_PARTITION = re.compile(r"orders_(p\d{4}_\d{2}(_\d+)?|legacy|default)$")
# on PostgreSQL order_keys holds these (orders is partitioned by id: store/order_partitions.py)
ORDER_UNIQUES = {"channel_idempotency_key", "channel_order_ref"}
# PostgreSQL-only columns no model maps (each read and written by SQL of its own)
PG_ONLY_COLUMNS = {("location_backlog", "moved_by")}  # migration 0034, store/backlog_kept.py
PG_ONLY_INDEXES = {"ix_location_backlog_moved_by"}  # migration 0035, the same module
PG_ONLY_TABLES = {"location_backlog_deletions"}  # migration 0035: only its trigger writes it


def _compared(postgresql: bool, partitions: set[str]):
    """What compare_metadata looks at: on PostgreSQL, not the partitions (each carries the
    parent's indexes, and each foreign key to orders one constraint per partition) nor the
    unique keys order_keys holds for orders, nor its PostgreSQL-only columns and indexes."""
    def include(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        if type_ == "foreign_key_constraint":  # PostgreSQL adds one per referenced partition
            table = obj.referred_table
        if table is not None and (table.name in partitions or ORDER_PARTITION.match(table.name)):
            return False
        if postgresql and type_ == "column" and (table.name, name) in PG_ONLY_COLUMNS:
            return False
        if postgresql and type_ == "index" and name in PG_ONLY_INDEXES:
            return False
        return not (postgresql and type_ == "unique_constraint" and name in ORDER_UNIQUES)
    return include


def test_the_migration_matches_the_models(db_engine):
    postgresql = db_engine.dialect.name == "postgresql"
    with db_engine.connect() as conn:
        partitions = partition_names(conn)  # PostgreSQL's partitions are not model tables
        context = MigrationContext.configure(conn, opts={
            "include_name": lambda name, kind, _: kind != "table" or name not in (
                partitions | PG_ONLY_TABLES),
            "include_object": _compared(postgresql, partitions)})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def partition_names(conn) -> set[str]:
    if conn.dialect.name != "postgresql":
        return set()
    return set(conn.scalars(text("SELECT inhrelid::regclass::text FROM pg_inherits")))


@pytest.mark.parametrize("field", ["on_hand", "allocated", "reserved"])
def test_negative_quantities_are_refused_by_the_database(ctx, db_engine, field):
    seed_master(db_engine)
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(insert(StockPosition), [position(**{field: -1})])


def test_one_position_per_location_and_sku(ctx, db_engine):
    seed_master(db_engine)
    with db_engine.begin() as conn:
        conn.execute(insert(StockPosition), [position()])
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(insert(StockPosition), [position(on_hand=5)])


def test_a_position_must_name_a_known_location(ctx, db_engine):
    seed_master(db_engine)
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(insert(StockPosition), [position(location_id="NOWHERE")])


def test_unknown_location_types_are_refused(ctx, db_engine):
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(
            insert(Location),
            [
                {
                    "id": "X",
                    "name": "x",
                    "type": "warehouse",
                    "lat": 0,
                    "lon": 0,
                    "tags": [],
                    "tags_text": ",",
                    "updated_at": NOW,
                }
            ],
        )


def test_timestamps_come_back_in_utc(ctx, db_engine):
    seed_master(db_engine)
    with db_engine.begin() as conn:
        conn.execute(insert(StockPosition), [position()])
    with ctx.sessions() as session:
        stored = session.query(StockPosition).one().as_of
    assert stored == NOW and stored.tzinfo is not None


def test_the_active_ruleset_function_takes_the_same_lock_as_a_switch():
    from importlib import import_module

    from service.store import activations

    migration = import_module("service.store.migrations.versions.0005_active_ruleset_function")
    assert migration.SWITCH_LOCK == activations._SWITCH_LOCK
