"""The wiring a process needs: settings, database, rule registry. Built by app, CLI, scheduler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings
from service.store.db import make_engine, make_session_factory


@dataclass
class Context:
    """Everything a use case needs from the outside world, for one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def build_context(settings: Settings, engine: Engine | None = None) -> Context:
    """Connect to the configured database (or reuse an engine, as tests do)."""
    engine = engine or make_engine(settings.database_url)
    return Context(settings=settings, engine=engine, sessions=make_session_factory(engine))
