"""The database schema: migrate the configured database up or back, say where it is."""

from __future__ import annotations

from service.store import migrate as migrations


def migrate(database_url: str, revision: str = "head") -> None:
    """Migrate the database at database_url to revision (default: the latest schema)."""
    migrations.upgrade(database_url, revision)


def roll_back(database_url: str, revision: str) -> None:
    """Undo the migrations above revision (each migration's downgrade, newest first)."""
    migrations.downgrade(database_url, revision)


def revisions(database_url: str) -> tuple[str | None, str]:
    """(the database's revision or None, the latest revision this code knows)."""
    return migrations.current(database_url), migrations.head()
