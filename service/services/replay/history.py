"""History for replay, read from the database in one read-only transaction: the orders to
replay (their requests and live plans), their SKUs' positions as they were just before the
first of them, and every event after it in time order (domain replay).

Stock as it was: today's positions of the orders' SKUs minus every change journaled since
the start (exact since the journal began), then the journaled changes replayed forward; an
order's own allocation is left out (the replay allocates its own plan), the reservations it
consumed are kept. Backlog as it was: the open lines of fulfilments open at the start, then
fulfilments opening and closing as they did (shipped_at, or updated_at for a cancel or
rejection); a replayed order's lines open with its replayed plan.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from service.domain.replay import BacklogMove, Change, Event, OrderChange, Placement
from service.errors import OmsError
from service.services.orders import requests
from service.store.replay_history import FulfilmentSpan, JournalRow, PastOrder

if TYPE_CHECKING:
    from service.store.unit_of_work import UnitOfWork

MARGIN = timedelta(seconds=1)  # the start: this long before the first order
ORDER_CAUSES = ("order", "cancel", "shipment", "rejection")  # an order's own stock changes
LAST = 1 << 62  # the sequence of an order without journal rows (after rows at its time)


@dataclass
class History:
    """What a replay starts from and goes through (one set of events, any ruleset)."""

    positions: list[tuple[str, str, int, int, int]]
    backlog: dict[str, int]
    events: list[Event]
    orders: int
    skipped: list[str]


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def body_of(order: PastOrder) -> dict[str, Any]:
    """The request the order was placed with, as the order keeps it."""
    body: dict[str, Any] = {
        "channel": order.channel, "ship_to": order.ship_to or None,
        "lines": [{"sku": ln.sku, "quantity": ln.quantity, "unit_price": float(ln.unit_price)}
                  for ln in order.lines],
        "attributes": order.attributes or {}, "on_short": order.on_short,
        "pickup_location": order.pickup_location, "order_ref": order.order_ref,
        "customer_id": order.customer_id}
    return {k: v for k, v in body.items() if v is not None}


Counts = list[tuple[str, str, int]]  # (location, sku, on_hand) of a snapshot file


def load(uow: UnitOfWork, order_ids: list[str], max_lines: int,
         counts: Counts | None = None) -> History:
    """The history of these orders (ids of placed orders), oldest first; `counts` (a
    snapshot file's) replace the on_hand at their locations at the start."""
    orders = sorted(uow.replay_history.orders(order_ids),
                    key=lambda o: (utc(o.created_at), o.id))
    if not orders:
        return History([], {}, [], 0, [])
    reads = uow.replay_history
    start = utc(orders[0].created_at) - MARGIN
    skus = {ln.sku for o in orders for ln in o.lines}
    rows = reads.journal_since(start, skus)
    history = History(_as_it_was(reads.positions(skus), rows), {}, [], 0, [])
    if counts is not None:
        history.positions = counted(history.positions, counts, skus)
    asked = _requests(uow, orders, max_lines, history.skipped)
    replayed = {o.id: o for o in orders if o.id in asked}
    own = _placement_rows(rows, replayed)
    for order in replayed.values():
        first = own.get(order.id, [])
        at, seq = ((utc(first[0].at), first[0].id) if first
                   else (utc(order.created_at), LAST))
        before = tuple(Change(r.location_id, r.sku, r.on_hand, 0, r.reserved) for r in first)
        history.events.append(
            Event(at, seq, Placement(order.id, asked[order.id], order.plan, before)))
    placed = {r.id for rs in own.values() for r in rs}
    history.events += [_journal_event(r, replayed) for r in rows if r.id not in placed]
    history.backlog, moves = _backlog(reads.fulfilment_spans(start), start, replayed)
    history.events += moves
    history.events.sort(key=lambda e: (e.at, e.seq))
    history.orders = len(replayed)
    return history


def _requests(uow: UnitOfWork, orders: list[PastOrder], max_lines: int, skipped: list[str]
              ) -> dict[str, Any]:
    """Each order's request as it was placed; an order that no longer parses (a product
    or location gone from the catalog) is skipped (its stock changes stay in the history)."""
    catalog, asked = uow.catalog(), {}
    for order in orders:
        try:
            asked[order.id] = requests.parse(body_of(order), catalog, max_lines)
        except OmsError:
            skipped.append(order.id)
    return asked


def _as_it_was(today: list[tuple[str, str, int, int, int]], rows: list[JournalRow]
               ) -> list[tuple[str, str, int, int, int]]:
    """Positions before the first of `rows`: today's minus every change in them (the
    positions no row changed are today's rows as they are; one pass over a million)."""
    moved: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        c = moved.setdefault((row.location_id, row.sku), [0, 0, 0])
        c[0] += row.on_hand
        c[1] += row.allocated
        c[2] += row.reserved
    if not moved:
        return today
    found = []
    for pos in today:
        d = moved.pop((pos[0], pos[1]), None)
        found.append(pos if d is None else (pos[0], pos[1], pos[2] - d[0], pos[3] - d[1],
                                            pos[4] - d[2]))
    found += [(loc, sku, -d[0], -d[1], -d[2]) for (loc, sku), d in moved.items()]
    return found


def counted(positions: list[tuple[str, str, int, int, int]], counts: Counts,
            skus: set[str]) -> list[tuple[str, str, int, int, int]]:
    """The positions with on_hand as a snapshot file counts it: at each location the file
    names, its SKUs absent from the file count 0 (allocated and reserved stay)."""
    counted_at = {loc for loc, _sku, _n in counts}
    found = {(loc, sku): [0 if loc in counted_at else on, al, re]
             for loc, sku, on, al, re in positions}
    for loc, sku, on_hand in counts:
        if sku in skus:
            found.setdefault((loc, sku), [0, 0, 0])[0] = on_hand
    return [(loc, sku, *c) for (loc, sku), c in found.items()]  # type: ignore[misc]


def _placement_rows(rows: list[JournalRow], replayed: dict[str, Any]
                    ) -> dict[str, list[JournalRow]]:
    """Each replayed order's own placement rows (not an edit's or a release's)."""
    own: dict[str, list[JournalRow]] = {}
    for row in rows:
        order = row.refs.get("order")
        if (row.cause == "order" and order in replayed and "edit" not in row.refs
                and "backorder_release" not in row.refs):
            own.setdefault(str(order), []).append(row)
    return own


def _journal_event(row: JournalRow, replayed: dict[str, Any]) -> Event:
    change = Change(row.location_id, row.sku, row.on_hand, row.allocated, row.reserved)
    order = row.refs.get("order")
    if row.cause in ORDER_CAUSES and order in replayed:
        return Event(utc(row.at), row.id, OrderChange(str(order), row.cause, change))
    return Event(utc(row.at), row.id, change)


def _backlog(spans: list[FulfilmentSpan], start: datetime, replayed: dict[str, PastOrder]
             ) -> tuple[dict[str, int], list[Event]]:
    """Open lines at the start, and the moves after it (a replayed order's first
    fulfilments open with its replayed plan instead)."""
    at_start: Counter[str] = Counter()
    moves: list[Event] = []
    for span in spans:
        opened, closed = utc(span.opened), span.closed and utc(span.closed)
        order = replayed.get(span.order_id)
        mine = span.order_id if order is not None else None
        if opened < start:
            if closed is None or closed >= start:
                at_start[span.location_id] += span.lines
        elif order is None or opened != utc(order.created_at):
            moves.append(Event(opened, LAST, BacklogMove(span.location_id, span.lines, mine)))
        if closed is not None and closed >= start:
            moves.append(Event(closed, LAST, BacklogMove(span.location_id, -span.lines, mine)))
    return dict(at_start), moves
