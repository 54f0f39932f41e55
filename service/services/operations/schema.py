"""The database schema: migrate the configured database to the latest revision."""

from __future__ import annotations

from service.store.migrate import upgrade


def migrate(database_url: str) -> None:
    """Migrate the database at database_url to the latest schema (Alembic)."""
    upgrade(database_url)
