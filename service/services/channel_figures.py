"""Per-channel available-to-sell, kept current instead of recomputed on every read.

Two ways, one meaning: stock, hold and allocation changes apply per-position deltas computed
with the compiled Python predicates; a ruleset switch or master-data change recomputes every
figure set-based with the compiled SQL. Both follow DESIGN.md §2:
ATS(channel, sku) = Σ eligible locations of max(0, available - hold_back).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from service.rules.evaluate import evaluate_channel
from service.rules.model import Ruleset
from service.rules.predicates import variables_read
from service.rules.sql import channel_figures_sql
from service.services.catalog import CatalogSnapshot
from service.store.models import ChannelAvailability, Location, Product, StockPosition, utcnow
from service.store.upsert import insert_for


@dataclass(frozen=True)
class PositionFigures:
    """What a position holds before or after a change."""

    location_id: str
    sku: str
    on_hand: int
    allocated: int
    reserved: int

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.allocated - self.reserved)


def position_facts(
    catalog: CatalogSnapshot, pos: PositionFigures, channel: str
) -> dict[str, Any] | None:
    """Every rule variable for a position seen by a channel (None: unknown product/location)."""
    product = catalog.products.get(pos.sku)
    location = catalog.locations.get(pos.location_id)
    if product is None or location is None:
        return None
    return {
        **product,
        **location,
        "on_hand": pos.on_hand,
        "available": pos.available,
        "channel": channel,
    }


def sellable(
    ruleset: Ruleset, catalog: CatalogSnapshot, pos: PositionFigures | None, channel: str
) -> int:
    """Units of one position a channel may sell: 0 when excluded, else available - hold-back."""
    if pos is None:
        return 0
    facts = position_facts(catalog, pos, channel)
    if facts is None or not facts["active"]:
        return 0
    outcome = evaluate_channel(ruleset, channel, facts)
    if outcome.excluded:
        return 0
    return max(0, pos.available - outcome.hold_back)


def channel_deltas(
    ruleset: Ruleset,
    catalog: CatalogSnapshot,
    changes: Iterable[tuple[PositionFigures | None, PositionFigures]],
) -> dict[tuple[str, str], int]:
    """How each (channel, sku) figure moves when positions change from before to after."""
    channels = list(ruleset.channels)
    memo = _SellableMemo(ruleset, catalog, channels)
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for before, after in changes:
        old = memo.sellable(before)
        new = memo.sellable(after)
        for channel, was, now in zip(channels, old, new, strict=True):
            if now != was:
                deltas[(channel, after.sku)] += now - was
    return {key: value for key, value in deltas.items() if value}


_ABSENT = object()


def _frozen(value: Any) -> Any:
    """A hashable stand-in equal only for values every predicate treats alike (1 != True)."""
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(v) for v in value))
    return (type(value), value)


_READ: dict[tuple[str, str, tuple[str, ...]], frozenset[str]] = {}


def _variables_read(ruleset: Ruleset, channels: tuple[str, ...]) -> frozenset[str]:
    """Every variable the channels' rules read (rulesets are immutable: computed once)."""
    key = (ruleset.ref, ruleset.content_hash, channels)
    read = _READ.get(key)
    if read is None:
        names = {"active"}
        for channel in channels:
            for rule in ruleset.channels.get(channel, ()):
                names.update(variables_read(rule.conditions))
        read = _READ[key] = frozenset(names)
    return read


