"""What an order's save sends: on PostgreSQL the changed rows of the order, its lines,
fulfilments and fulfilment lines in one statement (not an UPDATE per table); an unchanged
order nothing; on both databases the rows as changed (SQLite and PostgreSQL)."""

import pytest

from service.domain.roles import Role
from service.services.inventory import pushes
from service.services.orders import placing
from tests.support import T1, snapshot, writes_sent_by_sqlalchemy

ADMIN = Role.parse("admin")


@pytest.fixture
def policy():
    return "ledger@1"


def _placed(ctx):
    body = snapshot("DC-1", T1, {"A": 10, "B": 10})
    pushes.push_snapshot(ctx, ADMIN, body, body["items"])
    return placing.place(ctx, ADMIN, {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74},
                                      "lines": [{"sku": "A", "quantity": 3},
                                                {"sku": "B", "quantity": 2}]}, None)


def test_a_save_writes_the_changed_rows_of_an_order_and_each_is_stored(small_network):
    ctx = small_network
    placed = _placed(ctx)
    first = placed["fulfilments"][0]["id"]
    with ctx.transaction() as uow:
        order = uow.orders.get(placed["id"], lock=True)
        order.reject(first, [{"sku": "A", "quantity": 1}], "damaged", ctx.clock.now())
        order.explanation = {**order.explanation, "note": "changed"}
        sent = writes_sent_by_sqlalchemy(ctx, lambda: uow.orders.save(order))

    updates = [s for s in sent if "UPDATE" in s.upper()]
    if ctx.engine.dialect.name == "postgresql":
        assert len(updates) == 1 and "UPDATE orders" in updates[0]
        assert "UPDATE fulfilments" in updates[0] and "UPDATE fulfilment_lines" in updates[0]
    with ctx.reading() as uow:
        stored = uow.orders.get(placed["id"])
    rejected = stored.fulfilment(first)
    assert rejected.reason == "damaged"
    assert {r.sku: r.rejected for r in rejected.lines} == {"A": 1, "B": 0}
    assert stored.explanation["note"] == "changed"


def test_a_save_of_an_order_nothing_changed_writes_no_row(small_network):
    ctx = small_network
    placed = _placed(ctx)
    with ctx.transaction() as uow:
        order = uow.orders.get(placed["id"], lock=True)
        sent = writes_sent_by_sqlalchemy(ctx, lambda: uow.orders.save(order))
    assert sent == []
