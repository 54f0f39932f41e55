"""The kept available-to-sell per channel and SKU (`channel_availability`): lock, add, recompute.

Every row names the ruleset that made it. Writers lock the rows they move in (channel, sku)
order, after the positions, so two writers never wait on each other crosswise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from service.clock import Clock
from service.rules.model import Ruleset
from service.rules.sql import (
    channel_ats_sql,
    channel_transit_sql,
    condition_to_sql,
    greatest,
)
from service.rules.variables import VARIABLES
from service.rules.variables import rule_columns as variable_columns
from service.store.models import ChannelAvailability, Location, Product, StockPosition
from service.store.models.base import naive_utc
from service.store.transfers import arriving_units
from service.store.upsert import insert_for

Key = tuple[str, str]  # (channel, sku)
BULK_KEYS = 500  # PostgreSQL: from this many rows, lock and add through arrays


class AtsRepository:
    """The kept ATS rows of one transaction."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def _bulk(self, keys: list[Key]) -> bool:
        return len(keys) >= BULK_KEYS and self.session.get_bind().dialect.name == "postgresql"

    def lock(self, keys: list[Key]) -> dict[Key, str]:
        """Lock the rows of keys (in key order); the ruleset each was made by."""
        if self._bulk(keys):
            return self._lock_bulk(keys)
        table = ChannelAvailability.__table__
        found: dict[Key, str] = {}
        for start in range(0, len(keys), 1000):
            query = (select(table.c.channel, table.c.sku, table.c.ruleset)
                     .where(tuple_(table.c.channel, table.c.sku).in_(keys[start:start + 1000]))
                     .order_by(table.c.channel, table.c.sku))
            if self.session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update()
            found.update({(r[0], r[1]): r[2] for r in self.session.execute(query)})
        return found

    def _lock_bulk(self, keys: list[Key]) -> dict[Key, str]:
        """PostgreSQL: lock in one statement, the keys as two arrays (same key order)."""
        rows = self.session.execute(text(
            "SELECT f.channel, f.sku, f.ruleset FROM channel_availability AS f"
            " JOIN unnest(CAST(:c AS text[]), CAST(:s AS text[])) AS k(channel, sku)"
            " ON f.channel = k.channel AND f.sku = k.sku"
            " ORDER BY f.channel, f.sku FOR UPDATE OF f"),
            {"c": [k[0] for k in keys], "s": [k[1] for k in keys]})
        return {(r[0], r[1]): r[2] for r in rows}

    def add(self, keys: list[Key], deltas: Mapping[Key, int]) -> None:
        """Add the deltas to (already locked) rows; a row never goes below 0."""
        if not keys:
            return
        now = self.clock.now()
        if self._bulk(keys):
            self.session.execute(text(
                "UPDATE channel_availability AS f"
                " SET available = greatest(f.available + d.delta, 0), updated_at = :now"
                " FROM unnest(CAST(:c AS text[]), CAST(:s AS text[]), CAST(:d AS bigint[]))"
                " AS d(channel, sku, delta) WHERE f.channel = d.channel AND f.sku = d.sku"),
                {"c": [k[0] for k in keys], "s": [k[1] for k in keys],
                 "d": [deltas[k] for k in keys], "now": naive_utc(now)})
            return
        table = ChannelAvailability.__table__
        summed = table.c.available + bindparam("delta")
        stmt = (update(table)
                .where(table.c.channel == bindparam("c"), table.c.sku == bindparam("s"))
                .values(available=case((summed > 0, summed), else_=0), updated_at=now))
        self.session.connection().execute(
            stmt, [{"c": c, "s": s, "delta": deltas[(c, s)]} for c, s in keys])

    def insert_missing(self, ruleset: str, deltas: Mapping[Key, int]) -> set[str]:
        """Insert rows that did not exist (or add to ones a racing writer just made);
        the skus whose row belongs to another ruleset."""
        table = ChannelAvailability.__table__
        stale_skus: set[str] = set()
        for (channel, sku), delta in sorted(deltas.items()):
            stmt = insert_for(self.session, table).values(
                channel=channel, sku=sku, available=max(0, delta), ruleset=ruleset,
                updated_at=self.clock.now())
            summed = table.c.available + delta
            stmt = stmt.on_conflict_do_update(
                index_elements=["channel", "sku"],
                set_={"available": case((summed > 0, summed), else_=0),
                      "updated_at": stmt.excluded.updated_at},
                where=table.c.ruleset == ruleset)
            if self.session.execute(stmt).rowcount == 0:
                stale_skus.add(sku)
        return stale_skus

    def ensure(self, ruleset: str, keys: list[Key]) -> None:
        """Insert a 0 row for each key that has none (one made by a racing transaction is
        waited for, then left as it is), so the keys can all be locked."""
        if not keys:
            return
        table = ChannelAvailability.__table__
        now = self.clock.now()
        rows = [{"channel": c, "sku": s, "available": 0, "ruleset": ruleset, "updated_at": now}
                for c, s in sorted(keys)]
        for start in range(0, len(rows), 1000):
            self.session.execute(insert_for(self.session, table).values(
                rows[start:start + 1000]).on_conflict_do_nothing(
                index_elements=["channel", "sku"]))

    def recompute(self, ruleset: Ruleset, skus: list[str] | None = None) -> int:
        """Recompute rows set-based for skus (default: all) with the compiled SQL rules."""
        table = ChannelAvailability.__table__
        if skus is not None:
            self.session.execute(delete(table).where(table.c.sku.in_(skus)))
        else:
            self.session.execute(delete(table))
        rows = self._computed(ruleset, skus)
        for start in range(0, len(rows), 5000):
            self.session.execute(insert(table), rows[start:start + 5000])
        return len(rows)

    def refresh(self, ruleset: Ruleset, skus: list[str]) -> int:
        """Recompute the rows of skus in place (each row updated, never deleted: a writer
        waiting on its lock then locks its new version, so refreshes take turns)."""
        table = ChannelAvailability.__table__
        rows = self._computed(ruleset, skus)
        for start in range(0, len(rows), 1000):
            stmt = insert_for(self.session, table).values(rows[start:start + 1000])
            self.session.execute(stmt.on_conflict_do_update(
                index_elements=["channel", "sku"],
                set_={"available": stmt.excluded.available, "ruleset": stmt.excluded.ruleset,
                      "updated_at": stmt.excluded.updated_at}))
        return len(rows)

    def _computed(self, ruleset: Ruleset, skus: list[str] | None) -> list[dict[str, Any]]:
        channels = sorted(ruleset.channels)
        now = self.clock.now()
        return [{"channel": channel, "sku": row[0], "available": int(row[i + 1] or 0),
                 "ruleset": ruleset.ref, "updated_at": now}
                for row in self.session.execute(_recompute_query(ruleset, channels, skus, now))
                for i, channel in enumerate(channels)]

    def figures(self, keys: list[Key]) -> dict[Key, int]:
        """The kept units of some (channel, sku) rows, unlocked (for reports)."""
        table = ChannelAvailability.__table__
        if not keys:
            return {}
        return {(r[0], r[1]): r[2] for r in self.session.execute(
            select(table.c.channel, table.c.sku, table.c.available)
            .where(tuple_(table.c.channel, table.c.sku).in_(keys)))}

    def all(self) -> dict[Key, int]:
        """Every kept row's units (for checks and tests)."""
        table = ChannelAvailability.__table__
        return {(r[0], r[1]): r[2] for r in self.session.execute(
            select(table.c.channel, table.c.sku, table.c.available))}


