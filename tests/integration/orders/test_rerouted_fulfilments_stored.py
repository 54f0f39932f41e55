"""A re-route's new fulfilments are stored with their order, and stay the repository's: a
later change in the same transaction is written too (SQLite and PostgreSQL)."""

import pytest

from service.domain.orders import PlannedShipment
from service.domain.roles import Role
from service.services.inventory import pushes
from service.services.orders import placing
from tests.support import T1, snapshot

ADMIN = Role.parse("admin")


@pytest.fixture
def policy():
    return "ledger@1"


def test_a_new_fulfilment_saved_then_changed_in_the_same_transaction_is_stored_as_changed(
        small_network):
    ctx = small_network
    body = snapshot("DC-1", T1, {"A": 10})
    pushes.push_snapshot(ctx, ADMIN, body, body["items"])
    placed = placing.place(ctx, ADMIN, {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74},
                                        "lines": [{"sku": "A", "quantity": 3}]}, None)
    first = placed["fulfilments"][0]["id"]

    with ctx.transaction() as uow:
        order = uow.orders.get(placed["id"], lock=True)
        now = ctx.clock.now()
        order.reject(first, None, "damaged", now)
        order.reroute(order.fulfilment(first),
                      [PlannedShipment("f-new", "ST-1", 1.0, {}, (("A", 3),))], {}, "backorder",
                      now, {"why": "test"})
        uow.orders.save(order)
        order.reject("f-new", [{"sku": "A", "quantity": 1}], "not_found", now)
        uow.orders.save(order)

    with ctx.reading() as uow:
        stored = uow.orders.get(placed["id"])
    new = stored.fulfilment("f-new")
    assert (new.location_id, new.status, new.reason) == ("ST-1", "created", "not_found")
    assert [(r.quantity, r.rejected, r.open) for r in new.lines] == [(3, 1, 2)]
    assert stored.fulfilment(first).status == "rejected"
    assert stored.explanation["reroutes"] == [{"why": "test"}]
