"""Reading locations in rings of rising cost floor finds the plan a full read finds."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.domain.sourcing import (
    Candidate,
    ShippingModel,
    SourcingLine,
    SplitPolicy,
    Weights,
    location_cost,
    plan_sourcing,
)
from service.domain.sourcing.rings import Site, SiteTable, plan_in_rings, rule_cost_floor
from tests.unit.sourcing.conftest import NYC, split

SKUS = ("A", "B", "C")
SHIPPING = (ShippingModel(5.0, 0.01), ShippingModel(zones=((500, 8.0), (1500, 12.0)), beyond=20))


def site_of(candidate: Candidate) -> Site:
    return Site(candidate.location_id, candidate.lat, candidate.lon, candidate.backlog_ratio,
                candidate.processing_hours, candidate.priority)


class Reader:
    """fetch() over a fixed set of candidates, remembering what was asked for."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self.by_id = {c.location_id: c for c in candidates}
        self.asked: list[str] = []

    def __call__(self, location_ids):
        self.asked.extend(location_ids)
        return [self.by_id[i] for i in location_ids if i in self.by_id]


@st.composite
def instances(draw):
    lines = [SourcingLine(sku, draw(st.integers(1, 3))) for sku in SKUS[:draw(st.integers(1, 3))]]
    rule_costs = draw(st.sampled_from(((0.0,), (0.0, 40.0), (0.0, -50.0, 40.0), (-900.0, 0.0))))
    candidates = [
        Candidate(
            location_id=f"L{n}",
            lat=draw(st.floats(25, 49)),
            lon=draw(st.floats(-124, -67)),
            available={line.sku: draw(st.sampled_from((0, 0, 1, 2, 5))) for line in lines},
            backlog_ratio=draw(st.floats(0, 2)),
            processing_hours=draw(st.sampled_from((4.0, 12.0, 48.0))),
            priority=draw(st.integers(0, 4)),
            rule_cost=draw(st.sampled_from(rule_costs)),
        )
        for n in range(draw(st.integers(0, 40)))
    ]
    # sites the reader finds nothing at: excluded by a rule, or holding none of the SKUs
    empty = [Site(f"E{n}", draw(st.floats(25, 49)), draw(st.floats(-124, -67)))
             for n in range(draw(st.integers(0, 5)))]
    weights = Weights(1.0, draw(st.sampled_from((0.0, 200.0))), 5.0, 2.0,
                      draw(st.sampled_from((10.0, -10.0))))
    policy = SplitPolicy(
        draw(st.sampled_from(("ship_complete", "allow_split"))),
        draw(st.integers(1, 3)),
        draw(st.sampled_from((0.0, 10.0, 150.0))),
        draw(st.sampled_from(("allow_split", "backorder", "reject"))),
    )
    ship_to = (draw(st.floats(25, 49)), draw(st.floats(-124, -67)))
    floor = rule_cost_floor([[cost] for cost in rule_costs])
    shipping = draw(st.sampled_from(SHIPPING))
    return lines, ship_to, candidates, empty, weights, policy, shipping, floor


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from((1, 2, 5, 32)))
def test_a_plan_read_in_rings_costs_what_the_plan_over_every_location_costs(instance, first):
    _assert_rings_plan_as_a_full_read(instance, first, instance[-1])


def _assert_rings_plan_as_a_full_read(instance, first, rule_cost_floor):
    """The plan read in rings (first ring `first`) equals the plan over every location."""
    lines, ship_to, candidates, empty, weights, policy, shipping, _floor = instance
    table = SiteTable([site_of(c) for c in candidates] + empty, weights, rule_cost_floor)
    floors = table.floors(ship_to, shipping, policy.shipment_penalty)
    full = plan_sourcing(lines, ship_to, candidates, weights, policy, shipping)
    ringed = plan_in_rings(lines, ship_to, floors, Reader(candidates), weights, policy, shipping,
                           first_ring=first)
    assert ringed.policy_applied == full.policy_applied
    assert abs(ringed.total_cost - full.total_cost) <= 1e-6 * (1 + abs(full.total_cost))
    assert ringed.fulfilled_units == full.fulfilled_units


@settings(max_examples=200, deadline=None)
@given(instances())
def test_no_location_costs_less_than_its_floor(instance):
    _lines, ship_to, candidates, _empty, weights, policy, shipping, floor = instance
    table = SiteTable([site_of(c) for c in candidates], weights, floor)
    floors = table.floors(ship_to, shipping, policy.shipment_penalty)
    floor_of = dict(zip(floors.location_ids, floors.floors, strict=True))
    for c in candidates:
        real = location_cost(c, ship_to, weights, shipping) + policy.shipment_penalty
        assert floor_of[c.location_id] <= real
    assert floors.floors == sorted(floors.floors)


