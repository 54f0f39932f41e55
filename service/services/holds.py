"""Position changes in one place: apply new figures to locked positions and move channels.

Every writer of allocated/reserved/on_hand outside feeds (holds, allocations, shipments)
goes through `change_positions`, so channel figures never drift from the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from service.context import Context
from service.rules.model import Ruleset
from service.services import channel_figures
from service.services.channel_figures import PositionFigures
from service.store import positions as store
from service.store.models import StockPosition, utcnow
from service.store.positions import PositionRow

Change = Callable[[PositionRow], PositionRow | None]


def figures(row: PositionRow) -> PositionFigures:
    """The figures of a position row."""
    return PositionFigures(row.location_id, row.sku, row.on_hand, row.allocated, row.reserved)


Deltas = dict[tuple[str, str], int]


def change_positions(ctx: Context, session: Session, ruleset: Ruleset,
                     changes: dict[int, Change], *, defer_to: Deltas | None = None,
                     also: Deltas | None = None) -> dict[int, PositionRow]:
    """Lock positions by id, apply each change function, store, and move channel figures.

    A change returns the new row, or None to leave the position as it is. With `defer_to`
    the figure deltas are added there instead of applied (the caller moves them later, with
    its own, in one pass); `also` are deltas deferred earlier, moved now with these.
    """
    locked = store.lock_ids(session, list(changes))
    moves, stored = [], {}
    for pid, row in locked.items():
        before = figures(row)
        after = changes[pid](row)
        if after is None:
            continue
        moves.append((before, figures(after)))
        stored[pid] = after
    deltas: Deltas = {}
    if stored:
        _store(session, list(stored.values()))
        catalog = ctx.catalog.get(session)
        deltas = channel_figures.channel_deltas(ruleset, catalog, moves)
    if defer_to is not None:
        add_deltas(defer_to, deltas)
    else:
        channel_figures.apply_deltas(session, ruleset, add_deltas(dict(also or {}), deltas))
    return stored


def add_deltas(into: Deltas, more: Deltas) -> Deltas:
    """Sum `more` into `into` (zero sums dropped) and return it."""
    for key, value in more.items():
        total = into.get(key, 0) + value
        if total:
            into[key] = total
        else:
            into.pop(key, None)
    return into


def _store(session: Session, rows: list[PositionRow]) -> None:
    sp = StockPosition.__table__
    now = utcnow()
    stmt = update(sp).where(sp.c.id == bindparam("pid")).values(
        on_hand=bindparam("on_hand"), allocated=bindparam("allocated"),
        reserved=bindparam("reserved"), as_of=bindparam("as_of"), updated_at=now)
    session.connection().execute(stmt, [
        {"pid": r.id, "on_hand": r.on_hand, "allocated": r.allocated, "reserved": r.reserved,
         "as_of": r.as_of} for r in rows])


def position_ids(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Ids of the positions for (location, sku) keys (missing keys are left out)."""
    keys = set(keys)
    if not keys:
        return {}
    sp = StockPosition.__table__
    query = select(sp.c.id, sp.c.location_id, sp.c.sku).where(
        sp.c.sku.in_({sku for _location, sku in keys}),
        sp.c.location_id.in_({location for location, _sku in keys}))
    return {(r[1], r[2]): r[0] for r in session.execute(query) if (r[1], r[2]) in keys}