def _recompute_query(ruleset: Ruleset, channels: list[str], skus: list[str] | None,
                     now: datetime) -> Any:
    """Per product: the ATS of every channel (columns in `channels` order after the sku).

    Every SKU: the per-location plan (`_every_sku_query`), which reads all positions once;
    some SKUs: `_per_position_query`, which reads only theirs. Both give the same figures."""
    if skus is None:
        return _every_sku_query(ruleset, channels, now)
    return _per_position_query(ruleset, channels, skus, now)


def _per_position_query(ruleset: Ruleset, channels: list[str], skus: list[str] | None,
                        now: datetime) -> Any:
    """Per product: the ATS of every channel, summed over eligible positions (with the
    in-transit units a channel's count_in_transit rules count at each), every rule
    evaluated at each position: the plan for a few SKUs, whose positions an index finds."""
    sp, loc, prod = StockPosition.__table__, Location.__table__, Product.__table__
    columns, available = rule_columns()
    joined = (prod.outerjoin(sp, sp.c.sku == prod.c.sku)
              .outerjoin(loc, loc.c.id == sp.c.location_id))
    windows = ruleset.transit_windows
    arriving: dict[float, Any] = {}
    if windows:  # only then: a ruleset without the action reads no transfers
        units = arriving_units(windows, now)
        joined = joined.outerjoin(units, and_(units.c.location_id == sp.c.location_id,
                                              units.c.sku == sp.c.sku))
        arriving = {hours: units.c[f"w{i}"] for i, hours in enumerate(windows)}
    sums = []
    for channel in channels:
        scope = {**columns, "channel": literal(channel)}
        hold, excluded = channel_ats_sql(ruleset, channel, scope, available)
        net = available - hold
        if arriving:
            net = net + channel_transit_sql(ruleset, channel, scope, arriving)
        eligible = and_(loc.c.active, ~excluded, _serves(ruleset, channel, loc))
        sums.append(func.coalesce(func.sum(case((and_(eligible, net > 0), net), else_=0)), 0))
    query = select(prod.c.sku, *sums).select_from(joined).group_by(prod.c.sku)
    return query if skus is None else query.where(prod.c.sku.in_(skus))


