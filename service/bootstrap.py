"""Wiring: the one place that chooses the concrete pieces of a process (app, CLI, scheduler).

`build_context` connects to the configured database (or takes an engine, as tests do) and
picks the clock; everything else receives the Context it builds.
"""

from __future__ import annotations

from sqlalchemy import Engine

from service.clock import Clock, SystemClock
from service.services.context import Context
from service.services.rulesets.active import Rulesets
from service.settings import Settings
from service.store.db import make_engine, make_session_factory


def build_context(settings: Settings, engine: Engine | None = None,
                  clock: Clock | None = None) -> Context:
    """Connect to the configured database (or reuse an engine). Rulesets are loaded from
    the database when first used (governance.start imports the rule files into it)."""
    engine = engine or make_engine(settings.database_url)
    rules = Rulesets(settings.active_ruleset, settings.section("rulesets")["max_file_bytes"])
    return Context(settings=settings, engine=engine, sessions=make_session_factory(engine),
                   rules=rules,
                   clock=clock or SystemClock())
