"""Migration 0026 on a database in use: events, inventory_journal and settlement_records keep
every row and id (PostgreSQL: each row in its month's partition, new ids after the old ones);
the downgrade gives plain tables back with the same rows. SQLite keeps its tables."""

from alembic import command
from sqlalchemy import text

from service.store.db import make_engine
from service.store.migrate import alembic_config, upgrade
from tests.integration.store.test_order_ref_migration import fresh_url  # noqa: F401
from tests.integration.store.test_upgrade_populated import ROWS

EVENT = ("INSERT INTO events (id, aggregate_type, aggregate_id, type, payload, created_at,"
         " attempts, delivered_at) VALUES (:id, 'order', 'o-1', 'order.placed', '{}', :at, 0,"
         " :at)")
JOURNAL = ("INSERT INTO inventory_journal (id, at, location_id, sku, cause, refs,"
           " on_hand_before, on_hand_after, allocated_before, allocated_after,"
           " reserved_before, reserved_after) VALUES (:id, :at, 'DC-1', 'SKU-1', 'feed', '{}',"
           " 0, 1, 0, 0, 0, 0)")
RECORD = ("INSERT INTO settlement_records (id, kind, order_id, order_line_id, sku, quantity,"
          " amount, created_at) VALUES (:id, 'shipped', 'o-1', 1, 'SKU-1', 1, 9.5, :at)")
SUBSCRIPTION = ("INSERT INTO webhook_subscriptions (id, url, events, secret_encrypted, source,"
                " created_at) VALUES ('sub-1', 'http://x', '[]', 'x', 'api', '2026-01-01')")
DELIVERY = ("INSERT INTO webhook_deliveries (subscription_id, event_id, order_key, status,"
            " attempts, next_attempt_at, created_at) VALUES ('sub-1', 12, 'o-1', 'delivered',"
            " 1, '2026-01-01', '2026-01-01')")
TIMES = {11: "2025-11-30 23:59:59.999999", 12: "2025-12-01 00:00:00", 13: "2026-03-15 08:00:00"}
TABLES = ("events", "inventory_journal", "settlement_records")


def seed(engine) -> None:
    with engine.begin() as conn:
        for statement in (EVENT, JOURNAL, RECORD):
            for row_id, at in TIMES.items():
                conn.execute(text(statement), {"id": row_id, "at": at})
        conn.execute(text(SUBSCRIPTION))
        conn.execute(text(DELIVERY))
        if engine.dialect.name == "postgresql":  # ids given explicitly: move the sequences on
            for table in TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 13)"))


def rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {table: [tuple(r) for r in conn.execute(text(
            f"SELECT id, {'at' if table == 'inventory_journal' else 'created_at'}"
            f" FROM {table} WHERE id > 10 ORDER BY id"))] for table in TABLES}


def test_the_upgrade_keeps_every_row_and_id_and_the_downgrade_gives_them_back(
        fresh_url):  # noqa: F811
    upgrade(fresh_url, "0007")
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        for row in ROWS:
            conn.execute(text(row))
    upgrade(fresh_url, "0025")
    seed(engine)
    before = rows(engine)
    upgrade(fresh_url)
    assert rows(engine) == before
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            placed = dict(conn.execute(text(
                "SELECT id, tableoid::regclass::text FROM events WHERE id > 10")).all())
            assert placed == {11: "events_p20251101", 12: "events_p20251201",
                              13: "events_p20260301"}
            kinds = dict(conn.execute(text(
                "SELECT relname, relkind FROM pg_class WHERE relname IN"
                " ('events', 'inventory_journal', 'settlement_records')")).all())
            assert set(kinds.values()) == {"p"}
        for table in TABLES:  # the sequence goes on after the copied ids
            assert conn.scalar(text(_copy_without_id(table))) > 13
        assert conn.scalar(text("SELECT count(*) FROM webhook_deliveries")) == 1
    command.downgrade(alembic_config(fresh_url), "0025")
    after = rows(engine)
    for table in TABLES:
        assert after[table][:3] == before[table] and len(after[table]) == 4
    with engine.connect() as conn:
        if postgres:
            assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'events'"
                                    " AND relnamespace = current_schema()::regnamespace")) == "r"
            assert conn.scalar(text(
                "SELECT count(*) FROM pg_constraint WHERE conname ="
                " 'fk_webhook_deliveries_event_id_events'"
                " AND conrelid = 'webhook_deliveries'::regclass")) == 1
        else:
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    upgrade(fresh_url)  # and up again
    assert rows(engine)["events"][:3] == before["events"]
    engine.dispose()


def _copy_without_id(table: str) -> str:
    """Insert a copy of row 13 letting the sequence choose the id; returns the new id."""
    columns = {
        "events": "aggregate_type, aggregate_id, type, payload, created_at, attempts",
        "inventory_journal": "at, location_id, sku, cause, refs, on_hand_before, on_hand_after,"
                             " allocated_before, allocated_after, reserved_before,"
                             " reserved_after",
        "settlement_records": "kind, order_id, order_line_id, sku, quantity, amount,"
                              " created_at",
    }[table]
    return f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table} WHERE id = 13" \
           " RETURNING id"
