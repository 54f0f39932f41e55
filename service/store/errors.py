"""What the store tells the use cases when the database refuses a write."""

from __future__ import annotations


class StoreError(Exception):
    """A write the database refused; nothing of the transaction was kept."""


class DuplicateRow(StoreError):
    """A unique key refused the row: another writer stored the same thing first."""


class WriteConflict(StoreError):
    """A deadlock or serialization failure: nothing was written; the same work may retry."""
