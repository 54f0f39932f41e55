"""Order status, derived from its lines and fulfilments (never stored independently)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

OPEN_FULFILMENT = ("created", "accepted", "picked", "packed")
SHIPPED = ("shipped", "delivered")


@dataclass(frozen=True)
class LineState:
    """A line's quantities as status derivation sees them."""

    quantity: int
    cancelled: int = 0
    backordered: int = 0
    returned: int = 0  # units received back by returns

    @property
    def open(self) -> int:
        """Units not cancelled."""
        return self.quantity - self.cancelled


def derive_status(lines: Iterable[LineState], fulfilment_statuses: Iterable[str]) -> str:
    """created | in_progress | partially_shipped | shipped | delivered | backordered |
    partially_backordered | cancelled | partially_returned | returned — from the lines and
    the live fulfilments. Once a return brought units back, the order is partially_returned;
    returned when every unit not cancelled came back."""
    lines = list(lines)
    live = [s for s in fulfilment_statuses if s not in ("cancelled", "rejected")]
    if all(line.open == 0 for line in lines):
        return "cancelled"
    if any(line.returned for line in lines):
        return ("returned" if all(line.returned == line.open for line in lines)
                else "partially_returned")
    backordered = sum(line.backordered for line in lines)
    if not live:
        return "backordered" if backordered else "created"
    if backordered:
        return "partially_backordered"
    return _progress(live)


def _progress(live: list[str]) -> str:
    if all(s == "delivered" for s in live):
        return "delivered"
    if all(s in SHIPPED for s in live):
        return "shipped"
    if any(s in SHIPPED for s in live):
        return "partially_shipped"
    if any(s != "created" for s in live):
        return "in_progress"
    return "created"
