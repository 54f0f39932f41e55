"""The replay engine (domain): placements allocate in the in-memory ledger so stock runs out
as it did, stock changes apply between them, and a diverged order's cancel moves the units
the replay took, wherever it took them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.domain.replay import (
    BacklogMove,
    Change,
    Engine,
    Event,
    Ledger,
    OrderChange,
    Placement,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _first_with_stock(request, ledger):
    """A planner: the first location (by name) with the units free, else short."""
    sku, quantity = request
    for row in sorted(ledger.at([sku], ["DC-1", "ST-1", "ST-2"]), key=lambda r: r.location_id):
        if row.on_hand - row.allocated - row.reserved >= quantity:
            return {"shipments": [{"location": row.location_id,
                                   "lines": [{"sku": sku, "quantity": quantity}]}],
                    "unfulfilled": [], "total_cost": 1.0}
    return {"shipments": [], "unfulfilled": [{"sku": sku, "quantity": quantity}],
            "total_cost": 0.0}


def _live(location, sku, quantity):
    return {"shipments": [{"location": location, "lines": [{"sku": sku, "quantity": quantity}]}],
            "unfulfilled": [], "total_cost": 1.0}


def _events(*whats):
    return [Event(T0 + timedelta(seconds=i), i, what) for i, what in enumerate(whats)]


def test_orders_take_stock_in_turn_so_a_later_order_finds_it_gone():
    ledger = Ledger([("DC-1", "A", 5, 0, 0), ("ST-1", "A", 5, 0, 0)], {})
    engine = Engine(ledger, _first_with_stock)
    outcomes = list(engine.run(_events(
        Placement("o1", ("A", 4), _live("DC-1", "A", 4)),
        Placement("o2", ("A", 4), _live("ST-1", "A", 4)),
        Change("ST-1", "A", on_hand=-3),
        Placement("o3", ("A", 2), _live("DC-1", "A", 2)))))
    assert [o.replayed["shipments"][0]["location"] if o.replayed["shipments"] else None
            for o in outcomes] == ["DC-1", "ST-1", None]
    assert [o.same for o in outcomes] == [True, True, False]
    assert ledger.counts[("DC-1", "A")] == [5, 4, 0]
    assert ledger.counts[("ST-1", "A")] == [2, 4, 0]
    assert ledger.open_lines() == {"DC-1": 1, "ST-1": 1}


def test_a_diverged_orders_cancel_releases_what_the_replay_took_where_it_took_it():
    ledger = Ledger([("DC-1", "A", 5, 0, 0), ("ST-1", "A", 5, 0, 0)], {})
    engine = Engine(ledger, _first_with_stock)
    list(engine.run(_events(
        Placement("o1", ("A", 3), _live("ST-1", "A", 3)),  # live took ST-1, replay DC-1
        OrderChange("o1", "cancel", Change("ST-1", "A", allocated=-3)),
        BacklogMove("ST-1", -1, "o1"))))
    assert ledger.counts[("DC-1", "A")] == [5, 0, 0]
    assert ledger.counts[("ST-1", "A")] == [5, 0, 0]
    assert ledger.open_lines() == {}


def test_an_order_whose_plan_is_live_follows_its_journaled_changes_as_they_were():
    ledger = Ledger([("DC-1", "A", 5, 0, 0)], {"ST-2": 4})
    engine = Engine(ledger, _first_with_stock)
    list(engine.run(_events(
        Placement("o1", ("A", 2), _live("DC-1", "A", 2)),
        OrderChange("o1", "rejection", Change("DC-1", "A", allocated=-1)),
        OrderChange("o1", "shipment", Change("DC-1", "A", on_hand=-1, allocated=-1)),
        BacklogMove("DC-1", -1, "o1"))))
    assert engine.diverged == 0
    assert ledger.counts[("DC-1", "A")] == [4, 0, 0]  # as journaled
    assert ledger.open_lines() == {"ST-2": 4}


def test_what_a_diverged_order_cannot_follow_is_counted_not_applied():
    ledger = Ledger([("DC-1", "A", 5, 0, 0), ("ST-1", "A", 5, 0, 0)], {})
    engine = Engine(ledger, _first_with_stock)
    list(engine.run(_events(
        Placement("o1", ("A", 3), _live("ST-1", "A", 3)),
        OrderChange("o1", "rejection", Change("ST-1", "A", allocated=-3)),
        BacklogMove("ST-2", 1, "o1"))))
    assert engine.diverged == 2
    assert ledger.counts[("DC-1", "A")] == [5, 3, 0]
    assert ledger.counts[("ST-1", "A")] == [5, 0, 0]
