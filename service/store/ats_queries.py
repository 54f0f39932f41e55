"""The SQL that recomputes the kept ATS from the positions: per position for some SKUs, per
location then per SKU for every SKU (a ruleset switch: location-only rule conditions once per
location, a parallel aggregate on PostgreSQL). Both give the same figures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, literal, not_, or_, select, true

from service.rules.model import Ruleset
from service.rules.sql import channel_ats_sql, channel_transit_sql, condition_to_sql, greatest
from service.rules.variables import VARIABLES
from service.rules.variables import rule_columns as variable_columns
from service.store.models import Location, Product, StockPosition
from service.store.transfers import arriving_units


def recompute_query(ruleset: Ruleset, channels: list[str], skus: list[str] | None,
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
    joined, arriving = _with_arrivals(joined, sp, ruleset, now)
    sums = []
    for channel in channels:
        scope = {**columns, "channel": literal(channel)}
        hold, excluded = channel_ats_sql(ruleset, channel, scope, available)
        net = available - hold
        if arriving:
            net = net + channel_transit_sql(ruleset, channel, scope, arriving)
        eligible = and_(loc.c.active, ~excluded, serves_sql(ruleset, channel, loc))
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
    joined, arriving = _with_arrivals(joined, sp, ruleset, now)
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


def _with_arrivals(joined: Any, sp: Any, ruleset: Ruleset, now: datetime
                   ) -> tuple[Any, dict[float, Any]]:
    """`joined` with the in-transit units arriving at each position within each of the
    ruleset's count_in_transit windows, and those columns by window (hours); a ruleset
    without the action reads no transfers."""
    windows = ruleset.transit_windows
    if not windows:
        return joined, {}
    units = arriving_units(windows, now)
    joined = joined.outerjoin(units, and_(units.c.location_id == sp.c.location_id,
                                          units.c.sku == sp.c.sku))
    return joined, {hours: units.c[f"w{i}"] for i, hours in enumerate(windows)}


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
        serving = and_(loc.c.active, serves_sql(ruleset, channel, loc))
        selected.append(serving.label(f"open_{index}"))
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


def serves_sql(ruleset: Ruleset, channel: str, loc: Any) -> Any:
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
