"""The unit of work: one transaction and the repositories that work inside it.

Use cases open one with `ctx.transaction()` (commits when the block ends without an error,
rolls back otherwise) or `ctx.reading()` (never commits), and reach every table through its
repositories: `uow.positions`, `uow.orders`, ... They never see a session or a statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.clock import Clock
from service.rules.model import Ruleset
from service.store.activations import ActivationRepository
from service.store.ats import AtsRepository
from service.store.ats_impact import ImpactRows, compare, stock_marker
from service.store.backorders import BackorderRepository
from service.store.catalog import Catalog, CatalogSnapshot
from service.store.console import ConsoleSessions, RulesetDrafts
from service.store.db import read_only
from service.store.errors import (
    DuplicateRow,
    WriteConflict,
    is_unique_violation,
    unavailable,
    unreachable,
)
from service.store.experiments import ExperimentRepository
from service.store.feed_records import FeedRecords
from service.store.journal import JournalRepository
from service.store.keys import KeyRepository
from service.store.leases import LeaseRepository
from service.store.master import MasterDataRepository
from service.store.order_search import OrderSearch
from service.store.orders import OrderRepository
from service.store.position_columns import PositionColumnsSource
from service.store.positions import PositionRepository
from service.store.replay_history import ReplayHistory
from service.store.reservations import ReservationRepository
from service.store.returns import ReturnRepository
from service.store.ruleset_versions import RulesetVersionRepository
from service.store.settlements import SettlementRepository
from service.store.snapshot_files import SnapshotFiles
from service.store.transfers import TransferRepository
from service.store.variant_ats import VariantAtsRepository
from service.store.versions import CacheVersions
from service.store.webhook_deliveries import DeliveryRepository
from service.store.webhooks import WebhookRepository

RETRYABLE_SQLSTATES = ("40P01", "40001")  # deadlock_detected, serialization_failure


class UnitOfWork:
    """The repositories of one transaction (each made on first use)."""

    def __init__(self, session: Session, clock: Clock, catalog: Catalog) -> None:
        self.session, self.clock, self._catalog = session, clock, catalog
        # the active ruleset as this transaction first read it: one ruleset per transaction
        self.active_ruleset: Ruleset | None = None
        # work left for the end of the transaction (run once each, in order, before commit)
        self.before_commit: list[Callable[[], None]] = []
        self.stock_changed: set[str] | None = set()  # skus whose kept ATS moved (None: all)
        self.rulesets: object = None  # the process's ruleset loader (services set it)
        self._catalog_seen: CatalogSnapshot | None = None

    def catalog(self) -> CatalogSnapshot:
        """Product and location facts (cached per process; the `catalog` cache version is
        checked once per unit of work, so a committed master-data write is always seen)."""
        if self._catalog_seen is None:
            self._catalog_seen = self._catalog.get(self.master, self.versions)
        return self._catalog_seen

    def ats_impact(self, old: Ruleset, new: Ruleset) -> ImpactRows:
        """What new would change in every channel's ATS against old (read-only)."""
        return compare(self.session, old, new)

    def impact_marker(self) -> tuple[object, ...]:
        """What an impact is computed from besides the rulesets (store.ats_impact)."""
        return stock_marker(self.session)

    def rollback(self) -> None:
        """End the transaction now, keeping nothing (it releases SQLite's database lock)."""
        self.session.rollback()

    @cached_property
    def positions(self) -> PositionRepository:
        return PositionRepository(self.session, self.clock)

    @cached_property
    def position_columns(self) -> PositionColumnsSource:
        """What the per-process columnar copy of the positions reads (impact previews)."""
        return PositionColumnsSource(self.session)

    @cached_property
    def journal(self) -> JournalRepository:
        """The inventory journal: `journal.because(cause, **ids)` names the cause of the
        position changes this transaction writes next (the triggers journal them)."""
        return JournalRepository(self.session, self.clock)

    @cached_property
    def replay_history(self) -> ReplayHistory:
        """What a replay reads: orders, positions, journal and fulfilments (read-only)."""
        return ReplayHistory(self.session)

    @cached_property
    def ats(self) -> AtsRepository:
        return AtsRepository(self.session, self.clock)

    @cached_property
    def orders(self) -> OrderRepository:
        return OrderRepository(self.session)

    @cached_property
    def order_search(self) -> OrderSearch:
        return OrderSearch(self.session)

    @cached_property
    def reservations(self) -> ReservationRepository:
        return ReservationRepository(self.session)

    @cached_property
    def activations(self) -> ActivationRepository:
        return ActivationRepository(self.session)

    @cached_property
    def ruleset_versions(self) -> RulesetVersionRepository:
        return RulesetVersionRepository(self.session)

    @cached_property
    def experiments(self) -> ExperimentRepository:
        return ExperimentRepository(self.session)

    @cached_property
    def master(self) -> MasterDataRepository:
        return MasterDataRepository(self.session)

    @cached_property
    def feeds(self) -> FeedRecords:
        return FeedRecords(self.session)

    @cached_property
    def keys(self) -> KeyRepository:
        return KeyRepository(self.session)

    @cached_property
    def leases(self) -> LeaseRepository:
        return LeaseRepository(self.session, self.clock)

    @cached_property
    def backorders(self) -> BackorderRepository:
        return BackorderRepository(self.session, self.clock)

    @cached_property
    def settlements(self) -> SettlementRepository:
        return SettlementRepository(self.session, self.clock)

    @cached_property
    def snapshot_files(self) -> SnapshotFiles:
        return SnapshotFiles(self.session)

    @cached_property
    def transfers(self) -> TransferRepository:
        return TransferRepository(self.session)

    @cached_property
    def returns(self) -> ReturnRepository:
        return ReturnRepository(self.session)

    @cached_property
    def versions(self) -> CacheVersions:
        return CacheVersions(self.session)

    @cached_property
    def console_sessions(self) -> ConsoleSessions:
        return ConsoleSessions(self.session)

    @cached_property
    def variant_ats(self) -> VariantAtsRepository:
        return VariantAtsRepository(self.session, self.clock)

    def stock_moved(self, skus: Iterable[str] | None) -> None:
        """Note skus whose kept ATS this transaction moved (None: every sku)."""
        if skus is None:
            self.stock_changed = None
        elif self.stock_changed is not None:
            self.stock_changed.update(skus)

    def finish(self) -> None:
        """Run the work left for the end of the transaction (before it commits)."""
        while self.before_commit:
            self.before_commit.pop(0)()

    @cached_property
    def drafts(self) -> RulesetDrafts:
        return RulesetDrafts(self.session)

    @cached_property
    def webhooks(self) -> WebhookRepository:
        return WebhookRepository(self.session)

    @cached_property
    def deliveries(self) -> DeliveryRepository:
        return DeliveryRepository(self.session)


