"""Wiring: the one place that chooses the concrete pieces of a process (app, CLI, scheduler).

`build_context` connects to the configured database (or takes an engine, as tests do), loads
the rule files and picks the clock; everything else receives the Context it builds.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from service.clock import Clock, SystemClock
from service.rules.model import format_problem
from service.rules.registry import Registry
from service.services.context import Context
from service.services.rulesets.active import Rulesets
from service.settings import Settings
from service.store.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


def build_context(settings: Settings, engine: Engine | None = None,
                  clock: Clock | None = None) -> Context:
    """Connect to the configured database (or reuse an engine); load rulesets."""
    engine = engine or make_engine(settings.database_url)
    rulesets = settings.section("rulesets")
    registry = Registry(settings.rulesets_dir, max_bytes=rulesets["max_file_bytes"])
    report = registry.reload()
    for problem in report.errors:
        log.error("rule file problem: %s", format_problem(problem))
    return Context(settings=settings, engine=engine, sessions=make_session_factory(engine),
                   rules=Rulesets(registry, settings.active_ruleset),
                   clock=clock or SystemClock())
