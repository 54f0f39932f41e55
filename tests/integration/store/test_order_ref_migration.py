"""Migration 0010 makes order_ref unique per channel: a database holding orders placed twice
under one reference stops the upgrade, naming them, and changes nothing (SQLite and
PostgreSQL, each on a database of its own)."""

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from service.store.db import make_engine
from service.store.migrate import upgrade
from tests.conftest import PG_ENV, _postgres_url

ORDER = text("INSERT INTO orders (id, channel, order_ref, status, delivery_method, ship_to,"
             " attributes, ruleset, plan, explanation, created_at, updated_at) VALUES (:id,"
             " :channel, :ref, 'created', 'ship', '{}', '{}', 'default@1', '{}', '{}',"
             " '2026-01-01 00:00:00', '2026-01-01 00:00:00')")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path) -> Iterator[str]:
    """An empty database of its own (a PostgreSQL schema is dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL leg skipped: set {PG_ENV} to run it")
    schema, admin = f"oms_mig_{uuid.uuid4().hex[:10]}", make_engine(os.environ[PG_ENV])
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield _postgres_url(schema)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_orders_placed_twice_under_one_reference_stop_the_upgrade_naming_them(fresh_url):
    upgrade(fresh_url, "0008")
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        for order_id, channel, ref in (("o-1", "web", "WEB-1"), ("o-2", "web", "WEB-1"),
                                       ("o-3", "app", "WEB-1"), ("o-4", "web", None),
                                       ("o-5", "web", None)):
            conn.execute(ORDER, {"id": order_id, "channel": channel, "ref": ref})
    with pytest.raises(RuntimeError, match="channel 'web' order_ref 'WEB-1': 2 orders") as exc:
        upgrade(fresh_url)
    assert "1 reference(s)" in str(exc.value) and "nothing was changed" in str(exc.value)
    with engine.begin() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0008"
        conn.execute(text("UPDATE orders SET order_ref = 'WEB-1-dup' WHERE id = 'o-2'"))
    upgrade(fresh_url)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(ORDER, {"id": "o-6", "channel": "web", "ref": "WEB-1"})
        if engine.dialect.name == "postgresql":  # orders partitioned: order_keys holds it (0027)
            conn.execute(text("INSERT INTO order_keys (order_id, channel, order_ref)"
                              " VALUES ('o-6', 'web', 'WEB-1')"))
    engine.dispose()
