"""What the store tells the use cases when the database refuses a write."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE for a duplicate key


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
