"""What the store tells the use cases when the database refuses a write."""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.exc import DBAPIError, IntegrityError

from service.errors import Unavailable

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE for a duplicate key
# connection exceptions (class 08), shutting down (57P01 admin, 57P02 crash), starting up or
# in recovery (57P03), too many connections (53300)
UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


class StoreError(Exception):
    """A write the database refused; nothing of the transaction was kept."""


class DuplicateRow(StoreError):
    """A unique key refused the row: another writer stored the same thing first."""


class WriteConflict(StoreError):
    """A deadlock or serialization failure: nothing was written; the same work may retry."""


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a unique key refused the row (not a foreign key, a check or a NOT NULL)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate == UNIQUE_VIOLATION
    return str(exc.orig).startswith("UNIQUE constraint failed")  # SQLite


def unreachable(exc: BaseException) -> bool:
    """Whether a database error says the database cannot serve now (refused, dropped,
    shutting down, starting up, full; SQLite: still locked by other writers when the busy
    timeout ran out), rather than refusing what was asked of it."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig
    if isinstance(exc, sqlite3.OperationalError):
        return sqlite_busy(exc)
    if not isinstance(exc, psycopg.OperationalError):
        return False
    sqlstate = exc.sqlstate
    return sqlstate is None or sqlstate.startswith(UNREACHABLE_SQLSTATES)


def sqlite_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY: another connection held the lock past the busy timeout."""
    return getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY") or (
        "database is locked" in str(exc))


def unavailable() -> Unavailable:
    """The error a request gets while the database cannot serve it."""
    return Unavailable("The database cannot take this request right now (unreachable, "
                       "restarting or busy with other writers); nothing was done. Try again "
                       "in a few seconds (an order with the same Idempotency-Key is placed "
                       "once).")
