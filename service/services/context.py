"""The one object every use case takes first: what the process has wired for it.

A use case is `verb(ctx, ...)`: it opens its own transaction with `ctx.transaction()` (or
`ctx.reading()` for reads). A function that works inside a caller's transaction takes that
unit of work: `step(ctx, uow, ...)` when it needs the process's rulesets, settings or clock,
`step(uow, ...)` when the transaction is all it needs. `service.bootstrap.build_context`
chooses the pieces.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from service.clock import Clock, SystemClock
from service.services.experiments import live
from service.services.rulesets.active import Rulesets
from service.settings import Settings
from service.store import kept_connections, unit_of_work
from service.store.catalog import Catalog
from service.store.replicas import Replicas
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker


@dataclass
class Context:
    """Everything a use case needs from the outside world, for one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    rules: Rulesets
    catalog: Catalog = field(default_factory=Catalog)
    clock: Clock = field(default_factory=SystemClock)
    # per URL feed: the ETag and Last-Modified of the last body this process handled
    feed_validators: dict[str, dict[str, str]] = field(default_factory=dict)
    # database.read_urls: the replicas availability lookups may read from (None: no replica)
    replicas: Replicas | None = None
    # set when the process is stopping (the scheduler on Ctrl-C or SIGTERM): jobs that loop
    # for a while (webhooks.deliver) end their loop at the next turn instead of the deadline
    stopping: threading.Event = field(default_factory=threading.Event)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A unit of work that commits when its block ends without an error; the
        variants' kept ATS of the SKUs whose stock it moved is refreshed just before."""
        with unit_of_work.transaction(self.sessions, self.clock, self.catalog) as uow:
            uow.rulesets = self.rules
            uow.before_commit.append(lambda: live.refresh_changed(uow))
            yield uow

    def reading(self, autocommit: bool = False) -> AbstractContextManager[UnitOfWork]:
        """A unit of work for reads (never commits; see unit_of_work.reading)."""
        return unit_of_work.reading(self.sessions, self.clock, self.catalog, autocommit)

    def close(self) -> None:
        """Release database connections (the pool's and this process's kept ones)."""
        if self.replicas is not None:
            self.replicas.close()
        kept_connections.close(self.engine)
        self.engine.dispose()

