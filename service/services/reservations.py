"""Short holds (cart, checkout): take channel-sellable units at once, release or expire."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.context import Context
from service.domain.roles import Role
from service.errors import Forbidden, InsufficientStock, NotFound, ValidationFailed, problem
from service.services import payloads
from service.services.channel_figures import sellable
from service.services.holds import Deltas, change_positions, figures, position_ids
from service.services.rulesets import require_channel
from service.store import hold_deadlines
from service.store.models import Reservation, StockPosition, utcnow
from service.store.positions import PositionRow


def _validated(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    payloads.require("reservation", body)
    limits = ctx.settings.section("inventory")
    ttl = body.get("ttl_seconds", limits["reservation_ttl_seconds"])
    if ttl > limits["max_reservation_ttl_seconds"]:
        raise ValidationFailed("The hold is too long.", [problem(
            "/ttl_seconds", f"at most {limits['max_reservation_ttl_seconds']} seconds")])
    return {**body, "ttl_seconds": ttl}


def create(ctx: Context, role: Role, body: dict[str, Any]) -> dict[str, Any]:
    """Hold quantity of sku for channel (at a location, or where most is sellable)."""
    body = _validated(ctx, body)
    if not role.may_use_channel(body["channel"]):
        raise Forbidden(f"A {role} key may not hold stock for channel {body['channel']!r}.")
    with ctx.sessions.begin() as session:
        ruleset = ctx.rules.active(session)
        require_channel(ruleset, body["channel"])
        row = _hold(ctx, session, ruleset, body)
        hold = Reservation(channel=body["channel"], sku=body["sku"], location_id=row.location_id,
                           quantity=body["quantity"],
                           expires_at=utcnow() + timedelta(seconds=body["ttl_seconds"]))
        session.add(hold)
        session.flush()
        hold_deadlines.note(session, hold.sku, hold.expires_at)
        return to_dict(hold) | {"ruleset": ruleset.ref}


def _candidates(ctx: Context, session: Session, ruleset: Any, body: dict[str, Any]
                ) -> list[int]:
    sp = StockPosition.__table__
    query = select(sp.c.id, sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated,
                   sp.c.reserved, sp.c.as_of).where(sp.c.sku == body["sku"])
    if body.get("location"):
        query = query.where(sp.c.location_id == body["location"])
    catalog = ctx.catalog.get(session)
    scored = []
    for r in session.execute(query):
        units = sellable(ruleset, catalog, figures(PositionRow(*r)), body["channel"])
        if units >= body["quantity"]:
            scored.append((-units, r[1], r[0]))
    return [pid for _units, _loc, pid in sorted(scored)]


def _hold(ctx: Context, session: Session, ruleset: Any, body: dict[str, Any]) -> PositionRow:
    catalog = ctx.catalog.get(session)
    quantity, channel = body["quantity"], body["channel"]
    for pid in _candidates(ctx, session, ruleset, body):
        def take(row: PositionRow) -> PositionRow | None:
            if sellable(ruleset, catalog, figures(row), channel) < quantity:
                return None  # taken meanwhile: try the next location
            return dataclasses.replace(row, reserved=row.reserved + quantity)

        held = change_positions(ctx, session, ruleset, {pid: take})
        if held:
            return held[pid]
    where = f" at {body['location']}" if body.get("location") else ""
    raise InsufficientStock(
        f"{channel} cannot hold {quantity} of {body['sku']}{where}: not enough sellable stock.",
        [problem("/quantity", "more than the channel may sell", sku=body["sku"])])


def release(ctx: Context, role: Role, hold_id: str) -> dict[str, Any]:
    """Give a hold's units back at once."""
    with ctx.sessions.begin() as session:
        hold = session.get(Reservation, hold_id, with_for_update=True)
        if hold is None or not role.may_use_channel(hold.channel):
            raise NotFound(f"No hold {hold_id!r}.")
        if hold.status == "active":
            _free(ctx, session, [hold], "released")
        return to_dict(hold)


def _free(ctx: Context, session: Session, holds: list[Reservation], status: str,
          defer_to: Deltas | None = None) -> None:
    ruleset = ctx.rules.active(session)
    ids = position_ids(session, {(hold.location_id, hold.sku) for hold in holds})
    by_position: dict[int, int] = {}
    for hold in holds:
        pid = ids.get((hold.location_id, hold.sku))
        if pid is not None:
            by_position[pid] = by_position.get(pid, 0) + hold.quantity
        hold.status, hold.released_at = status, utcnow()

    def giver(units: int):
        return lambda row: dataclasses.replace(row, reserved=max(0, row.reserved - units))

    change_positions(ctx, session, ruleset, {pid: giver(u) for pid, u in by_position.items()},
                     defer_to=defer_to)


def consume(ctx: Context, session: Session, channel: str, hold_ids: list[str],
            skus: set[str]) -> Deltas:
    """Turn a checkout's holds into stock its order may take, in the order's transaction.

    The held units go back to the channel's sellable stock inside this transaction only, so
    the order's plan can use them; when the order fails, the rollback keeps the holds. The
    channel-figure deltas come back unapplied: the order moves them with its allocation's, so
    figure rows are locked once, after every position (two orders never lock them crosswise).
    """
    pending: Deltas = {}
    if not hold_ids:
        return pending
    holds = {h.id: h for h in session.scalars(
        select(Reservation).where(Reservation.id.in_(hold_ids)).with_for_update())}
    problems = []
    for index, hold_id in enumerate(hold_ids):
        hold = holds.get(hold_id)
        if hold is None or hold.channel != channel:
            problems.append(problem(f"/reservations/{index}", f"no hold {hold_id!r} for {channel}"))
        elif hold.status != "active" or hold.expires_at <= utcnow():
            problems.append(problem(f"/reservations/{index}", f"hold {hold_id!r} is {hold.status}"
                                    if hold.status != "active" else f"hold {hold_id!r} expired"))
        elif hold.sku not in skus:
            problems.append(problem(f"/reservations/{index}",
                                    f"hold {hold_id!r} is for {hold.sku}, not on the order"))
    if problems:
        raise ValidationFailed("Some holds cannot be used by this order.", problems)
    _free(ctx, session, list(holds.values()), "consumed", defer_to=pending)
    return pending


def expire(ctx: Context, skus: list[str] | None = None, limit: int = 1000) -> int:
    """Expire overdue holds (all, or of some skus) and move their SKUs' deadlines on to the
    next active hold; return how many holds expired."""
    now = utcnow()
    with ctx.sessions.begin() as session:
        query = select(Reservation).where(Reservation.status == "active",
                                          Reservation.expires_at <= now)
        if skus is not None:
            query = query.where(Reservation.sku.in_(skus))
        overdue = list(session.scalars(query.order_by(Reservation.id).limit(limit)
                                       .with_for_update(skip_locked=True)))
        if overdue:
            _free(ctx, session, overdue, "expired")
        hold_deadlines.move_on(session, now, skus, limit)
        if skus is None:  # the expiry job
            hold_deadlines.repair(session)
        return len(overdue)


def to_dict(hold: Reservation) -> dict[str, Any]:
    return {"id": hold.id, "channel": hold.channel, "sku": hold.sku,
            "location": hold.location_id, "quantity": hold.quantity, "status": hold.status,
            "expires_at": hold.expires_at.isoformat()}
