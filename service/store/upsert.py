"""Bulk upsert on SQLite and PostgreSQL (INSERT ... ON CONFLICT DO UPDATE)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_CHUNK = 500


def insert_for(session: Session, table: Table) -> Any:
    """The dialect's INSERT construct that supports ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert_rows(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str
) -> tuple[int, int]:
    """Insert or update rows by their key column; return (created, updated)."""
    created = updated = 0
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        keys = [r[key] for r in chunk]
        existing = set(session.scalars(select(table.c[key]).where(table.c[key].in_(keys))))
        for columns, group in _group_by_columns(chunk).items():
            stmt = insert_for(session, table).values(group)
            changes = {c: stmt.excluded[c] for c in columns if c != key}
            session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=changes))
        updated += len(existing)
        created += len(set(keys) - existing)
    return created, updated


def _group_by_columns(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, ...], list[dict]]:
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups
