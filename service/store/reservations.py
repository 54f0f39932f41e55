"""Reservations (units set aside for a cart or checkout) and their SKUs' deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.ids import new_id
from service.store import reservation_deadlines
from service.store.models import Reservation


class ReservationRepository:
    """Reservation rows of one transaction; a new one notes its SKU's deadline."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, channel: str, sku: str, location_id: str, quantity: int,
            created_at: datetime, expires_at: datetime,
            reservation_id: str | None = None) -> Reservation:
        """Store a new active reservation (and lower its SKU's deadline to it if earlier)."""
        reservation = Reservation(id=reservation_id or new_id(), channel=channel, sku=sku,
                                  location_id=location_id, quantity=quantity, created_at=created_at,
                                  expires_at=expires_at)
        self.session.add(reservation)
        self.session.flush()
        reservation_deadlines.note(self.session, sku, expires_at)
        return reservation

    def get_locked(self, reservation_id: str) -> Reservation | None:
        """One reservation, locked for update."""
        return self.session.get(Reservation, reservation_id, with_for_update=True)

    def locked(self, reservation_ids: Sequence[str]) -> dict[str, Reservation]:
        """The reservations with these ids that exist, locked for update."""
        query = select(Reservation).where(Reservation.id.in_(list(reservation_ids)))
        return {r.id: r for r in self.session.scalars(query.with_for_update())}

    def overdue(self, now: datetime, skus: Sequence[str] | None, limit: int
                ) -> list[Reservation]:
        """Active reservations past their expiry (of skus, or any), locked; ones another
        transaction holds are skipped."""
        query = select(Reservation).where(Reservation.status == "active",
                                          Reservation.expires_at <= now)
        if skus is not None:
            query = query.where(Reservation.sku.in_(skus))
        return list(self.session.scalars(query.order_by(Reservation.id).limit(limit)
                                         .with_for_update(skip_locked=True)))

    def close(self, reservations: Sequence[Reservation], status: str, at: datetime) -> None:
        """Mark reservations released, consumed or expired at `at` (their units are the
        caller's to give back)."""
        for reservation in reservations:
            reservation.status, reservation.released_at = status, at

    def any_due(self, skus: Sequence[str], now: datetime) -> bool:
        """Whether a reservation of these skus may be overdue (a deadline has passed)."""
        return reservation_deadlines.any_due(self.session, skus, now)

    def move_deadlines_on(self, now: datetime, skus: Sequence[str] | None, limit: int) -> int:
        """Move passed deadlines to each SKU's next active reservation (see the module)."""
        return reservation_deadlines.move_on(self.session, now, skus, limit)

    def repair_deadlines(self) -> None:
        """Give every SKU with active reservations a deadline (the expiry job's sweep)."""
        reservation_deadlines.repair(self.session)
