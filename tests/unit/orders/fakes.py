"""An in-memory unit of work and context, to drive order use cases without a database.

The fakes store what the real repositories store and nothing more: no rule of the code under
test is repeated here. One FakeUnitOfWork stands for the database: every transaction works
on it, and a block that raises (or a reading, or a rollback) leaves nothing behind.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any

from service.clock import MovableClock
from service.domain.orders import DomainEvent, Order, Settlement
from service.rules.loader import load_file
from service.rules.model import Ruleset
from service.store.catalog import CatalogSnapshot
from service.store.position_rows import PositionRow
from tests.support import FIXTURES

PositionKey = tuple[str, str]  # (location_id, sku)
AtsKey = tuple[str, str]  # (channel, sku)
LEDGER_RULESET = FIXTURES / "rulesets" / "ledger" / "v1.yaml"


class RecomputeReached(AssertionError):
    """The kept ATS was recomputed: a delta writer found rows of another ruleset."""


class FakeOrders:
    """Orders by id; a use case gets its own copy, as a real read gives it new objects."""

    def __init__(self, orders: Iterable[Order] = ()) -> None:
        self.orders = {order.id: copy.deepcopy(order) for order in orders}
        self.saved_events: list[DomainEvent] = []
        self.saved_settlements: list[Settlement] = []
        self._read: set[str] = set()

    def get(self, order_id: str, lock: bool = False) -> Order | None:
        order = self.orders.get(order_id)
        if order is None:
            return None
        self._read.add(order_id)
        return copy.deepcopy(order)

    def order_of_fulfilment(self, fulfilment_id: str) -> str | None:
        return next((order.id for order in self.orders.values()
                     if order.fulfilment(fulfilment_id) is not None), None)

    def get_of_fulfilment(self, fulfilment_id: str, lock: bool = False) -> Order | None:
        order_id = self.order_of_fulfilment(fulfilment_id)
        return None if order_id is None else self.get(order_id, lock)

    def save(self, order: Order) -> None:
        """Keep the order, its new events and settlements; like the real one, only an order
        read in this transaction can be saved."""
        if order.id not in self._read:
            raise KeyError(order.id)
        self.saved_events += order.events
        self.saved_settlements += order.settlements
        order.events.clear()
        order.settlements.clear()
        self.orders[order.id] = copy.deepcopy(order)

    def snapshot(self) -> Any:
        return copy.deepcopy((self.orders, self.saved_events, self.saved_settlements))

    def restore(self, state: Any) -> None:
        self.orders, self.saved_events, self.saved_settlements = state

    def forget_reads(self) -> None:
        """A new transaction has read no order yet."""
        self._read = set()


class FakePositions:
    """Stock positions by id. `store` writes the figures, `mark_shipped` the shipment time."""

    row_locking = False

    def __init__(self, rows: Iterable[PositionRow] = ()) -> None:
        self.rows = {row.id: dataclasses.replace(row) for row in rows}
        if None in self.rows:
            raise ValueError("every stored position needs an id")

    def of(self, location_id: str, sku: str) -> PositionRow:
        """The stored position of (location, sku) (for assertions)."""
        return next(r for r in self.rows.values() if (r.location_id, r.sku) == (location_id, sku))

    def ids_for(self, keys: Iterable[PositionKey]) -> dict[PositionKey, int]:
        wanted = set(keys)
        return {(r.location_id, r.sku): pid for pid, r in self.rows.items()
                if (r.location_id, r.sku) in wanted}

    def lock_ids(self, ids: Sequence[int]) -> dict[int, PositionRow]:
        return {pid: dataclasses.replace(self.rows[pid]) for pid in sorted(ids)
                if pid in self.rows}

    def store(self, rows: Sequence[PositionRow]) -> None:
        """Write on_hand, allocated, reserved and as_of (not the shipment time)."""
        for row in rows:
            if row.id is None:
                raise KeyError("only stored positions can be written")
            self.rows[row.id] = dataclasses.replace(
                self.rows[row.id], on_hand=row.on_hand, allocated=row.allocated,
                reserved=row.reserved, as_of=row.as_of)

    def mark_shipped(self, ids: Sequence[int], at: datetime) -> None:
        for pid in ids:
            row = self.rows[pid]
            if row.shipped_at is None or row.shipped_at < at:
                self.rows[pid] = dataclasses.replace(row, shipped_at=at)

    def snapshot(self) -> Any:
        return copy.deepcopy(self.rows)

    def restore(self, state: Any) -> None:
        self.rows = state


class FakeAts:
    """The kept ATS: units per (channel, sku) and the ruleset that made each row."""

    def __init__(self, units: Mapping[AtsKey, int] | None = None, ruleset_ref: str = "") -> None:
        self.units = dict(units or {})
        self.refs = {key: ruleset_ref for key in self.units}
        self.recomputed: list[tuple[str, list[str] | None]] = []  # survives rollbacks

    def lock(self, keys: list[AtsKey]) -> dict[AtsKey, str]:
        return {key: self.refs[key] for key in sorted(keys) if key in self.units}

    def add(self, keys: list[AtsKey], deltas: Mapping[AtsKey, int]) -> None:
        for key in keys:
            self.units[key] = max(0, self.units[key] + deltas[key])

    def insert_missing(self, ruleset_ref: str, deltas: Mapping[AtsKey, int]) -> set[str]:
        stale: set[str] = set()
        for key, delta in sorted(deltas.items()):
            if key not in self.units:
                self.units[key], self.refs[key] = max(0, delta), ruleset_ref
            elif self.refs[key] == ruleset_ref:
                self.units[key] = max(0, self.units[key] + delta)
            else:
                stale.add(key[1])
        return stale

    def recompute(self, ruleset: Ruleset, skus: list[str] | None = None) -> int:
        self.recomputed.append((ruleset.ref, skus))
        raise RecomputeReached(f"the ATS of {skus or 'every sku'} was recomputed")

    def snapshot(self) -> Any:
        return copy.deepcopy((self.units, self.refs))

    def restore(self, state: Any) -> None:
        self.units, self.refs = state


class FakeBackorders:
    """Wakeups: the SKUs whose ATS rose while one of the orders had them backordered."""

    def __init__(self, orders: FakeOrders) -> None:
        self.orders, self.woken = orders, []

    def wake(self, skus: Iterable[str]) -> None:
        waiting = {line.sku for order in self.orders.orders.values() for line in order.lines
                   if line.backordered > 0}
        self.woken += sorted(set(skus) & waiting)

    def snapshot(self) -> Any:
        return list(self.woken)

    def restore(self, state: Any) -> None:
        self.woken = state


class FakeJournal:
    """`uow.journal`: the causes a use case names (the database's triggers journal the
    changes themselves, so in memory the cause is all there is to see)."""

    def __init__(self) -> None:
        self.causes: list[tuple[str, dict[str, Any]]] = []

    def because(self, cause: str, **refs: Any) -> None:
        self.causes.append((cause, refs))


class FakeUnitOfWork:
    """The repositories a use case reaches, over in-memory state."""

    def __init__(self, orders: FakeOrders, positions: FakePositions, ats: FakeAts,
                 catalog: CatalogSnapshot, clock: MovableClock) -> None:
        self.orders, self.positions, self.ats = orders, positions, ats
        self.backorders = FakeBackorders(orders)
        self.journal = FakeJournal()
        self.stock_changed: set[str] | None = set()  # skus whose kept ATS moved (variants')
        self.clock, self._catalog = clock, catalog
        self.committed = False
        self.commits = 0
        self._began: list[Any] | None = None

    def catalog(self) -> CatalogSnapshot:
        return self._catalog

    def stock_moved(self, skus: Any) -> None:
        """As the real unit of work: note the skus (None: every sku)."""
        if skus is None:
            self.stock_changed = None
        elif self.stock_changed is not None:
            self.stock_changed.update(skus)

    def flush(self) -> None:
        """Nothing is pending: every write is applied at once (and undone on rollback)."""

    def rollback(self) -> None:
        if self._began is not None:
            for repo, state in zip(self._repositories(), self._began, strict=True):
                repo.restore(copy.deepcopy(state))

    def begin(self) -> None:
        """A new transaction: remember the state to go back to."""
        self.committed = False
        self.orders.forget_reads()
        self._began = [repo.snapshot() for repo in self._repositories()]

    def commit(self) -> None:
        self._began, self.committed = None, True
        self.commits += 1

    def _repositories(self) -> tuple[FakeOrders, FakePositions, FakeAts, FakeBackorders]:
        return self.orders, self.positions, self.ats, self.backorders


class FakeRulesets:
    """`ctx.rules`: one ruleset is active."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset

    def active(self, uow: Any) -> Ruleset:
        return self.ruleset


