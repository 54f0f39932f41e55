"""Helpers shared by tests (import as tests.support)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

FIXTURES = Path(__file__).parent / "fixtures"
T1, T2, T3 = "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z"


def snapshot(location: str, as_of: str, counts: dict[str, int]) -> dict:
    """A snapshot push body."""
    return {"location": location, "as_of": as_of,
            "items": [{"sku": sku, "on_hand": qty} for sku, qty in counts.items()]}


def assert_ledger_consistent(ctx) -> None:
    """Every position's allocated = its open fulfilment lines + its open transfer lines (not
    shipped nor cancelled), reserved = its active holds,
    and every kept channel figure = a fresh set-based recompute."""
    from sqlalchemy import func, select

    from service.services.ats import kept as kept_ats
    from service.store.models import (
        ChannelAvailability,
        FulfilmentLineRow,
        FulfilmentRow,
        Reservation,
        StockPosition,
        TransferLineRow,
        TransferRow,
    )

    open_units = FulfilmentLineRow.quantity - FulfilmentLineRow.quantity_shipped - \
        FulfilmentLineRow.quantity_rejected - FulfilmentLineRow.quantity_cancelled
    with ctx.sessions() as session:
        positions = {(p.location_id, p.sku): p for p in session.scalars(select(StockPosition))}
        allocated = dict(session.execute(
            select(FulfilmentRow.location_id + "|" + FulfilmentLineRow.sku, func.sum(open_units))
            .join(FulfilmentRow, FulfilmentRow.id == FulfilmentLineRow.fulfilment_id)
            .group_by(FulfilmentRow.location_id, FulfilmentLineRow.sku)).all())
        transfers = dict(session.execute(  # units of transfers not shipped nor cancelled
            select(TransferRow.from_location_id + "|" + TransferLineRow.sku,
                   func.sum(TransferLineRow.quantity - TransferLineRow.quantity_shipped
                            - TransferLineRow.quantity_cancelled))
            .join(TransferRow, TransferRow.id == TransferLineRow.transfer_id)
            .group_by(TransferRow.from_location_id, TransferLineRow.sku)).all())
        reserved = dict(session.execute(
            select(Reservation.location_id + "|" + Reservation.sku, func.sum(Reservation.quantity))
            .where(Reservation.status == "active")
            .group_by(Reservation.location_id, Reservation.sku)).all())
        kept = {(r.channel, r.sku): r.available
                for r in session.scalars(select(ChannelAvailability))}
    for (location, sku), pos in positions.items():
        assert pos.allocated == int(allocated.get(f"{location}|{sku}", 0)) + int(
            transfers.get(f"{location}|{sku}", 0)), (location, sku)
        assert pos.reserved == int(reserved.get(f"{location}|{sku}", 0)), (location, sku)
    with ctx.transaction() as uow:
        kept_ats.recompute(uow, ctx.rules.active(uow))
    with ctx.sessions() as session:
        fresh = {(r.channel, r.sku): r.available
                 for r in session.scalars(select(ChannelAvailability))}
    assert kept == fresh


def writes_sent_by_sqlalchemy(ctx, work):
    """The INSERT, UPDATE and WITH statements `work` sent through SQLAlchemy (a statement
    sent on the driver's own cursor, as the one-statement re-route is, is not among them)."""
    sent = []

    def note(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("UPDATE", "WITH", "INSERT")):
            sent.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", note)
    return sent
