"""The transfer aggregate's rules, without a database."""

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.transfers import Transfer
from service.errors import Conflict, ValidationFailed

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)


def new(**lines: int) -> Transfer:
    return Transfer.create(id="t1", source="DC-1", destination="ST-2",
                           lines=list(lines.items()), at=T0)


def received(transfer: Transfer, **units: int) -> dict:
    return transfer.receive([{"sku": s, "quantity": q} for s, q in units.items()],
                            T0 + timedelta(hours=2))


def test_a_new_transfer_holds_its_units_allocated_and_says_so():
    transfer = new(A=3, B=2)
    assert [(ln.sku, ln.allocated, ln.in_transit) for ln in transfer.lines] == [
        ("A", 3, 0), ("B", 2, 0)]
    [event] = transfer.events
    assert (event.type, event.payload["from"], event.payload["to"]) == (
        "transfer.created", "DC-1", "ST-2")


def test_a_transfer_to_its_own_source_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        Transfer.create(id="t1", source="DC-1", destination="DC-1", lines=[("A", 1)], at=T0)
    assert refused.value.problems[0]["pointer"] == "/to"


def test_shipping_puts_every_allocated_unit_in_transit():
    transfer = new(A=3, B=2)
    units = transfer.ship(T0 + timedelta(hours=1), tracking="TRK")
    assert units == {("DC-1", "A"): 3, ("DC-1", "B"): 2}
    assert transfer.status == "shipped" and transfer.tracking == "TRK"
    assert [(ln.allocated, ln.in_transit) for ln in transfer.lines] == [(0, 3), (0, 2)]


def test_shipping_twice_is_refused_naming_the_type():
    transfer = new(A=3)
    transfer.ship(T0)
    with pytest.raises(Conflict) as refused:
        transfer.ship(T0)
    assert refused.value.problems[0]["pointer"] == "/type"


def test_receipts_add_up_until_everything_shipped_arrived():
    transfer = new(A=5, B=1)
    transfer.ship(T0)
    assert received(transfer, A=2) == {("ST-2", "A"): 2}
    assert transfer.status == "partially_received"
    assert received(transfer, A=3, B=1) == {("ST-2", "A"): 3, ("ST-2", "B"): 1}
    assert transfer.status == "received"
    assert [ln.received for ln in transfer.lines] == [5, 1]


def test_a_receipt_cannot_pass_what_is_in_transit_and_changes_nothing_when_refused():
    transfer = new(A=5)
    transfer.ship(T0)
    received(transfer, A=4)
    with pytest.raises(Conflict) as refused:
        transfer.receive([{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}], T0)
    assert refused.value.problems[0]["pointer"] == "/lines/1/quantity"
    assert transfer.lines[0].received == 4


def test_nothing_can_be_received_before_it_ships():
    with pytest.raises(Conflict):
        received(new(A=1), A=1)


def test_closing_records_what_is_still_in_transit_as_missing():
    transfer = new(A=5, B=2)
    transfer.ship(T0)
    received(transfer, A=4)
    transfer.close(T0, reason="count done")
    assert transfer.status == "closed"
    assert [(ln.received, ln.missing, ln.in_transit) for ln in transfer.lines] == [
        (4, 1, 0), (0, 2, 0)]
    assert transfer.events[-1].type == "transfer.closed"
    assert transfer.events[-1].payload["missing"] == [{"sku": "A", "quantity": 1},
                                                      {"sku": "B", "quantity": 2}]


def test_a_complete_receipt_with_a_discrepancy_flag_has_nothing_missing():
    transfer = new(A=2)
    transfer.ship(T0)
    transfer.receive([{"sku": "A", "quantity": 2}], T0, discrepancy=True)
    assert transfer.status == "received" and transfer.lines[0].missing == 0


def test_cancelling_releases_the_allocation_only_before_shipping():
    transfer = new(A=3)
    assert transfer.cancel(T0, "not needed") == {("DC-1", "A"): 3}
    assert transfer.status == "cancelled" and transfer.lines[0].allocated == 0
    shipped = new(A=3)
    shipped.ship(T0)
    with pytest.raises(Conflict):
        shipped.cancel(T0)


def test_each_transfer_event_names_the_transfer_and_the_location_where_it_happens():
    transfer = new(A=3)
    transfer.ship(T0 + timedelta(hours=1), tracking="TRK")
    received(transfer, A=2)
    transfer.close(T0 + timedelta(hours=3), "lost")
    assert [(e.type, e.payload["transfer_id"], e.payload["location"])
            for e in transfer.events] == [
        ("transfer.created", "t1", "DC-1"), ("transfer.shipped", "t1", "DC-1"),
        ("transfer.received", "t1", "ST-2"), ("transfer.closed", "t1", "ST-2")]
    other = new(B=1)
    other.cancel(T0, "not needed")
    assert other.events[-1].payload["location"] == "DC-1"
