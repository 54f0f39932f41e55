"""Rejections racing other writers stay correct on SQLite and PostgreSQL: a rejection and a
cancel of the same line, and two acceptance-SLA passes over the same fulfilments.

Every writer of an order takes its row lock first, so whichever comes second sees what the
first did: no unit is lost (each line's units are open, shipped, backordered or cancelled,
exactly once), nothing is oversold, and a fulfilment expires once.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from service.clock import MovableClock
from service.domain.orders.status import OPEN_FULFILMENT
from service.domain.roles import Role
from service.errors import Conflict, ValidationFailed
from service.services.inventory import pushes
from service.services.orders import cancelling, expiring, placing, reading, rejecting
from service.store.models import Event, FulfilmentRow, StockPosition
from tests.integration.orders.test_writers_racing import run_together
from tests.support import T1, assert_ledger_consistent, snapshot

ADMIN = Role.parse("admin")
NYC = {"lat": 40.71, "lon": -74.0}
START = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def policy():
    return "ledger@1"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture
def stocked(small_network):
    for location, counts in {"ST-1": {"A": 10}, "ST-2": {"A": 10}, "DC-1": {"A": 20}}.items():
        body = snapshot(location, T1, counts)
        pushes.push_snapshot(small_network, ADMIN, body, body["items"])
    return small_network


def place(ctx, quantity=4) -> dict:
    return placing.place(ctx, ADMIN, {"channel": "web", "ship_to": NYC,
                                      "lines": [{"sku": "A", "quantity": quantity}]}, None)


def units_accounted_for(ctx, order_id) -> None:
    """Each line's units are open on a live fulfilment, shipped, backordered or cancelled:
    together exactly the line's quantity; and no fulfilment is in two states (open units
    exactly on the ones not yet shipped, closed or rejected)."""
    order = reading.read(ctx, ADMIN, order_id)
    for f in order["fulfilments"]:
        left = sum(row["quantity"] - row["shipped"] - row["cancelled"] - row["rejected"]
                   for row in f["lines"])
        assert (left > 0) == (f["status"] in OPEN_FULFILMENT), f
    for line in order["lines"]:
        open_units = sum(row["quantity"] - row["shipped"] - row["cancelled"] - row["rejected"]
                         for f in order["fulfilments"] for row in f["lines"]
                         if row["sku"] == line["sku"])
        shipped = sum(row["shipped"] for f in order["fulfilments"] for row in f["lines"]
                      if row["sku"] == line["sku"])
        assert open_units + shipped + line["backordered"] + line["cancelled"] == \
            line["quantity"], order


def nothing_oversold(ctx) -> None:
    with ctx.sessions() as session:
        for position in session.scalars(select(StockPosition)):
            assert position.allocated <= position.on_hand, position.location_id


@pytest.mark.parametrize("cancelled, rejected", [(None, None), (2, 3), (4, 1)])
def test_a_rejection_racing_a_cancel_of_the_same_line_loses_no_unit(stocked, cancelled,
                                                                    rejected):
    cancel_body = {"lines": [{"sku": "A", "quantity": cancelled}]} if cancelled else {}
    reject_body = {"type": "rejected", "reason": "not_found",
                   **({"lines": [{"sku": "A", "quantity": rejected}]} if rejected else {})}
    for _round in range(3):
        placed = place(stocked)
        order_id, fulfilment_id = placed["id"], placed["fulfilments"][0]["id"]

        raised = run_together(
            lambda o=order_id: cancelling.cancel(stocked, ADMIN, o, cancel_body),
            lambda f=fulfilment_id: rejecting.reject(stocked, Role.parse("location:ST-1"), f,
                                                     reject_body))

        # the loser finds less open than it asked for: refused whole, nothing written
        assert all(isinstance(exc, Conflict | ValidationFailed) for exc in raised)
        units_accounted_for(stocked, order_id)
        nothing_oversold(stocked)
        assert_ledger_consistent(stocked)


def test_two_expiry_passes_at_once_expire_each_fulfilment_once(stocked, clock):
    placed = [place(stocked, quantity=1) for _ in range(4)]
    overdue = {p["fulfilments"][0]["id"] for p in placed}
    clock.advance(241 * 60)
    expired: list[list[str]] = []

    raised = run_together(*[lambda: expired.append(expiring.expire_unaccepted(stocked))] * 2)

    assert raised == []
    assert sorted(expired[0] + expired[1]) == sorted(overdue)  # each by exactly one pass
    with stocked.sessions() as session:
        rejections = session.scalar(select(func.count()).select_from(Event).where(
            Event.type == "fulfilment.rejected"))
        fulfilments = session.scalar(select(func.count()).select_from(FulfilmentRow))
    assert rejections == 4 and fulfilments == 8  # one re-routed fulfilment each
    for p in placed:
        units_accounted_for(stocked, p["id"])
    nothing_oversold(stocked)
    assert_ledger_consistent(stocked)
