"""Available-to-sell reads: lookups of the kept figures, detail and pickup computed live."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.context import Context
from service.errors import NotFound, ValidationFailed, problem
from service.rules.evaluate import evaluate_channel
from service.rules.model import Ruleset
from service.services import reservations
from service.services.catalog import CatalogSnapshot
from service.services.channel_figures import PositionFigures, position_facts
from service.services.rulesets import require_channel
from service.store import figure_reads, hold_deadlines
from service.store.db import read_only
from service.store.models import StockPosition, utcnow

MAX_SKUS = 200


def check_request(channel: Any, skus: Any) -> tuple[str, list[str]]:
    """A channel name and 1..200 distinct skus, or a 422 naming each problem."""
    problems = []
    if not isinstance(channel, str) or not channel:
        problems.append(problem("/channel", "a channel is required"))
    if not isinstance(skus, list) or not skus:
        problems.append(problem("/skus", "at least one sku is required"))
    elif len(skus) > MAX_SKUS:
        problems.append(problem("/skus", f"at most {MAX_SKUS} skus per request"))
    else:
        problems += [problem(f"/skus/{i}", "expected a non-empty string")
                     for i, s in enumerate(skus) if not isinstance(s, str) or not s]
    if problems:
        raise ValidationFailed("The availability request is not valid.", problems)
    return channel, list(dict.fromkeys(skus))


def read(ctx: Context, channel: str, skus: list[str], detail: bool = False,
         location: str | None = None) -> dict[str, Any]:
    """ATS of skus for channel; per-location detail, or one location's figure (pickup)."""
    if location is None and not detail:
        return _lookup(ctx, channel, skus)
    with ctx.sessions() as session:
        if hold_deadlines.any_due(session, skus, utcnow()):  # as the lookup does
            session.rollback()
            reservations.expire(ctx, skus)
        ruleset = _channel_ruleset(ctx, session, channel)
        return _live(ctx, session, ruleset, channel, skus, location)


def _channel_ruleset(ctx: Context, session: Session, channel: str) -> Ruleset:
    """The active ruleset (cached a second), or 404 when it has no such channel."""
    ruleset = ctx.rules.active_cached(session)
    require_channel(ruleset, channel)
    return ruleset


def _lookup_ruleset(ctx: Context, channel: str) -> Ruleset:
    """The active ruleset as last checked (a second ago at most), else checked now."""
    ruleset = ctx.rules.cached()
    if ruleset is None:  # autocommit: on SQLite no BEGIN IMMEDIATE, so no queueing
        with read_only(ctx.engine) as conn, Session(bind=conn) as session:
            return _channel_ruleset(ctx, session, channel)
    require_channel(ruleset, channel)
    return ruleset


def _lookup(ctx: Context, channel: str, skus: list[str]) -> dict[str, Any]:
    """The kept figures: one autocommit statement, no ORM session (the hot path)."""
    rows, due = figure_reads.lookup(ctx.engine, channel, skus, utcnow())
    if due:  # reads never count an expired hold: free them, then read again
        reservations.expire(ctx, skus)
        rows, _ = figure_reads.lookup(ctx.engine, channel, skus, utcnow())
    ruleset = _lookup_ruleset(ctx, channel)
    found = {r[0]: r[1] for r in rows}
    ref = rows[0][2] if rows else ruleset.ref
    items = [{"sku": sku, "available": found.get(sku, 0)} for sku in skus]
    result: dict[str, Any] = {"channel": channel, "ruleset": ref, "items": items}
    unknown = [sku for sku in skus if sku not in found]
    if unknown:
        result["unknown_skus"] = unknown
    return result


def _live(ctx: Context, session: Session, ruleset: Ruleset, channel: str, skus: list[str],
          location: str | None) -> dict[str, Any]:
    catalog = ctx.catalog.get(session)
    if location is not None and location not in catalog.locations:
        raise NotFound(f"Unknown location {location!r}.")
    sp = StockPosition.__table__
    query = select(sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated, sp.c.reserved
                   ).where(sp.c.sku.in_(skus)).order_by(sp.c.sku, sp.c.location_id)
    if location is not None:
        query = query.where(sp.c.location_id == location)
    per_sku: dict[str, list[dict[str, Any]]] = {sku: [] for sku in skus}
    for r in session.execute(query):
        per_sku[r[1]].append(explain_position(ruleset, catalog, PositionFigures(*r), channel))
    items = []
    for sku in skus:
        locations = per_sku[sku]
        item = {"sku": sku, "available": sum(loc["available"] for loc in locations),
                "locations": locations}
        items.append(item)
    result = {"channel": channel, "ruleset": ruleset.ref, "items": items}
    if location is not None:
        result["location"] = location
        result["can_pickup"] = catalog.locations[location]["can_pickup"]
    return result


def explain_position(ruleset: Ruleset, catalog: CatalogSnapshot, pos: PositionFigures,
                     channel: str) -> dict[str, Any]:
    """One location's figures for a channel and the rules that shaped them."""
    facts = position_facts(catalog, pos, channel)
    out = {"location": pos.location_id, "on_hand": pos.on_hand, "allocated": pos.allocated,
           "reserved": pos.reserved, "hold_back": 0, "excluded": False, "available": 0,
           "rules": []}
    if facts is None:
        return out
    outcome = evaluate_channel(ruleset, channel, facts, trace=True)
    inactive = not facts["active"]
    out.update(hold_back=outcome.hold_back, excluded=outcome.excluded or inactive,
               rules=[hit.to_dict() for hit in outcome.hits])
    if not out["excluded"]:
        out["available"] = max(0, pos.available - outcome.hold_back)
    if inactive:
        out["rules"].append({"rule": "(location inactive)", "variables": {}, "actions": []})
    return out