class _SellableMemo:
    """sellable() per channel, remembered by everything the channel rules can see.

    A compiled predicate reads only the variables its conditions name, and the outcome
    otherwise depends on ``available`` alone, so positions that agree on the named product
    and location variables, the availability (and on_hand, when a rule reads it) sell the
    same: a snapshot's thousands of changed positions need only a few rule evaluations.
    Values that cannot be keyed (unhashable) are simply evaluated every time.
    """

    def __init__(self, ruleset: Ruleset, catalog: CatalogSnapshot, channels: list[str]) -> None:
        read = _variables_read(ruleset, tuple(channels))
        self._ruleset, self._catalog, self._channels = ruleset, catalog, channels
        self._on_hand = "on_hand" in read
        self._names = sorted(read - {"on_hand", "available", "channel"})
        self._products: dict[str, Any] = {}
        self._locations: dict[str, Any] = {}
        self._known: dict[Any, list[int]] = {}
        self._zeros = [0] * len(channels)

    def _part(self, cache: dict[str, Any], source: dict[str, Any], key: str) -> Any:
        part = cache.get(key, _ABSENT)
        if part is _ABSENT:
            facts = source.get(key)
            try:
                part = None if facts is None else tuple(
                    _frozen(facts.get(name, _ABSENT)) for name in self._names)
                hash(part)
            except TypeError:
                part = None
            cache[key] = part
        return part

    def sellable(self, pos: PositionFigures | None) -> list[int]:
        if pos is None or pos.available == 0:  # nothing to sell, whatever the rules say
            return self._zeros
        product = self._part(self._products, self._catalog.products, pos.sku)
        location = self._part(self._locations, self._catalog.locations, pos.location_id)
        if product is None or location is None:
            return _sellable_per_channel(self._ruleset, self._catalog, pos, self._channels)
        key = (product, location, pos.available, pos.on_hand if self._on_hand else None)
        out = self._known.get(key)
        if out is None:
            out = self._known[key] = _sellable_per_channel(
                self._ruleset, self._catalog, pos, self._channels)
        return out


def _sellable_per_channel(
    ruleset: Ruleset, catalog: CatalogSnapshot, pos: PositionFigures | None, channels: list[str]
) -> list[int]:
    """sellable() for each channel, building the position's facts once."""
    if pos is None or pos.available == 0:  # nothing to sell, whatever the rules say
        return [0] * len(channels)
    facts = position_facts(catalog, pos, channels[0] if channels else "")
    if facts is None or not facts["active"]:
        return [0] * len(channels)
    out = []
    for channel in channels:
        facts["channel"] = channel
        outcome = evaluate_channel(ruleset, channel, facts)
        out.append(0 if outcome.excluded else max(0, pos.available - outcome.hold_back))
    return out


def apply_deltas(session: Session, ruleset: Ruleset, deltas: Mapping[tuple[str, str], int]) -> None:
    """Add the deltas to the figures (rows locked in key order, so writers never deadlock).

    Figures made by another ruleset (a switch raced this change) are recomputed instead.
    """
    if not deltas:
        return
    table = ChannelAvailability.__table__
    if len(deltas) >= _BULK_KEYS and session.get_bind().dialect.name == "postgresql":
        existing = _lock_figures_bulk(session, sorted(deltas))
    else:
        existing = _lock_figures(session, sorted(deltas))
    stale_skus = {key[1] for key, ref in existing.items() if ref != ruleset.ref}
    current = sorted(key for key, ref in existing.items() if ref == ruleset.ref)
    if current and len(current) >= _BULK_KEYS and session.get_bind().dialect.name == "postgresql":
        _add_bulk(session, current, deltas)
    elif current:
        summed = table.c.available + bindparam("delta")
        stmt = (
            update(table)
            .where(table.c.channel == bindparam("c"), table.c.sku == bindparam("s"))
            .values(available=case((summed > 0, summed), else_=0), updated_at=bindparam("now"))
        )
        now = utcnow()
        session.connection().execute(
            stmt, [{"c": c, "s": s, "delta": deltas[(c, s)], "now": now} for c, s in current]
        )
    missing = sorted(key for key in deltas if key not in existing)
    stale_skus |= _upsert_figures(session, ruleset, {key: deltas[key] for key in missing})
    if stale_skus:
        recompute(session, ruleset, sorted(stale_skus))


_BULK_KEYS = 500  # PostgreSQL: from this many figures, lock and add through arrays


def _lock_figures_bulk(session: Session, keys: list[tuple[str, str]]
                       ) -> dict[tuple[str, str], str]:
    """PostgreSQL: _lock_figures in one statement, the keys as two arrays (same key order)."""
    rows = session.execute(text(
        "SELECT f.channel, f.sku, f.ruleset FROM channel_availability AS f"
        " JOIN unnest(CAST(:c AS text[]), CAST(:s AS text[])) AS k(channel, sku)"
        " ON f.channel = k.channel AND f.sku = k.sku"
        " ORDER BY f.channel, f.sku FOR UPDATE OF f"),
        {"c": [k[0] for k in keys], "s": [k[1] for k in keys]})
    return {(r[0], r[1]): r[2] for r in rows}


