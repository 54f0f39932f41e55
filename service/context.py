"""The wiring a process needs: settings, database, rule registry. Built by app, CLI, scheduler."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.rules.model import format_problem
from service.rules.registry import Registry
from service.services.catalog import Catalog
from service.services.rulesets import Rulesets
from service.settings import Settings
from service.store import kept_connections
from service.store.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


@dataclass
class Context:
    """Everything a use case needs from the outside world, for one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    rules: Rulesets
    catalog: Catalog = field(default_factory=Catalog)
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Release database connections (the pool's and this process's kept ones)."""
        kept_connections.close(self.engine)
        self.engine.dispose()


def build_context(settings: Settings, engine: Engine | None = None) -> Context:
    """Connect to the configured database (or reuse an engine, as tests do); load rulesets."""
    engine = engine or make_engine(settings.database_url)
    rulesets = settings.section("rulesets")
    registry = Registry(settings.rulesets_dir, max_bytes=rulesets["max_file_bytes"])
    report = registry.reload()
    for problem in report.errors:
        log.error("rule file problem: %s", format_problem(problem))
    return Context(settings=settings, engine=engine, sessions=make_session_factory(engine),
                   rules=Rulesets(registry, settings.active_ruleset))
