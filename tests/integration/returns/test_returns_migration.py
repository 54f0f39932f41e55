"""Migration 0019 upgrades a database holding a return written before it (SQLite and
PostgreSQL): the return keeps its rows, takes its order's channel, `open` becomes `opened`,
its line counts nothing received yet; and it downgrades to 0016 and upgrades again."""

from alembic import command
from sqlalchemy import text

from service.store.db import make_engine
from service.store.migrate import alembic_config, upgrade
from tests.integration.store.test_order_ref_migration import fresh_url  # noqa: F401
from tests.integration.store.test_upgrade_populated import ROWS


def test_a_return_written_before_0019_upgrades_and_the_migration_goes_back_and_forth(
        fresh_url):  # noqa: F811
    upgrade(fresh_url, "0007")
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        for row in ROWS:
            conn.execute(text(row))
    upgrade(fresh_url, "0016")
    with engine.begin() as conn:
        conn.execute(text("UPDATE return_lines SET condition = 'damaged', reason = 'torn'"))

    upgrade(fresh_url)

    with engine.begin() as conn:
        ret = conn.execute(text("SELECT channel, status, updated_at, created_at FROM returns"))
        channel, status, updated_at, created_at = ret.one()
        assert (channel, status, updated_at) == ("web", "opened", created_at)
        line = conn.execute(text("SELECT quantity, quantity_received, reason FROM return_lines"))
        assert tuple(line.one()) == (1, 0, "torn")
        assert conn.scalar(text("SELECT COUNT(*) FROM return_receipts")) == 0
        assert conn.scalar(text("SELECT vendor FROM products")) is None
    engine.dispose()
    command.downgrade(alembic_config(fresh_url), "0016")
    upgrade(fresh_url)
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        assert conn.scalar(text("SELECT status FROM returns")) == "opened"
    engine.dispose()