class FakeContext:
    """What a use case takes first, wired to one FakeUnitOfWork."""

    def __init__(self, uow: FakeUnitOfWork, ruleset: Ruleset | None = None) -> None:
        self.uow, self.clock = uow, uow.clock
        self.rules = FakeRulesets(ruleset or ledger_ruleset())

    @contextmanager
    def transaction(self) -> Iterator[FakeUnitOfWork]:
        """Commits when the block ends without an error; keeps nothing when it raises."""
        self.uow.begin()
        try:
            yield self.uow
        except BaseException:
            self.uow.rollback()
            raise
        self.uow.commit()

    @contextmanager
    def reading(self, autocommit: bool = False) -> Iterator[FakeUnitOfWork]:
        """Never commits: whatever the block wrote is gone when it ends."""
        self.uow.begin()
        try:
            yield self.uow
        finally:
            self.uow.rollback()


@cache
def ledger_ruleset() -> Ruleset:
    """tests/fixtures/rulesets/ledger/v1.yaml, loaded by the real loader."""
    result = load_file(LEDGER_RULESET)
    if result.ruleset is None:
        raise AssertionError(f"{LEDGER_RULESET} does not load: {result.problems}")
    return result.ruleset


def product(sku: str, *, category: str = "shoes", brand: str = "acme", price: float = 10.0,
            tags: Sequence[str] = ()) -> dict[str, Any]:
    """A product's rule facts, as the catalog holds them."""
    return {"sku": sku, "category": category, "brand": brand, "price": price,
            "tags": list(tags)}


def location(location_id: str, location_type: str, *, region: str = "north",
             tags: Sequence[str] = (), can_ship: bool = True, can_pickup: bool = False,
             active: bool = True) -> dict[str, Any]:
    """A location's rule facts and the fields sourcing reads beside them."""
    return {"location_id": location_id, "location_type": location_type, "region": region,
            "location_tags": list(tags), "can_ship": can_ship, "can_pickup": can_pickup,
            "active": active, "lat": 52.0, "lon": 13.0, "daily_capacity": 100,
            "processing_hours": 24, "priority": 1}


def catalog(products: Iterable[dict[str, Any]], locations: Iterable[dict[str, Any]]
            ) -> CatalogSnapshot:
    """A catalog snapshot of these products and locations."""
    return CatalogSnapshot({p["sku"]: p for p in products},
                           {loc["location_id"]: loc for loc in locations}, ("fake",))
