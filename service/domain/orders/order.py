"""The order aggregate: its lines and fulfilments, and the rules that change them.

Every change appends what it leaves behind to `events` (outbox rows) and `settlements`
(settlement records), and returns the stock it frees or ships by (location_id, sku): the
stock ledger is not the order's to change. Times are always given, never read from a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from service.domain import events as names
from service.errors import Conflict, NotFound

from . import announcing as announce
from .cancelling import cancel_targets
from .fulfilment import IllegalTransition, next_status
from .model import (
    DomainEvent,
    Fulfilment,
    FulfilmentLine,
    OrderLine,
    PlannedShipment,
    Settlement,
    line_numbers,
    new_fulfilment,
)
from .rejecting import (
    reject_targets,
    reject_units,
    rejected_by,
    rejection_event,
    reroute_event,
    short_after_reroute,
)
from .shortage import PLACEMENT_CANCEL_REASON
from .status import derive_status

Units = dict[tuple[str, str], int]  # (location_id, sku) -> units


class RequestedLine(Protocol):
    """What placing needs of a requested line (a sourcing request's line, an OrderLine)."""

    @property
    def line_no(self) -> int: ...

    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...

    @property
    def unit_price(self) -> Decimal: ...


@dataclass
class Order:
    """An order with its lines and fulfilments; its status is derived, never stored."""

    id: str
    channel: str
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLine]
    fulfilments: list[Fulfilment]
    order_ref: str | None = None
    customer_id: str | None = None
    delivery_method: str = "ship"
    pickup_location: str | None = None
    ship_to: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    ruleset: str = ""
    plan: dict[str, Any] = field(default_factory=dict)
    explanation: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    request_hash: str | None = None
    on_short: str | None = None  # what the order does when short (None: placed before it)
    cancel_reason: str | None = None  # the latest reason a cancel gave
    experiment: str | None = None  # the experiment whose variant's ruleset decided it
    variant: str | None = None
    events: list[DomainEvent] = field(default_factory=list)  # new since loaded or created
    settlements: list[Settlement] = field(default_factory=list)  # new since loaded or created
    # the status subscribers last heard of (as loaded or placed): `order.status_changed`
    announced_status: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.announced_status = self.status

    @property
    def status(self) -> str:
        """The order's status, derived from its lines and its fulfilments' statuses."""
        return derive_status([line.state for line in self.lines],
                             [f.status for f in self.fulfilments])

    @classmethod
    def place(cls, *, id: str, channel: str, lines: Iterable[RequestedLine],
              shipments: Iterable[PlannedShipment], backordered: Mapping[str, int],
              at: datetime, cancelled: Mapping[str, int] | None = None,
              on_short: str | None = None, order_ref: str | None = None,
              customer_id: str | None = None, delivery_method: str = "ship",
              pickup_location: str | None = None, ship_to: dict[str, Any] | None = None,
              attributes: dict[str, Any] | None = None, ruleset: str = "",
              plan: dict[str, Any] | None = None, explanation: dict[str, Any] | None = None,
              idempotency_key: str | None = None, request_hash: str | None = None,
              experiment: str | None = None, variant: str | None = None) -> Order:
        """A new order as planned: a fulfilment per shipment (by id), the short units
        backordered or (`cancelled`, by SKU) cancelled at once."""
        cancelled = cancelled or {}
        order_lines = [OrderLine(ln.line_no, ln.sku, ln.quantity, ln.unit_price,
                                 cancelled=cancelled.get(ln.sku, 0),
                                 backordered=backordered.get(ln.sku, 0)) for ln in lines]
        line_nos = line_numbers(order_lines)
        fulfilments = [new_fulfilment(s, line_nos, at)
                       for s in sorted(shipments, key=lambda s: s.fulfilment_id)]
        order = cls(id=id, channel=channel, created_at=at, updated_at=at, lines=order_lines,
                    fulfilments=fulfilments, order_ref=order_ref, customer_id=customer_id,
                    delivery_method=delivery_method, pickup_location=pickup_location,
                    ship_to=dict(ship_to or {}), attributes=dict(attributes or {}),
                    ruleset=ruleset, plan=dict(plan or {}), explanation=dict(explanation or {}),
                    idempotency_key=idempotency_key, request_hash=request_hash,
                    on_short=on_short, experiment=experiment, variant=variant)
        order._placed(at)
        return order

    def _placed(self, at: datetime) -> None:
        """Record what placing left behind: units cancelled at once, the placing events."""
        short = {line.line_no: line.cancelled for line in self.lines if line.cancelled}
        placed: dict[str, Any] = {
            "ruleset": self.ruleset, "order_ref": self.order_ref,
            "customer_id": self.customer_id, "delivery_method": self.delivery_method,
            "lines": announce.lines((line.sku, line.quantity) for line in self.lines)}
        if self.experiment is not None:
            placed |= {"experiment": self.experiment, "variant": self.variant}
        if short:
            self.cancel_reason = PLACEMENT_CANCEL_REASON
            self._settle_cancelled(short, at)
            placed["cancelled"] = announce.lines((ln.sku, ln.cancelled) for ln in self.lines)
        self.events.append(announce.order_event(self, names.ORDER_PLACED, at, **placed))
        self.events += announce.requested(self, self.fulfilments, announce.PLACED, at)
        self.events += announce.backordered(
            self, {ln.sku: ln.backordered for ln in self.lines}, announce.PLACED, at)

    def fulfilment(self, fulfilment_id: str) -> Fulfilment | None:
        """The order's fulfilment with this id, if it has one."""
        return next((f for f in self.fulfilments if f.id == fulfilment_id), None)

    def cancellable(self, line: OrderLine) -> int:
        """Units of a line still cancellable: open on open fulfilments, plus backordered."""
        return line.backordered + sum(row.open for f in self.fulfilments if f.is_open
                                      for row in f.lines if row.line_no == line.line_no)

    def cancel(self, wanted: list[dict[str, Any]] | None, reason: str | None,
               at: datetime) -> Units:
        """Cancel what is asked (None or []: all still cancellable); return the units freed."""
        targets = cancel_targets(self, wanted)
        before = self.status
        released = self._take(targets)
        self.cancel_reason = reason or self.cancel_reason
        for f in self.fulfilments:
            if f.is_open and all(row.open <= 0 for row in f.lines):
                f.status, f.updated_at, f.reason = "cancelled", at, reason or f.reason
                self.events.append(announce.fulfilment_event(
                    self, f, names.FULFILMENT_CANCELLED, at, reason=reason,
                    lines=announce.lines((row.sku, row.cancelled) for row in f.lines)))
        self._settle_cancelled(targets, at)
        self._restamp(before, at)
        self.events.append(announce.cancelled(self, targets, reason, at))
        self.events += announce.status_changed(self, at)
        return {key: units for key, units in released.items() if units}

    def report(self, fulfilment_id: str, event: str, *, at: datetime, now: datetime,
               tracking: str | None = None, reason: str | None = None) -> Units:
        """Apply a location's event (`at` when it happened, reported `now`); return the units
        shipped."""
        fulfilment = self.fulfilment(fulfilment_id)
        if fulfilment is None:
            raise NotFound(f"No fulfilment {fulfilment_id!r}.")
        try:
            status = next_status(fulfilment.status, event)
        except IllegalTransition as exc:
            raise Conflict(f"Fulfilment {fulfilment_id}: {exc}.") from exc
        if status is None:  # a retry: nothing changes
            return {}
        before = self.status
        shipped = self._ship(fulfilment, at, now) if status == "shipped" else []
        fulfilment.status, fulfilment.updated_at = status, now
        if status == "delivered":
            fulfilment.delivered_at = at
        fulfilment.tracking = tracking or fulfilment.tracking
        fulfilment.reason = reason or fulfilment.reason
        self.events.append(announce.fulfilment_event(
            self, fulfilment, names.FULFILMENT_STEPS[status], now, at=at.isoformat(),
            tracking=fulfilment.tracking, reason=reason, lines=announce.live_lines(fulfilment)))
        self._restamp(before, now)
        self.events += announce.status_changed(self, now)
        units: Units = {}
        for row, q in shipped:  # every line's position, even one with nothing left
            key = (fulfilment.location_id, row.sku)
            units[key] = units.get(key, 0) + q
        return units

    def reject(self, fulfilment_id: str, wanted: list[dict[str, Any]] | None, reason: str,
               at: datetime) -> tuple[Units, dict[int, int]]:
        """A location rejects some (or all) open units; (units freed, units per line_no)."""
        fulfilment = self.fulfilment(fulfilment_id)
        if fulfilment is None:
            raise NotFound(f"No fulfilment {fulfilment_id!r}.")
        targets = reject_targets(fulfilment, wanted)
        freed = reject_units(fulfilment, targets, reason, at)
        self.events.append(rejection_event(self, fulfilment, freed, at))
        return {(fulfilment.location_id, sku): q for sku, q in freed.items()}, targets

    def rejected_by(self, line_no: int) -> set[str]:
        """The locations that rejected units of this line (a re-route never goes back)."""
        return rejected_by(self.fulfilments, line_no)

    def reroute(self, source: Fulfilment, shipments: Iterable[PlannedShipment],
                short: Mapping[str, int], on_short: str, at: datetime,
                decision: dict[str, Any]) -> None:
        """Add the fulfilments re-routing `source`'s rejected units planned; what it could not
        place is backordered or cancelled (as `on_short` says)."""
        before, line_nos = self.status, line_numbers(self.lines)
        new = [new_fulfilment(s, line_nos, at) for s in shipments]
        self.fulfilments.extend(new)
        backordered, cancelled = short_after_reroute(on_short, short)
        for line in self.lines:
            line.backordered += backordered.get(line.sku, 0)
            line.cancelled += cancelled.get(line.sku, 0)
        if cancelled:
            self.cancel_reason = f"rejected by {source.location_id}; no other location has it"
            self._settle_cancelled({line_nos[sku]: q for sku, q in cancelled.items()}, at)
        self.explanation = {**self.explanation,
                            "reroutes": [*self.explanation.get("reroutes", []), decision]}
        self._restamp(before, at)
        self.events += announce.requested(self, new, announce.REROUTED, at,
                                          rerouted_from=source.id)
        self.events.append(reroute_event(self, source, new, backordered, cancelled, at))
        self.events += announce.backordered(self, backordered, announce.REROUTED, at)
        if cancelled:
            self.events.append(announce.cancelled(
                self, {line_nos[sku]: q for sku, q in cancelled.items()}, self.cancel_reason,
                at))
        self.events += announce.status_changed(self, at)

    def _take(self, targets: dict[int, int]) -> Units:
        """Cancel each line's target: backordered units first, then the latest fulfilments'."""
        released: Units = {}
        latest_first = sorted(self.fulfilments, key=lambda f: (f.created_at, f.id), reverse=True)
        for line in self.lines:
            wanted = targets.get(line.line_no, 0)
            from_backorder = min(wanted, line.backordered)
            line.backordered -= from_backorder
            left = wanted - from_backorder
            for f in latest_first:
                if left and f.is_open:
                    left = _take_from(f, line.line_no, left, released)
            line.cancelled += wanted
        return released

    def _ship(self, fulfilment: Fulfilment, at: datetime, now: datetime
              ) -> list[tuple[FulfilmentLine, int]]:
        """Every open unit of the fulfilment ships at `at`, settled per line (as of `now`)."""
        shipped = [(row, max(row.open, 0)) for row in fulfilment.lines]
        if not any(q for _row, q in shipped):
            raise Conflict(f"Fulfilment {fulfilment.id} has nothing left to ship: every line "
                           "is cancelled or rejected.")
        prices = {line.line_no: line.unit_price for line in self.lines}
        for row, q in shipped:
            row.shipped += q
            if q:
                self.settlements.append(Settlement(
                    "shipped", row.line_no, row.sku, q, Decimal(prices[row.line_no]) * q, now,
                    fulfilment.location_id))
        fulfilment.shipped_at = at
        return shipped

    def _settle_cancelled(self, units: Mapping[int, int], at: datetime) -> None:
        """A settlement record for each line with units cancelled (by line_no) at `at`."""
        self.settlements += [Settlement("cancelled", line.line_no, line.sku,
                                        units[line.line_no],
                                        Decimal(line.unit_price) * units[line.line_no], at)
                             for line in self.lines if units.get(line.line_no)]

    def _restamp(self, before: str, at: datetime) -> str:
        """The status now; the order is updated at `at` when it differs from `before`."""
        status = self.status
        if status != before:
            self.updated_at = at
        return status


def _take_from(fulfilment: Fulfilment, line_no: int, left: int, released: Units) -> int:
    """Cancel up to `left` open units of a line on one fulfilment; return what is still left."""
    for row in fulfilment.lines:
        if row.line_no == line_no and left:
            take = min(left, row.open)
            row.cancelled += take
            left -= take
            key = (fulfilment.location_id, row.sku)
            released[key] = released.get(key, 0) + take
    return left
