"""Migration 0036 on PostgreSQL: the JSON columns of orders, of its partitions then and of
those made later, are compressed with lz4; the downgrade gives the server's default back."""

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from service.store.db import make_engine
from service.store.migrate import alembic_config, upgrade
from service.store.order_partitions import ensure_order_partitions
from tests.integration.store.test_order_ref_migration import fresh_url  # noqa: F401

LATER = datetime(2031, 5, 1, tzinfo=UTC)  # a month no partition covers at upgrade
JSON_COLUMNS = ["ship_to", "attributes", "plan", "explanation", "response"]


def compression_by_table(engine) -> dict[str, set[str]]:
    """Per table (orders and each partition): the compression its JSON columns name."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT a.attrelid::regclass::text, a.attcompression FROM pg_attribute a"
            " WHERE a.attname = ANY(:names) AND a.attrelid IN (SELECT 'orders'::regclass"
            " UNION ALL SELECT inhrelid FROM pg_inherits"
            " WHERE inhparent = 'orders'::regclass)"), {"names": JSON_COLUMNS})
        found: dict[str, set[str]] = {}
        for table, method in rows:
            found.setdefault(table, set()).add(method)
        return found


def lz4_supported(engine) -> bool:
    with engine.connect() as conn:
        try:
            conn.execute(text("SET default_toast_compression = lz4"))
        except Exception:  # noqa: BLE001 - a server built without lz4 refuses the setting
            return False
        return True


def test_every_orders_partition_compresses_its_json_with_lz4_until_downgraded(fresh_url):  # noqa: F811
    if not fresh_url.startswith("postgresql"):
        pytest.skip("column compression is PostgreSQL's")
    upgrade(fresh_url, "head")
    engine = make_engine(fresh_url)
    if not lz4_supported(engine):
        pytest.skip("this PostgreSQL was built without lz4")
    with engine.begin() as conn:
        assert ensure_order_partitions(conn, LATER, months_ahead=0)
    found = compression_by_table(engine)
    assert {"orders", "orders_default", "orders_p2031_05"} <= set(found)
    assert all(methods == {"l"} for methods in found.values()), found
    command.downgrade(alembic_config(fresh_url), "0035")
    assert all(methods == {""} for methods in compression_by_table(engine).values())
    engine.dispose()