@contextmanager
def transaction(sessions: sessionmaker[Session], clock: Clock, catalog: Catalog
                ) -> Iterator[UnitOfWork]:
    """A unit of work that commits when the block ends, or rolls back on any error.

    A unique key that refuses a row raises DuplicateRow; a deadlock or serialization failure
    raises WriteConflict (nothing was written: the work may be tried again); a database that
    cannot be reached raises service.errors.Unavailable. Any other database error goes on as
    it is.
    """
    try:
        with sessions.begin() as session:
            uow = UnitOfWork(session, clock, catalog)
            yield uow
            uow.finish()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise DuplicateRow(str(exc.orig)) from exc
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
            raise WriteConflict(str(exc.orig)) from exc
        if unreachable(exc):
            raise unavailable() from exc
        raise


@contextmanager
def reading(sessions: sessionmaker[Session], clock: Clock, catalog: Catalog,
            autocommit: bool = False) -> Iterator[UnitOfWork]:
    """A unit of work for reads: whatever happens, nothing is committed.

    With `autocommit` each statement is its own read of the last committed state (no BEGIN:
    on SQLite a reader then never queues behind a writer); for single-statement reads only.
    A database that cannot be reached raises service.errors.Unavailable.
    """
    try:
        if not autocommit:
            with sessions() as session:
                yield UnitOfWork(session, clock, catalog)
            return
        with read_only(sessions.kw["bind"]) as connection, Session(bind=connection) as session:
            yield UnitOfWork(session, clock, catalog)
    except DBAPIError as exc:
        if unreachable(exc):
            raise unavailable() from exc
        raise
