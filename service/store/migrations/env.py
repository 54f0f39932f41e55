"""Alembic environment: migrates the URL handed over by service.store.migrate."""

from collections import Counter

from alembic import context
from sqlalchemy import pool

from service.store.db import make_engine
from service.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on a live connection (offline SQL generation is not supported)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        _run_sqlite(connection)
        return
    _migrate(connection)


def _run_sqlite(connection) -> None:
    """SQLite changes a table by rebuilding it (copy, drop, rename), and dropping a table that
    other tables point at fails while foreign keys are enforced, so a database holding orders
    could not upgrade. Enforcement is off while migrating (a pragma that only works outside a
    transaction); before the migration's transaction commits, it is rolled back if it left
    more rows pointing at nothing than the database already had."""
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        _migrate(connection, guarded=True)
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def _dangling_references(connection) -> Counter:
    """How many rows of each table point at a missing row of each parent table."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    return Counter((table, parent) for table, _rowid, parent, _fk in rows)


def _refuse_new_dangling(connection, before: Counter) -> None:
    grown = _dangling_references(connection) - before
    if grown:
        listed = ", ".join(f"{n} row(s) of {t} -> {p}" for (t, p), n in grown.items())
        raise RuntimeError(f"the migration left rows pointing at nothing ({listed});"
                           " nothing was changed")


def _migrate(connection, guarded: bool = False) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        before = _dangling_references(connection) if guarded else None
        context.run_migrations()
        if before is not None:
            _refuse_new_dangling(connection, before)


run_migrations_online()