def _every_sku_query(ruleset: Ruleset, channels: list[str], now: datetime) -> Any:
    """Per product: the ATS of every channel, summed over all positions in one pass.

    What depends on the location alone (whether it is active and serves the channel, and each
    rule condition that reads location facts only) is computed once per location in
    `_location_flags`, not once per position. The positions are aggregated per SKU before
    products are joined (a product without positions gets 0), so PostgreSQL can scan and
    aggregate them in parallel; each position's units are counted with one `greatest(net, 0)`
    under a FILTER instead of a CASE that repeats the whole net expression.

    Product facts are the same at every position of a SKU: when the rules read only a few
    (`_product_tests`), each channel is summed once per outcome of those tests and the
    outcome that holds is picked per SKU after the aggregate, so the positions need no join
    to products (a hash probe per position); otherwise products are joined per position."""
    sp, prod = StockPosition.__table__, Product.__table__
    flags, precomputed = _location_flags(ruleset, channels)
    available = greatest(sp.c.on_hand - sp.c.allocated - sp.c.reserved, 0)
    columns = variable_columns({"product": prod, "location": flags, "position": sp},
                               {"available": available})
    tests = _product_tests(ruleset, channels)
    joined = sp.join(flags, flags.c.id == sp.c.location_id)
    if tests is None:
        joined = joined.join(prod, prod.c.sku == sp.c.sku)
    windows = ruleset.transit_windows
    arriving: dict[float, Any] = {}
    if windows:  # only then: a ruleset without the action reads no transfers
        units = arriving_units(windows, now)
        joined = joined.outerjoin(units, and_(units.c.location_id == sp.c.location_id,
                                              units.c.sku == sp.c.sku))
        arriving = {hours: units.c[f"w{i}"] for i, hours in enumerate(windows)}
    sums: list[Any] = []
    picks: list[list[tuple[dict[str, bool], str]]] = []
    for index, channel in enumerate(channels):
        scope = {**columns, "channel": literal(channel)}
        picks.append([])
        for number, outcome in enumerate(_outcomes(tests or {}, ruleset, channel)):
            conditions = [given if given is not None
                          else _with_outcome(rule.conditions, scope, outcome)
                          for rule, given in zip(ruleset.channels.get(channel, ()),
                                                 precomputed[channel], strict=True)]
            hold, excluded = channel_ats_sql(ruleset, channel, scope, available, conditions)
            net = available - hold
            if arriving:
                net = net + channel_transit_sql(ruleset, channel, scope, arriving)
            eligible = and_(flags.c[f"open_{index}"], ~excluded)
            name = f"ats_{index}_{number}"
            sums.append(func.sum(greatest(net, 0)).filter(eligible).label(name))
            picks[-1].append((outcome, name))
    per_sku = select(sp.c.sku.label("sku"), *sums).select_from(joined).group_by(sp.c.sku)
    figures = per_sku.subquery("per_sku")
    product_columns = variable_columns({"product": prod}, {})
    return (select(prod.c.sku, *(func.coalesce(_picked(figures, pick, tests or {},
                                                       product_columns), 0)
                                 for pick in picks))
            .select_from(prod.outerjoin(figures, figures.c.sku == prod.c.sku)))


MAX_PRODUCT_TESTS = 3  # each channel reading k of them is summed 2**k times


def _leaf_key(leaf: Mapping[str, Any]) -> str:
    return json.dumps(leaf, sort_keys=True, default=str)