def grid(count: int, stock: dict[str, int]) -> list[Candidate]:
    """Locations spreading west from New York, one every ~9 km, all holding `stock`."""
    return [Candidate(f"L{n:03d}", NYC[0], NYC[1] - 0.1 * n, stock) for n in range(count)]


def test_an_order_the_nearest_ring_can_fill_reads_only_that_ring():
    candidates = grid(200, {"A": 5, "B": 5})
    weights, shipping = Weights(distance_km=1.0), ShippingModel(5.0, 0.01)
    table = SiteTable([site_of(c) for c in candidates], weights, 0.0)
    reader = Reader(candidates)
    plan = plan_in_rings([SourcingLine("A", 1), SourcingLine("B", 1)], NYC,
                         table.floors(NYC, shipping, 0.0), reader, weights, split(), shipping,
                         first_ring=8)
    assert [s.location_id for s in plan.shipments] == ["L000"]
    assert len(reader.asked) == 8
    assert plan.explanation["candidates"]["locations_read"] == 8
    assert plan.explanation["candidates"]["locations_not_read"] == 192
    assert plan.explanation["candidates"]["unread_cost_floor"] > plan.total_cost


def test_a_line_no_near_location_holds_makes_the_rings_grow_until_one_does():
    candidates = grid(200, {"A": 5})
    far = Candidate("FAR", NYC[0], NYC[1] - 25.0, {"B": 1})
    weights, shipping = Weights(distance_km=1.0), ShippingModel(5.0, 0.01)
    table = SiteTable([site_of(c) for c in [*candidates, far]], weights, 0.0)
    reader = Reader([*candidates, far])
    plan = plan_in_rings([SourcingLine("A", 1), SourcingLine("B", 1)], NYC,
                         table.floors(NYC, shipping, 0.0), reader, weights, split(), shipping,
                         first_ring=8)
    assert {s.location_id for s in plan.shipments} == {"L000", "FAR"}
    assert plan.unfulfilled == ()


def test_a_short_order_reads_every_location_before_backordering():
    candidates = grid(50, {"A": 1})
    weights, shipping = Weights(distance_km=1.0), ShippingModel(5.0, 0.01)
    table = SiteTable([site_of(c) for c in candidates], weights, 0.0)
    reader = Reader(candidates)
    plan = plan_in_rings([SourcingLine("A", 9)], NYC, table.floors(NYC, shipping, 0.0), reader,
                         weights, split(max_shipments=3), shipping, first_ring=4)
    assert len(reader.asked) == 50
    assert plan.policy_applied == "fallback:backorder"
    assert plan.explanation["candidates"]["locations_not_read"] == 0


def test_the_rule_floor_counts_every_discounting_rule_and_no_surcharge():
    assert rule_cost_floor([[10.0], [-5.0], [-2.0, -1.0], [4.0, -6.0]]) == -10.0
    assert rule_cost_floor([]) == 0.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from((1, 2, 5, 32)))
def test_a_plan_read_in_rings_with_per_location_rule_floors_costs_what_a_full_read_costs(
        instance, first):
    candidates, empty = instance[2], instance[3]
    exact = [c.rule_cost for c in candidates] + [0.0] * len(empty)  # rules decided per site
    _assert_rings_plan_as_a_full_read(instance, first, exact)


def test_after_a_plan_the_next_rings_read_only_locations_whose_floor_is_below_its_cost():
    # every location pays a surcharge its floor does not know: the first ring's plan costs
    # ~300 more than its floor, and only the locations whose floor is below that are read
    candidates = [replace(c, rule_cost=300.0) for c in grid(200, {"A": 5, "B": 5})]
    weights, shipping = Weights(distance_km=1.0), ShippingModel(5.0, 0.01)
    floors = SiteTable([site_of(c) for c in candidates], weights, 0.0).floors(NYC, shipping, 0.0)
    reader = Reader(candidates)
    plan = plan_in_rings([SourcingLine("A", 1), SourcingLine("B", 1)], NYC, floors, reader,
                         weights, split(max_shipments=2), shipping, first_ring=4)
    assert [s.location_id for s in plan.shipments] == ["L000"]
    below = [i for i, f in zip(floors.location_ids, floors.floors, strict=True)
             if f < plan.total_cost]
    assert sorted(reader.asked) == sorted(below)  # 4 + 16 by count, then only those below
    assert 20 < len(below) < 84  # the rings grown by count alone read 4 + 16 + 64
