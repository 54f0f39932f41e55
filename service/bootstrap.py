"""Wiring: the one place that chooses the concrete pieces of a process (app, CLI, scheduler).

`build_context` connects to the configured database (or takes an engine, as tests do), imports
the rule files into it and picks the clock; everything else receives the Context it builds.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from service.clock import Clock, SystemClock
from service.services.context import Context
from service.services.rulesets import library
from service.services.rulesets.active import Rulesets
from service.settings import Settings
from service.store.db import make_engine, make_session_factory
from service.store.replicas import Replicas

log = logging.getLogger(__name__)


def build_context(settings: Settings, engine: Engine | None = None,
                  clock: Clock | None = None, import_files: bool = True) -> Context:
    """Connect to the configured database (or reuse an engine); publish the rule files into
    it (each version is loaded from the database when first used)."""
    engine = engine or make_engine(settings.database_url)
    rules = Rulesets(settings.active_ruleset, settings.section("rulesets")["max_file_bytes"])
    ctx = Context(settings=settings, engine=engine, sessions=make_session_factory(engine),
                  rules=rules, clock=clock or SystemClock(), replicas=_replicas(settings, engine))
    if not import_files:
        return ctx
    try:
        library.import_files(ctx)
    except Exception as exc:  # a database down or not migrated yet: the next reload imports
        log.warning("rule files not imported: the database is not ready (%s; run `oms db "
                    "upgrade` if it is not migrated)", type(exc).__name__,
                    exc_info=log.isEnabledFor(logging.DEBUG))
    return ctx


def _replicas(settings: Settings, engine: Engine) -> Replicas | None:
    """The configured read replicas (database.read_urls), or None."""
    database = settings.section("database")
    if not database["read_urls"]:
        return None
    return Replicas(engine, database["read_urls"], database["read_max_lag_ms"],
                    database["read_poll_ms"])
