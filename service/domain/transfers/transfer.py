"""The transfer aggregate: units allocated at a source, shipped, in transit, received.

`created` (units allocated at the source) -> `shipped` (they left its shelf; in transit)
-> `partially_received` -> `received` (every shipped unit arrived), or `closed` (the units
never received are recorded as missing), or `cancelled` before it ships. Every change appends
its outbox event to `events` and returns the units the stock ledger must move by
(location_id, sku): the ledger is not the transfer's to change. Times are always given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.domain import events as names
from service.domain.orders.model import DomainEvent
from service.errors import Conflict, ValidationFailed, problem

STATUSES = ("created", "shipped", "partially_received", "received", "closed", "cancelled")
IN_TRANSIT = ("shipped", "partially_received")  # statuses with units on the road
Units = dict[tuple[str, str], int]  # (location_id, sku) -> units


@dataclass
class TransferLine:
    """The units of one SKU a transfer moves, and where they are."""

    sku: str
    quantity: int
    shipped: int = 0
    received: int = 0
    missing: int = 0  # shipped but never received (closed with a discrepancy)
    cancelled: int = 0
    id: int | None = None  # storage id (None for a new transfer)

    @property
    def allocated(self) -> int:
        """Units still allocated at the source (not shipped, not cancelled)."""
        return self.quantity - self.shipped - self.cancelled

    @property
    def in_transit(self) -> int:
        """Units shipped and neither received nor recorded missing."""
        return self.shipped - self.received - self.missing


@dataclass
class Transfer:
    """Units of one or more SKUs moving from `source` to `destination`."""

    id: str
    source: str
    destination: str
    lines: list[TransferLine]
    created_at: datetime
    updated_at: datetime
    status: str = "created"
    reference: str | None = None
    tracking: str | None = None
    reason: str | None = None
    shipped_at: datetime | None = None
    closed_at: datetime | None = None
    expected_at: datetime | None = None  # when the units should arrive (None: unknown)
    events: list[DomainEvent] = field(default_factory=list)  # new since loaded or created

    @classmethod
    def create(cls, *, id: str, source: str, destination: str,
               lines: Iterable[tuple[str, int]], at: datetime,
               reference: str | None = None, expected_at: datetime | None = None
               ) -> Transfer:
        """A new transfer (its units are allocated at the source in the same transaction)."""
        if source == destination:
            raise ValidationFailed("A transfer moves stock between two locations.", [problem(
                "/to", f"the destination is the source ({source!r})")])
        transfer = cls(id=id, source=source, destination=destination,
                       lines=[TransferLine(sku, q) for sku, q in lines], created_at=at,
                       updated_at=at, reference=reference, expected_at=expected_at)
        transfer._emit(names.TRANSFER_CREATED, {"lines": transfer._lines(lambda ln: ln.quantity)},
                       at)
        return transfer

    def line(self, sku: str) -> TransferLine | None:
        """The transfer's line of this SKU, if it has one."""
        return next((ln for ln in self.lines if ln.sku == sku), None)

    def ship(self, at: datetime, tracking: str | None = None) -> Units:
        """Every allocated unit leaves the source; return the units shipped by position."""
        self._require("created", "ship")
        for ln in self.lines:
            ln.shipped += ln.allocated
        self.status, self.shipped_at, self.updated_at = "shipped", at, at
        self.tracking = tracking or self.tracking
        self._emit(names.TRANSFER_SHIPPED, {"tracking": self.tracking,
                                        "lines": self._lines(lambda ln: ln.shipped)}, at)
        return {(self.source, ln.sku): ln.shipped for ln in self.lines if ln.shipped}

    def receive(self, received: Iterable[Mapping[str, Any]], at: datetime,
                discrepancy: bool = False) -> Units:
        """Units arriving at the destination (added to earlier receipts); with `discrepancy`
        the units still in transit are recorded missing and the transfer closes. Return the
        units received by position."""
        self._require(IN_TRANSIT, "receive")
        wanted = self._receipt(list(received))
        for sku, quantity in wanted.items():
            line = self.line(sku)
            if line is not None:
                line.received += quantity
        self.updated_at = at
        done = all(ln.in_transit == 0 for ln in self.lines)
        self.status = "received" if done else "partially_received"
        self._emit(names.TRANSFER_RECEIVED, {
            "lines": [{"sku": sku, "quantity": q} for sku, q in wanted.items()],
            "received": self._lines(lambda ln: ln.received)}, at)
        if discrepancy and not done:
            self._close(at, "discrepancy")
        return {(self.destination, sku): q for sku, q in wanted.items() if q}

    def close(self, at: datetime, reason: str | None = None) -> None:
        """No more units will arrive: those still in transit are recorded missing."""
        self._require(IN_TRANSIT, "close")
        self._close(at, reason)

    def cancel(self, at: datetime, reason: str | None = None) -> Units:
        """Cancel before it ships; return the units to release at the source."""
        self._require("created", "cancel")
        released = {(self.source, ln.sku): ln.allocated for ln in self.lines if ln.allocated}
        for ln in self.lines:
            ln.cancelled += ln.allocated
        self.status, self.updated_at, self.reason = "cancelled", at, reason
        self._emit(names.TRANSFER_CANCELLED, {"reason": reason}, at)
        return released

    def _close(self, at: datetime, reason: str | None) -> None:
        for ln in self.lines:
            ln.missing += ln.in_transit
        self.status, self.closed_at, self.updated_at = "closed", at, at
        self.reason = reason or self.reason
        self._emit(names.TRANSFER_CLOSED, {"reason": reason,
                                      "missing": self._lines(lambda ln: ln.missing)}, at)

    def _receipt(self, received: list[Mapping[str, Any]]) -> dict[str, int]:
        """Units per SKU of a receipt, refused (naming each line) past what is in transit."""
        wanted: dict[str, int] = {}
        unknown, over = [], []
        for i, row in enumerate(received):
            line = self.line(row["sku"])
            if line is None:
                unknown.append(problem(f"/lines/{i}/sku",
                                       f"{row['sku']!r} is not on this transfer"))
                continue
            wanted[line.sku] = wanted.get(line.sku, 0) + row["quantity"]
            if wanted[line.sku] > line.in_transit:
                over.append(problem(
                    f"/lines/{i}/quantity", f"{wanted[line.sku]} received, but only "
                    f"{line.in_transit} of {line.sku!r} are in transit", sku=line.sku,
                    in_transit=line.in_transit))
        if unknown:
            raise ValidationFailed("The receipt names SKUs the transfer does not move.", unknown)
        if over:
            raise Conflict("The receipt holds more units than were shipped.", over)
        return wanted

    def _require(self, statuses: str | tuple[str, ...], verb: str) -> None:
        allowed = (statuses,) if isinstance(statuses, str) else statuses
        if self.status not in allowed:
            raise Conflict(f"Transfer {self.id} is {self.status}: it cannot {verb}.", [problem(
                "/type", f"cannot {verb} a {self.status} transfer (only when "
                f"{' or '.join(allowed)})", status=self.status)])

    def _lines(self, units: Any) -> list[dict[str, Any]]:
        return [{"sku": ln.sku, "quantity": units(ln)} for ln in self.lines]

    def _emit(self, type_: str, payload: dict[str, Any], at: datetime) -> None:
        # `location`: where it happens (the destination receives and closes; the source
        # creates, ships and cancels), so a location's subscription hears its own transfers
        where = self.destination if type_ in (names.TRANSFER_RECEIVED, names.TRANSFER_CLOSED) \
            else self.source
        body = {"transfer_id": self.id, "from": self.source, "to": self.destination,
                "location": where, "status": self.status, "reference": self.reference,
                **payload}
        self.events.append(DomainEvent("transfer", self.id, type_, body, at))