def _add_bulk(session: Session, keys: list[tuple[str, str]],
              deltas: Mapping[tuple[str, str], int]) -> None:
    """PostgreSQL: add the deltas of (already locked) figures in one UPDATE."""
    session.execute(text(
        "UPDATE channel_availability AS f SET available = greatest(f.available + d.delta, 0),"
        " updated_at = :now FROM unnest(CAST(:c AS text[]), CAST(:s AS text[]),"
        " CAST(:d AS bigint[])) AS d(channel, sku, delta)"
        " WHERE f.channel = d.channel AND f.sku = d.sku"),
        {"c": [k[0] for k in keys], "s": [k[1] for k in keys],
         "d": [deltas[k] for k in keys], "now": utcnow().replace(tzinfo=None)})


def _lock_figures(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Lock the figures of keys (in key order) and return the ruleset each was made by."""
    table = ChannelAvailability.__table__
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        query = (
            select(table.c.channel, table.c.sku, table.c.ruleset)
            .where(tuple_(table.c.channel, table.c.sku).in_(chunk))
            .order_by(table.c.channel, table.c.sku)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        found.update({(r[0], r[1]): r[2] for r in session.execute(query)})
    return found


def _upsert_figures(
    session: Session, ruleset: Ruleset, deltas: Mapping[tuple[str, str], int]
) -> set[str]:
    """Insert figures that did not exist (or add to ones a racing writer just made).

    Returns the skus whose figure belongs to another ruleset.
    """
    table = ChannelAvailability.__table__
    stale_skus: set[str] = set()
    for (channel, sku), delta in sorted(deltas.items()):
        stmt = insert_for(session, table).values(
            channel=channel,
            sku=sku,
            available=max(0, delta),
            ruleset=ruleset.ref,
            updated_at=utcnow(),
        )
        summed = table.c.available + delta
        stmt = stmt.on_conflict_do_update(
            index_elements=["channel", "sku"],
            set_={
                "available": case((summed > 0, summed), else_=0),
                "updated_at": stmt.excluded.updated_at,
            },
            where=table.c.ruleset == ruleset.ref,
        )
        if session.execute(stmt).rowcount == 0:
            stale_skus.add(sku)
    return stale_skus


def rule_columns() -> tuple[dict[str, Any], Any]:
    """Each channel-rule variable as a column of positions joined to products and locations,
    and the position's available units (on_hand - allocated - reserved, at least 0)."""
    sp, loc, prod = StockPosition.__table__, Location.__table__, Product.__table__
    raw = sp.c.on_hand - sp.c.allocated - sp.c.reserved
    available = case((raw > 0, raw), else_=0)
    columns = {
        "sku": prod.c.sku,
        "category": prod.c.category,
        "brand": prod.c.brand,
        "price": prod.c.price,
        "tags": prod.c.tags_text,
        "location_id": loc.c.id,
        "location_type": loc.c.type,
        "region": loc.c.region,
        "location_tags": loc.c.tags_text,
        "can_ship": loc.c.can_ship,
        "can_pickup": loc.c.can_pickup,
        "on_hand": sp.c.on_hand,
        "available": available,
    }
    return columns, available


def recompute(session: Session, ruleset: Ruleset, skus: list[str] | None = None) -> int:
    """Recompute figures set-based for skus (default: all) with the compiled SQL rules."""
    sp, loc, prod = StockPosition.__table__, Location.__table__, Product.__table__
    columns, available = rule_columns()
    channels = sorted(ruleset.channels)
    sums = []
    for channel in channels:
        hold, excluded = channel_figures_sql(
            ruleset, channel, {**columns, "channel": literal(channel)}, available
        )
        net = available - hold
        eligible = and_(loc.c.active, ~excluded)
        sums.append(func.coalesce(func.sum(case((and_(eligible, net > 0), net), else_=0)), 0))
    query = (
        select(prod.c.sku, *sums)
        .select_from(
            prod.outerjoin(sp, sp.c.sku == prod.c.sku).outerjoin(loc, loc.c.id == sp.c.location_id)
        )
        .group_by(prod.c.sku)
    )
    table = ChannelAvailability.__table__
    if skus is not None:
        query = query.where(prod.c.sku.in_(skus))
        session.execute(delete(table).where(table.c.sku.in_(skus)))
    else:
        session.execute(delete(table))
    now = utcnow()
    rows = [
        {
            "channel": channel,
            "sku": row[0],
            "available": int(row[i + 1] or 0),
            "ruleset": ruleset.ref,
            "updated_at": now,
        }
        for row in session.execute(query)
        for i, channel in enumerate(channels)
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(table), rows[start : start + 5000])
    return len(rows)
