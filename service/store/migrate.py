"""Alembic, driven from code: `oms db upgrade|downgrade|current` and the test fixtures."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from service.errors import ValidationFailed
from service.store.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at url to revision (default: the latest)."""
    _checked(revision)
    found = current(url) if revision not in ("head", "base") else None
    if found is not None and revision in _ancestry(found):
        raise ValidationFailed(f"cannot upgrade to {revision}: it is below the database's "
                               f"revision ({found}); `oms db downgrade {revision}` goes back.")
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at url back to revision (its migrations' downgrades, newest
    first); a revision not below the current one is refused by name."""
    _checked(revision)
    found = current(url)
    if revision not in ("base", found) and (found is None or revision not in _ancestry(found)):
        raise ValidationFailed(f"revision {revision} is not below the database's "
                               f"({found or 'empty'}): nothing to downgrade to.")
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision the database at url is at (None: no schema yet)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The latest revision this code knows."""
    return str(_scripts().get_current_head())


@cache
def _scripts() -> ScriptDirectory:
    """The packaged migrations, read once per process."""
    return ScriptDirectory(str(MIGRATIONS_DIR))


def _ancestry(revision: str) -> set[str]:
    """revision's ancestors, not revision itself."""
    return {script.revision for script in _scripts().walk_revisions("base", revision)
            } - {revision}


def _checked(revision: str) -> None:
    """Refuse a revision this code does not know, naming the ones it does."""
    if revision in ("head", "base"):
        return
    try:
        _scripts().get_revision(revision)
    except CommandError:
        known = sorted(s.revision for s in _scripts().walk_revisions())
        raise ValidationFailed(f"unknown revision {revision!r}: known are {known[0]} to "
                               f"{known[-1]}, head and base.") from None