def _leaves(conditions: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "all" in conditions or "any" in conditions:
        return [leaf for child in conditions.get("all", conditions.get("any"))
                for leaf in _leaves(child)]
    return [conditions]


def _product_tests(ruleset: Ruleset, channels: list[str]) -> dict[str, Any] | None:
    """The distinct product-fact tests (leaf conditions) the channel rules read, by key; None
    when there are more than MAX_PRODUCT_TESTS or a count_in_transit rule reads one (its
    SQL is compiled from the whole condition): products are then joined per position."""
    found: dict[str, Any] = {}
    for channel in channels:
        for rule in ruleset.channels.get(channel, ()):
            for leaf in _leaves(rule.conditions):
                if leaf["name"] not in _PRODUCT_FACTS:
                    continue
                if any(a.name == "count_in_transit" for a in rule.actions):
                    return None
                found[_leaf_key(leaf)] = leaf
    return found if len(found) <= MAX_PRODUCT_TESTS else None


def _outcomes(tests: Mapping[str, Any], ruleset: Ruleset, channel: str) -> list[dict[str, bool]]:
    """Every combination of outcomes of the product tests this channel's rules read."""
    read = sorted({key for rule in ruleset.channels.get(channel, ())
                   for key in map(_leaf_key, _leaves(rule.conditions)) if key in tests})
    return [{key: bool(bits >> i & 1) for i, key in enumerate(read)}
            for bits in range(2 ** len(read))]


def _with_outcome(conditions: Mapping[str, Any], columns: Mapping[str, Any],
                  outcome: Mapping[str, bool]) -> Any:
    """The condition's SQL with each product test of `outcome` replaced by its outcome."""
    if "all" in conditions:
        return and_(*(_with_outcome(c, columns, outcome) for c in conditions["all"]))
    if "any" in conditions:
        return or_(*(_with_outcome(c, columns, outcome) for c in conditions["any"]))
    key = _leaf_key(conditions)
    if key in outcome:
        return true() if outcome[key] else false()
    return condition_to_sql(conditions, columns)


def _picked(figures: Any, pick: list[tuple[dict[str, bool], str]], tests: Mapping[str, Any],
            product_columns: Mapping[str, Any]) -> Any:
    """A channel's figure for each SKU: the sum made under the outcome its product's tests
    have (product facts are stored NOT NULL, so each test is true or false)."""
    if len(pick) == 1:
        return figures.c[pick[0][1]]
    whens = [(and_(*(condition_to_sql(tests[key], product_columns) if held
                     else not_(condition_to_sql(tests[key], product_columns))
                     for key, held in outcome.items())), figures.c[name])
             for outcome, name in pick]
    return case(*whens)


_LOCATION_FACTS = frozenset(v.name for v in VARIABLES if v.entity == "location")
_PRODUCT_FACTS = frozenset(v.name for v in VARIABLES if v.entity == "product")


def _facts_read(conditions: Mapping[str, Any]) -> set[str]:
    """The variable names a business-rules condition tree reads."""
    if "all" in conditions or "any" in conditions:
        return set().union(*(_facts_read(c) for c in conditions.get("all", conditions.get("any"))))
    return {conditions["name"]}


def _location_only(conditions: Mapping[str, Any]) -> bool:
    """Whether a condition reads nothing but location facts (and the channel, a constant)."""
    return _facts_read(conditions) <= _LOCATION_FACTS | {"channel"}


def _location_flags(ruleset: Ruleset, channels: list[str]
                    ) -> tuple[Any, dict[str, list[Any]]]:
    """One row per location: its rule columns, `open_<i>` (active and serving a method
    channels[i] sells) and, per location-only rule condition, its value; and per channel,
    each rule's precomputed condition column (None: evaluated per position).

    Grouped by its key so that neither PostgreSQL nor SQLite folds it into the positions'
    query, which would evaluate the flags once per position again (10M instead of 10,000
    times); on PostgreSQL the positions are still scanned in parallel beside it."""
    loc = Location.__table__
    facts = variable_columns({"location": loc}, {})
    passed = sorted({loc.c.id.name, *(column.name for column in facts.values())})
    selected: list[Any] = [loc.c[name] for name in passed]
    precomputed: dict[str, list[Any]] = {}
    for index, channel in enumerate(channels):
        scope = {**facts, "channel": literal(channel)}
        selected.append(and_(loc.c.active, _serves(ruleset, channel, loc)).label(f"open_{index}"))
        names: list[str | None] = []
        for number, rule in enumerate(ruleset.channels.get(channel, ())):
            if not _location_only(rule.conditions):
                names.append(None)
                continue
            names.append(f"rule_{index}_{number}")
            selected.append(condition_to_sql(rule.conditions, scope).label(names[-1]))
        precomputed[channel] = names  # type: ignore[assignment]
    flags = select(*selected).group_by(loc.c.id).subquery("location_flags")
    return flags, {channel: [None if name is None else flags.c[name] for name in names]
                   for channel, names in precomputed.items()}


def _serves(ruleset: Ruleset, channel: str, loc: Any) -> Any:
    """SQL of Ruleset.serves: the location can serve a method the channel sells."""
    sells = ruleset.sells(channel)
    can = [loc.c.can_ship if "ship" in sells else false(),
           loc.c.can_pickup if "pickup" in sells else false()]
    return or_(*can)


def rule_columns() -> tuple[dict[str, Any], Any]:
    """Each channel-rule variable as a column of positions joined to products and locations
    (from the one declaration, rules.variables), and the position's available units."""
    sp = StockPosition.__table__
    raw = sp.c.on_hand - sp.c.allocated - sp.c.reserved
    available = case((raw > 0, raw), else_=0)
    columns = variable_columns(
        {"product": Product.__table__, "location": Location.__table__, "position": sp},
        {"available": available})
    return columns, available
