"""Reservations: units set aside for a cart or a checkout, for a short time.

A reservation lowers the channel's ATS in the transaction that makes it; it is released by
its owner, consumed by the order it was made for, or expires (a scheduled job, and every
read of its SKU once its deadline has passed: reads never count an expired reservation).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from service.domain.ids import new_id
from service.domain.roles import Role, authorize
from service.errors import InsufficientStock, NotFound, ValidationFailed, problem
from service.payloads import require
from service.rules.model import Ruleset
from service.services.ats.deltas import Deltas
from service.services.ats.position import position_ats
from service.services.inventory.stock_changes import change_positions
from service.services.rulesets.active import known_channel
from service.store.models import Reservation
from service.store.position_rows import PositionRow
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


def _validated(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    require("reservation_request", body)
    limits = ctx.settings.section("inventory")
    ttl = body.get("ttl_seconds", limits["reservation_ttl_seconds"])
    if ttl > limits["max_reservation_ttl_seconds"]:
        raise ValidationFailed("The reservation is too long.", [problem(
            "/ttl_seconds", f"at most {limits['max_reservation_ttl_seconds']} seconds")])
    return {**body, "ttl_seconds": ttl}


def create(ctx: Context, role: Role, body: dict[str, Any]) -> dict[str, Any]:
    """Reserve quantity of sku for channel (at a location, or where its ATS is largest)."""
    body = _validated(ctx, body)
    authorize(role, channel=body["channel"], action="reserve stock for")
    with ctx.transaction() as uow:
        ruleset = ctx.rules.active(uow)
        known_channel(ruleset, body["channel"])
        reservation_id = new_id()
        uow.journal.because("hold", reservation=reservation_id, channel=body["channel"])
        row = _reserve(uow, ruleset, body)
        now = ctx.clock.now()
        reservation = uow.reservations.add(
            body["channel"], body["sku"], row.location_id, body["quantity"], now,
            now + timedelta(seconds=body["ttl_seconds"]), reservation_id)
        return to_dict(reservation) | {"ruleset": ruleset.ref}


def _candidates(uow: UnitOfWork, ruleset: Ruleset, body: dict[str, Any]) -> list[int]:
    """Positions that can give the whole quantity, most ATS first."""
    catalog = uow.catalog()
    scored = []
    for row in uow.positions.of_sku(body["sku"], body.get("location")):
        units = position_ats(ruleset, catalog, row, body["channel"])
        if units >= body["quantity"]:
            scored.append((-units, row.location_id, row.id))
    return [pid for _units, _loc, pid in sorted(scored)]


def _reserve(uow: UnitOfWork, ruleset: Ruleset, body: dict[str, Any]) -> PositionRow:
    catalog = uow.catalog()
    quantity, channel = body["quantity"], body["channel"]
    for pid in _candidates(uow, ruleset, body):
        def take(row: PositionRow) -> PositionRow | None:
            if position_ats(ruleset, catalog, row, channel) < quantity:
                return None  # taken meanwhile: try the next location
            return dataclasses.replace(row, reserved=row.reserved + quantity)

        reserved = change_positions(uow, ruleset, {pid: take})
        if reserved:
            return reserved[pid]
    where = f" at {body['location']}" if body.get("location") else ""
    raise InsufficientStock(
        f"{channel} cannot reserve {quantity} of {body['sku']}{where}: not enough ATS.",
        [problem("/quantity", "more than the channel may sell", sku=body["sku"])])


def release(ctx: Context, role: Role, reservation_id: str) -> dict[str, Any]:
    """Give a reservation's units back at once."""
    with ctx.transaction() as uow:
        reservation = uow.reservations.get_locked(reservation_id)
        if reservation is None:
            raise NotFound(_no_such(reservation_id))
        authorize(role, channel=reservation.channel, unseen=_no_such(reservation_id))
        if reservation.status == "active":
            uow.journal.because("hold", reservation=reservation.id, status="released")
            _free(ctx, uow, [reservation], "released")
        return to_dict(reservation)


def _no_such(reservation_id: str) -> str:
    return f"No reservation {reservation_id!r}."


def _free(ctx: Context, uow: UnitOfWork, reservations: list[Reservation], status: str,
          defer_to: Deltas | None = None) -> None:
    ruleset = ctx.rules.active(uow)
    ids = uow.positions.ids_for({(r.location_id, r.sku) for r in reservations})
    by_position: dict[int, int] = {}
    for reservation in reservations:
        pid = ids.get((reservation.location_id, reservation.sku))
        if pid is not None:
            by_position[pid] = by_position.get(pid, 0) + reservation.quantity
    uow.reservations.close(reservations, status, ctx.clock.now())

    def giver(units: int):
        return lambda row: dataclasses.replace(row, reserved=max(0, row.reserved - units))

    change_positions(uow, ruleset, {pid: giver(u) for pid, u in by_position.items()},
                     defer_to=defer_to)


def consume(ctx: Context, uow: UnitOfWork, channel: str, reservation_ids: list[str],
            skus: set[str]) -> Deltas:
    """Turn a checkout's reservations into stock its order may take, in the order's
    transaction.

    The reserved units go back to the channel's ATS inside this transaction only, so the
    order's plan can use them; when the order fails, the rollback keeps the reservations.
    The ATS deltas come back unapplied: the order moves them with its allocation's, so ATS
    rows are locked once, after every position (two orders never lock them crosswise).
    """
    pending: Deltas = {}
    if not reservation_ids:
        return pending
    found = uow.reservations.locked(reservation_ids)
    problems = [p for index, rid in enumerate(reservation_ids)
                if (p := _unusable(found.get(rid), rid, index, channel, skus, ctx.clock.now()))]
    if problems:
        raise ValidationFailed("Some reservations cannot be used by this order.", problems)
    _free(ctx, uow, list(found.values()), "consumed", defer_to=pending)
    return pending


def _unusable(reservation: Reservation | None, reservation_id: str, index: int, channel: str,
              skus: set[str], now: datetime) -> dict[str, Any] | None:
    """The problem with using a reservation for this order, if there is one."""
    pointer = f"/reservations/{index}"
    if reservation is None or reservation.channel != channel:
        return problem(pointer, f"no reservation {reservation_id!r} for {channel}")
    if reservation.status != "active":
        return problem(pointer, f"reservation {reservation_id!r} is {reservation.status}")
    if reservation.expires_at <= now:
        return problem(pointer, f"reservation {reservation_id!r} expired")
    if reservation.sku not in skus:
        return problem(pointer, f"reservation {reservation_id!r} is for {reservation.sku}, "
                                "not on the order")
    return None


def expire(ctx: Context, skus: list[str] | None = None, limit: int = 1000) -> int:
    """Expire overdue reservations (all, or of some skus) and move their SKUs' deadlines on
    to the next active one; return how many expired."""
    now = ctx.clock.now()
    with ctx.transaction() as uow:
        overdue = uow.reservations.overdue(now, skus, limit)
        if overdue:
            uow.journal.because("hold", reservations=[r.id for r in overdue],
                                status="expired")
            _free(ctx, uow, overdue, "expired")
        uow.reservations.move_deadlines_on(now, skus, limit)
        if skus is None:  # the expiry job
            uow.reservations.repair_deadlines()
        return len(overdue)


def to_dict(reservation: Reservation) -> dict[str, Any]:
    """A reservation as the API returns it."""
    return {"id": reservation.id, "channel": reservation.channel, "sku": reservation.sku,
            "location": reservation.location_id, "quantity": reservation.quantity,
            "status": reservation.status, "expires_at": reservation.expires_at.isoformat()}
