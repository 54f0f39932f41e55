"""An order read for a change: on PostgreSQL its row, lines and fulfilments in one round trip
(a pipeline), equal to the rows read statement by statement, types included, and its row
locked when asked (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.domain.roles import Role
from service.services.inventory import pushes
from service.services.orders import fulfilment, placing, rejecting
from service.services.returns import opening, receiving
from service.store import order_reads
from tests.support import T1, snapshot

ADMIN = Role.parse("admin")
NYC = {"lat": 40.71, "lon": -74.0}


@pytest.fixture
def policy():
    return "returns@1"


@pytest.fixture
def busy_order(small_network):
    """An order of two lines: one fulfilment shipped with a unit received back, one
    rejected and re-routed; (order id, the re-routed fulfilment's id)."""
    ctx = small_network
    for location in ("DC-1", "ST-2"):
        body = snapshot(location, T1, {"A": 20, "B": 20})
        pushes.push_snapshot(ctx, ADMIN, body, body["items"])
    placed = placing.place(ctx, ADMIN, {"channel": "web", "ship_to": NYC, "lines": [
        {"sku": "A", "quantity": 2, "unit_price": 4.25},
        {"sku": "B", "quantity": 1}]}, None)
    first = placed["fulfilments"][0]["id"]
    fulfilment.report(ctx, ADMIN, first, {"type": "shipped", "tracking": "T-1"})
    opened = opening.open_for_order(ctx, ADMIN, placed["id"],
                                    {"lines": [{"sku": "A", "quantity": 1}]}, None)
    receiving.receive_return(ctx, ADMIN, opened["id"], {"location": "DC-1", "lines": [
        {"sku": "A", "quantity": 1, "condition": "new", "reason": "too big"}]})
    placed_again = placing.place(ctx, ADMIN, {"channel": "web", "ship_to": NYC, "lines": [
        {"sku": "A", "quantity": 1}]}, None)
    rerouted = placed_again["fulfilments"][0]["id"]
    rejecting.reject(ctx, ADMIN, rerouted, {"type": "rejected", "reason": "damaged"})
    return placed["id"], placed_again["id"], rerouted


def rows_of(found):
    rows, received = found
    return rows.row, rows.children.lines, rows.children.fulfilments, \
        rows.children.fulfilment_lines, received


@pytest.mark.parametrize("lock", [False, True])
def test_an_order_read_at_once_has_the_rows_and_types_read_statement_by_statement(
        small_network, busy_order, lock):
    returned_order, rerouted_order, rerouted = busy_order
    with small_network.transaction() as uow:
        session = uow.session
        for key, of_fulfilment in ((returned_order, False), (rerouted_order, False),
                                   (rerouted, True)):
            at_once = rows_of(order_reads.read_order(session, key, of_fulfilment, lock))
            apart = rows_of(order_reads.read_apart(session, key, of_fulfilment, lock))
            assert at_once == apart
            assert [[type(v) for v in row.values()] for row in at_once[1]] == \
                [[type(v) for v in row.values()] for row in apart[1]]
            assert at_once[0]["created_at"].tzinfo is not None
        received = rows_of(order_reads.read_order(session, returned_order, False, lock))[4]
    assert list(received.values()) == [1]  # the unit received back, by line id


def test_an_order_or_fulfilment_that_does_not_exist_reads_as_none(small_network):
    with small_network.transaction() as uow:
        assert order_reads.read_order(uow.session, "no-such-order", False, True) is None
        assert order_reads.read_order(uow.session, "no-such-fulfilment", True, True) is None


def test_an_order_read_for_a_change_holds_its_row_lock_until_the_transaction_ends(
        small_network, busy_order):
    if small_network.engine.dialect.name != "postgresql":
        pytest.skip("SQLite locks the whole database for a writer (BEGIN IMMEDIATE)")
    _returned, rerouted_order, rerouted = busy_order
    with small_network.transaction() as uow:
        assert order_reads.read_order(uow.session, rerouted, True, True) is not None
        with small_network.engine.connect() as other:
            with pytest.raises(OperationalError, match="could not obtain lock"):
                other.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE NOWAIT"),
                              {"id": rerouted_order})
