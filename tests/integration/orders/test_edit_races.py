"""An edit racing the location's own steps, on SQLite and PostgreSQL: both take the order's
row lock, so whichever comes second sees what the first did. An edit that finds the units
picked is refused whole (409); a pick that comes second picks what the edit left. No unit is
lost, nothing is oversold, the ledger holds.
"""

import pytest

from service.domain.roles import Role
from service.errors import Conflict
from service.services.inventory import pushes
from service.services.orders import editing, fulfilment, placing, reading
from tests.integration.orders.test_rejection_races import nothing_oversold, units_accounted_for
from tests.integration.orders.test_writers_racing import run_together
from tests.support import T1, assert_ledger_consistent, snapshot

ADMIN = Role.parse("admin")
DC1 = Role.parse("location:DC-1")
NYC = {"lat": 40.71, "lon": -74.0}


@pytest.fixture
def policy():
    return "ledger@1"


@pytest.fixture
def stocked(small_network):
    body = snapshot("DC-1", T1, {"B": 50})
    pushes.push_snapshot(small_network, ADMIN, body, body["items"])
    return small_network


def test_an_edit_racing_the_pick_and_the_shipment_loses_no_unit(stocked):
    for round_ in range(4):
        placed = placing.place(stocked, ADMIN, {"channel": "web", "ship_to": NYC,
                                                "lines": [{"sku": "B", "quantity": 4}]}, None)
        order_id, fulfilment_id = placed["id"], placed["fulfilments"][0]["id"]
        fulfilment.report(stocked, DC1, fulfilment_id, {"type": "accepted"})
        wanted = 2 if round_ % 2 else 6  # down (frees units) or up (plans more)

        raised = run_together(
            lambda o=order_id, q=wanted: editing.edit(
                stocked, ADMIN, o, {"lines": [{"sku": "B", "quantity": q}]}, None),
            lambda f=fulfilment_id: fulfilment.report(stocked, DC1, f, {"type": "picked"}))

        assert all(isinstance(exc, Conflict) for exc in raised), raised
        for step in ("packed", "shipped"):
            fulfilment.report(stocked, DC1, fulfilment_id, {"type": step})
        order = reading.read(stocked, ADMIN, order_id)
        line = order["lines"][0]
        # refused: the four picked ship; applied: the line is what the edit asked
        expected = 4 if raised else wanted
        assert line["quantity"] - line["cancelled"] == expected
        units_accounted_for(stocked, order_id)
        nothing_oversold(stocked)
        assert_ledger_consistent(stocked)
