"""Backlog per location: open fulfilment lines over daily capacity, read exactly.

The counts are kept in `location_backlog`, moved in the same transaction as the orders and
fulfilment events that open or close lines, so a plan sees every order committed before it:
one row per location to read, however many orders are open.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.store.unit_of_work import UnitOfWork


def open_lines(uow: UnitOfWork) -> dict[str, int]:
    """Open fulfilment lines per location, as committed (locations with none are absent)."""
    return uow.orders.backlog.per_location()


def read_first(uow: UnitOfWork, journal_cause: Mapping[str, str] | None = None) -> bool:
    """Read the backlog and the cache versions in one statement, first thing in an order's
    transaction: the catalog and the key are then checked without a round trip of their own.

    With `journal_cause` (`uow.journal.cause(...)`), on PostgreSQL the same statement takes
    the switch lock, reads the active ruleset and names the journal's cause; True when it
    did (else the caller names the cause with `uow.journal.because`).
    """
    if journal_cause is None:
        uow.orders.backlog.read_with(uow.versions)
        return False
    kept = uow.orders.backlog
    kept.read_with(uow.versions, uow.activations, journal_cause)
    return kept.started_order


def ratio(open_count: int, daily_capacity: int) -> float:
    """Days of work queued: open lines over daily capacity (no capacity → one day per line)."""
    return open_count / daily_capacity if daily_capacity > 0 else float(open_count)
