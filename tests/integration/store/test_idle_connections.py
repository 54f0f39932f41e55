"""Pooled connections: a connection the database dropped while idle is never handed out."""

from __future__ import annotations

from sqlalchemy import text

from service.store import db
from service.store.db import make_engine


def test_a_connection_dropped_while_idle_is_replaced_on_checkout(db_url, monkeypatch):
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            pid = connection.scalar(text("SELECT pg_backend_pid()")) \
                if engine.dialect.name == "postgresql" else None
        if pid is not None:  # PostgreSQL: the server drops the pooled connection
            with make_engine(db_url).connect() as killer:
                killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # it has been idle long enough
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT 1")) == 1
            if pid is not None:
                assert connection.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        engine.dispose()


def test_only_a_connection_idle_for_a_while_is_pinged(db_url, monkeypatch):
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    pings: list[object] = []
    monkeypatch.setattr(db, "ping", pings.append)
    try:
        for _ in range(3):  # busy: checked out again at once
            with engine.connect() as connection:
                connection.scalar(text("SELECT 1"))
        busy = len(pings)
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
        with engine.connect() as connection:
            connection.scalar(text("SELECT 1"))
        assert busy == 0
        assert len(pings) == (1 if engine.dialect.name == "postgresql" else 0)
    finally:
        engine.dispose()
