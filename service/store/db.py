"""Engine and session wiring: one engine per process, sessions per request and per job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from service.store import journal

SQLITE_BUSY_SECONDS = 30.0  # how long a SQLite writer waits for the write lock


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and rule SQL functions."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_SECONDS,
                                           "check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        event.listen(engine, "checkin", journal.forget_sqlite_context)
        return engine
    kwargs.setdefault("pool_pre_ping", False)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling without a round trip on every checkout.

    A connection that sat in the pool for IDLE_PING_SECONDS or more is pinged when checked
    out, and a dead one is replaced (the pool retries the checkout); busy connections, which
    are checked out again within milliseconds, are not pinged.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            ping(dbapi_connection)
        except Exception as exc:  # any failure means: do not hand this connection out
            raise DisconnectionError("the connection died while idle in the pool") from exc


def driver(bind: Session | Connection) -> Any:
    """The psycopg connection under a session or connection (the same transaction), for
    the few hot or bulk statements that run on the driver directly."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    return connection.connection.driver_connection


@contextmanager
def driver_errors(session: Session, statement: str, params: Any) -> Iterator[Any]:
    """The psycopg connection under `session` (`driver`), its errors raised as SQLAlchemy
    raises them (IntegrityError, OperationalError, ...), so the unit of work maps them as
    any other (a duplicate key, a deadlock, an unreachable database)."""
    pg = driver(session)
    try:
        yield pg
    except psycopg.Error as exc:
        if pg.broken:  # the pool must not hand this connection out again
            session.connection().invalidate(exc)
        raise DBAPIError.instance(statement, params, exc, psycopg.Error,
                                  connection_invalidated=pg.broken) from exc


def ping_engine(engine: Engine) -> None:
    """One round trip to the database (raises when it does not answer)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")


def ping(dbapi_connection: Any) -> None:
    """One round trip on a driver connection (raises when the connection is dead)."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    dbapi_connection.rollback()


def _configure_sqlite(dbapi_connection: Any, record: Any) -> None:
    # Autocommit at the driver level; SQLAlchemy's "begin" event issues BEGIN IMMEDIATE so
    # writers queue on the busy timeout instead of failing with "database is locked".
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_SECONDS * 1000)}")
    cursor.close()
    _install_rule_functions(dbapi_connection)
    journal.install_sqlite_function(dbapi_connection, record)


def _install_rule_functions(dbapi_connection: Any) -> None:
    try:
        from service.rules.sql_functions import install_sqlite_functions
    except ImportError:  # the rules package ships its SQL helpers separately
        return
    install_sqlite_functions(dbapi_connection)


def _begin_immediate(connection: Connection) -> None:
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # a read-only connection (read_only): each statement is its own read
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def read_only(engine: Engine) -> Iterator[Connection]:
    """A pooled connection for lookups, in autocommit: no BEGIN/COMMIT round trips.

    On SQLite it skips BEGIN IMMEDIATE, so readers never queue behind a writer (WAL lets
    them read the last committed state). Use it for single-statement reads only: two
    statements on it may see two different committed states.
    """
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
