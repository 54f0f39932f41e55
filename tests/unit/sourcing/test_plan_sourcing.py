import pytest

from service.domain.sourcing import (
    InvalidSourcingInput,
    ShippingModel,
    SourcingLine,
    SplitPolicy,
    Weights,
    location_cost,
    plan_sourcing,
)
from service.domain.sourcing.costing import location_costs
from tests.unit.sourcing.conftest import (
    BOSTON,
    CHICAGO,
    NEWARK,
    NYC,
    PHILADELPHIA,
    complete,
    location,
    split,
)


def shipped(plan):
    """{location: {sku: units}} of a plan."""
    return {s.location_id: {ln.sku: ln.quantity for ln in s.lines} for s in plan.shipments}


def test_ship_complete_picks_the_cheapest_single_location_that_has_every_line(
    distance_only, no_shipping
):
    lines = [SourcingLine("A", 2), SourcingLine("B", 1)]
    candidates = [
        location("newark", NEWARK, {"A": 5}),  # closest but lacks B
        location("philly", PHILADELPHIA, {"A": 2, "B": 1}),
        location("boston", BOSTON, {"A": 9, "B": 9}),
    ]
    plan = plan_sourcing(lines, NYC, candidates, distance_only, complete(), no_shipping)
    assert shipped(plan) == {"philly": {"A": 2, "B": 1}}
    assert plan.policy_applied == "ship_complete"
    assert plan.unfulfilled == ()


def test_a_closer_location_loses_to_a_cheaper_one_when_backlog_weighs_heavily(no_shipping):
    weights = Weights(distance_km=1.0, backlog_ratio=500)
    candidates = [
        location("newark", NEWARK, {"A": 1}, backlog_ratio=1.0),
        location("philly", PHILADELPHIA, {"A": 1}, backlog_ratio=0.1),
    ]
    plan = plan_sourcing([SourcingLine("A", 1)], NYC, candidates, weights, split(), no_shipping)
    assert shipped(plan) == {"philly": {"A": 1}}
    light = plan_sourcing(
        [SourcingLine("A", 1)], NYC, candidates, Weights(distance_km=1.0), split(), no_shipping
    )
    assert shipped(light) == {"newark": {"A": 1}}


def test_a_negative_rule_cost_steers_the_order_to_the_preferred_location(
    distance_only, no_shipping
):
    candidates = [
        location("store", NEWARK, {"A": 1}),
        location("dc", PHILADELPHIA, {"A": 1}, rule_cost=-200.0, matched_rules=("prefer-dcs",)),
    ]
    plan = plan_sourcing([SourcingLine("A", 1)], NYC, candidates, distance_only, split(),
                         no_shipping)
    assert shipped(plan) == {"dc": {"A": 1}}
    assert plan.shipments[0].factors["rules"] == -200.0
    assert plan.shipments[0].factors["matched_rules"] == ["prefer-dcs"]


def test_allow_split_never_uses_more_than_max_shipments(distance_only, no_shipping):
    lines = [SourcingLine("A", 1), SourcingLine("B", 1), SourcingLine("C", 1)]
    candidates = [
        location("a", NEWARK, {"A": 1}),
        location("b", PHILADELPHIA, {"B": 1}),
        location("c", BOSTON, {"C": 1}),
        location("abc", CHICAGO, {"A": 1, "B": 1, "C": 1}),
    ]
    three = plan_sourcing(lines, NYC, candidates, distance_only, split(3), no_shipping)
    assert set(shipped(three)) == {"a", "b", "c"}
    two = plan_sourcing(lines, NYC, candidates, distance_only, split(2), no_shipping)
    assert len(two.shipments) <= 2
    assert shipped(two) == {"abc": {"A": 1, "B": 1, "C": 1}}


def test_the_shipment_penalty_makes_one_shipment_beat_two_cheaper_ones(
    distance_only, no_shipping
):
    lines = [SourcingLine("A", 1), SourcingLine("B", 1)]
    candidates = [
        location("a", NEWARK, {"A": 1}),
        location("b", NEWARK, {"B": 1}),
        location("ab", PHILADELPHIA, {"A": 1, "B": 1}),
    ]
    free = plan_sourcing(lines, NYC, candidates, distance_only, split(3, 0.0), no_shipping)
    assert len(free.shipments) == 2
    costly = plan_sourcing(lines, NYC, candidates, distance_only, split(3, 500.0), no_shipping)
    assert shipped(costly) == {"ab": {"A": 1, "B": 1}}
    assert costly.total_cost == pytest.approx(costly.shipments[0].cost)
    assert costly.shipments[0].factors["shipment_penalty"] == 500.0


def test_a_line_is_split_across_locations_when_no_one_has_enough(distance_only, no_shipping):
    candidates = [location("newark", NEWARK, {"A": 2}), location("philly", PHILADELPHIA, {"A": 3})]
    plan = plan_sourcing([SourcingLine("A", 4)], NYC, candidates, distance_only, split(),
                         no_shipping)
    assert shipped(plan) == {"newark": {"A": 2}, "philly": {"A": 2}}
    assert plan.unfulfilled == ()


def test_ship_complete_falls_back_to_a_split_when_the_fallback_allows_it(
    distance_only, no_shipping
):
    lines = [SourcingLine("A", 1), SourcingLine("B", 1)]
    candidates = [location("a", NEWARK, {"A": 1}), location("b", BOSTON, {"B": 1})]
    plan = plan_sourcing(
        lines, NYC, candidates, distance_only, complete("allow_split"), no_shipping
    )
    assert plan.policy_applied == "fallback:allow_split"
    assert shipped(plan) == {"a": {"A": 1}, "b": {"B": 1}}


def test_ship_complete_with_reject_ships_nothing_when_no_location_has_everything(
    distance_only, no_shipping
):
    lines = [SourcingLine("A", 1), SourcingLine("B", 1)]
    candidates = [location("a", NEWARK, {"A": 1}), location("b", BOSTON, {"B": 1})]
    plan = plan_sourcing(lines, NYC, candidates, distance_only, complete("reject"), no_shipping)
    assert plan.policy_applied == "fallback:reject"
    assert plan.shipments == ()
    assert plan.unfulfilled == tuple(lines)
    assert plan.total_cost == 0.0
    reasons = [line["reason"] for line in plan.explanation["lines"]]
    assert all("reject" in reason for reason in reasons)


def test_ship_complete_with_backorder_ships_the_most_complete_single_location(
    distance_only, no_shipping
):
    lines = [SourcingLine("A", 2), SourcingLine("B", 1), SourcingLine("C", 1)]
    candidates = [
        location("ab", BOSTON, {"A": 2, "B": 1}),
        location("c", NEWARK, {"C": 1}),
        location("ac", PHILADELPHIA, {"A": 1, "C": 1}),
    ]
    plan = plan_sourcing(lines, NYC, candidates, distance_only, complete("backorder"), no_shipping)
    assert plan.policy_applied == "fallback:backorder"
    assert shipped(plan) == {"ab": {"A": 2, "B": 1}}
    assert plan.unfulfilled == (SourcingLine("C", 1),)


def test_backorder_ships_what_exists_and_lists_the_rest_as_unfulfilled(
    distance_only, no_shipping
):
    lines = [SourcingLine("A", 3), SourcingLine("Z", 1)]
    candidates = [location("a", NEWARK, {"A": 1}), location("b", BOSTON, {"A": 1})]
    plan = plan_sourcing(lines, NYC, candidates, distance_only, split(3), no_shipping)
    assert plan.policy_applied == "fallback:backorder"
    assert shipped(plan) == {"a": {"A": 1}, "b": {"A": 1}}
    assert plan.unfulfilled == (SourcingLine("A", 1), SourcingLine("Z", 1))
    by_sku = {line["sku"]: line for line in plan.explanation["lines"]}
    assert "no candidate" in by_sku["Z"]["reason"]
    assert "only 2 of 3" in by_sku["A"]["reason"]


def test_backorder_within_max_shipments_prefers_more_units_over_lower_cost(
    distance_only, no_shipping
):
    lines = [SourcingLine("A", 1), SourcingLine("B", 1), SourcingLine("C", 2)]
    candidates = [
        location("a", NEWARK, {"A": 1}),
        location("b", NEWARK, {"B": 1}),
        location("cc", CHICAGO, {"C": 2}),
    ]
    plan = plan_sourcing(lines, NYC, candidates, distance_only, split(1), no_shipping)
    assert shipped(plan) == {"cc": {"C": 2}}


def test_allow_split_with_reject_fallback_ships_nothing_when_lines_cannot_be_covered(
    distance_only, no_shipping
):
    candidates = [location("a", NEWARK, {"A": 1})]
    plan = plan_sourcing(
        [SourcingLine("A", 2)], NYC, candidates, distance_only, split(3, fallback="reject"),
        no_shipping,
    )
    assert plan.policy_applied == "fallback:reject"
    assert plan.shipments == ()


def test_allow_split_with_allow_split_fallback_behaves_as_backorder(distance_only, no_shipping):
    candidates = [location("a", NEWARK, {"A": 1})]
    plan = plan_sourcing(
        [SourcingLine("A", 2)], NYC, candidates, distance_only, split(3, fallback="allow_split"),
        no_shipping,
    )
    assert plan.policy_applied == "fallback:backorder"
    assert shipped(plan) == {"a": {"A": 1}}


def test_the_explanation_ranks_candidates_per_line_by_cost_with_factors(
    distance_only, no_shipping
):
    candidates = [
        location("boston", BOSTON, {"A": 1}),
        location("newark", NEWARK, {"A": 1}),
        location("chicago", CHICAGO, {"A": 1}),
        location("philly", PHILADELPHIA, {"A": 1}),
        location("other", NEWARK, {"B": 1}),
    ]
    plan = plan_sourcing([SourcingLine("A", 1)], NYC, candidates, distance_only, split(),
                         no_shipping)
    line = plan.explanation["lines"][0]
    assert [c["location"] for c in line["ranked"]] == ["newark", "philly", "boston", "chicago"]
    assert [c["rank"] for c in line["ranked"]] == [1, 2, 3, 4]
    assert line["candidates_considered"] == 4
    assert line["ranked"][0]["chosen"] is True
    assert line["ranked"][0]["factors"]["raw"]["distance_km"] == pytest.approx(15, abs=2)
    assert plan.explanation["candidates"] == {"total": 5, "holding_any_line": 4}
    assert plan.explanation["search"]["proven_optimal"] is True


def test_the_explanation_shows_at_most_five_candidates_per_line(distance_only, no_shipping):
    candidates = [location(f"l{n}", (40 + n / 10, -74.0), {"A": 1}) for n in range(9)]
    plan = plan_sourcing([SourcingLine("A", 1)], NYC, candidates, distance_only, split(),
                         no_shipping)
    assert len(plan.explanation["lines"][0]["ranked"]) == 5
    assert plan.explanation["lines"][0]["candidates_considered"] == 9


def test_explain_false_returns_an_empty_explanation(distance_only, no_shipping):
    candidates = [location("a", NEWARK, {"A": 1})]
    plan = plan_sourcing(
        [SourcingLine("A", 1)], NYC, candidates, distance_only, split(), no_shipping, explain=False
    )
    assert plan.explanation == {}
    assert len(plan.shipments) == 1


def test_duplicate_skus_are_merged_into_one_line(distance_only, no_shipping):
    candidates = [location("a", NEWARK, {"A": 3})]
    lines = [SourcingLine("A", 1), SourcingLine("A", 2)]
    plan = plan_sourcing(lines, NYC, candidates, distance_only, split(), no_shipping)
    assert shipped(plan) == {"a": {"A": 3}}


@pytest.mark.parametrize("lines", [[], [SourcingLine("A", 0)], [SourcingLine("A", -1)]])
def test_empty_orders_and_non_positive_quantities_are_refused(lines, distance_only, no_shipping):
    with pytest.raises(InvalidSourcingInput):
        plan_sourcing(lines, NYC, [], distance_only, split(), no_shipping)


def test_an_invalid_split_policy_is_refused():
    with pytest.raises(InvalidSourcingInput):
        SplitPolicy("allow_split", 0, 0.0, "backorder")
    with pytest.raises(InvalidSourcingInput):
        SplitPolicy("sometimes", 1, 0.0, "backorder")  # type: ignore[arg-type]


def test_negative_availability_counts_as_none(distance_only, no_shipping):
    candidates = [location("a", NEWARK, {"A": -3}), location("b", BOSTON, {"A": 1})]
    plan = plan_sourcing([SourcingLine("A", 1)], NYC, candidates, distance_only, split(),
                         no_shipping)
    assert shipped(plan) == {"b": {"A": 1}}


def test_shipping_zones_charge_by_distance_band_and_beyond():
    zones = ShippingModel(base_per_shipment=1.0, zones=((100, 5.0), (500, 9.0)), beyond=20.0)
    assert zones.shipping_cost(50) == 6.0
    assert zones.shipping_cost(100) == 6.0
    assert zones.shipping_cost(300) == 10.0
    assert zones.shipping_cost(900) == 21.0
    assert ShippingModel(zones=((100, 5.0),)).shipping_cost(900) == 5.0
    assert ShippingModel(base_per_shipment=4.0, per_km=0.5).shipping_cost(10) == 9.0


@pytest.mark.parametrize(
    "shipping", [ShippingModel(2.0, 0.01), ShippingModel(zones=((200, 4.0),), beyond=9.0)]
)
def test_the_fast_cost_path_equals_location_cost(shipping):
    weights = Weights(1.0, 200.0, 5.0, 2.0, 10.0)
    candidates = [
        location("a", NEWARK, {}, backlog_ratio=0.5, processing_hours=4.0, priority=3),
        location("b", CHICAGO, {}, rule_cost=-50.0, priority=1),
    ]
    fast = location_costs(candidates, NYC, weights, shipping)
    slow = [location_cost(c, NYC, weights, shipping) for c in candidates]
    assert fast == pytest.approx(slow, abs=1e-9)


def test_the_factor_breakdown_adds_up_to_the_shipment_cost(no_shipping):
    weights = Weights(1.0, 200.0, 5.0, 2.0, 10.0)
    shipping = ShippingModel(3.0, 0.02)
    candidates = [
        location("a", PHILADELPHIA, {"A": 1}, backlog_ratio=0.5, processing_hours=4.0, priority=2,
                 rule_cost=-25.0)
    ]
    plan = plan_sourcing([SourcingLine("A", 1)], NYC, candidates, weights, split(3, 40.0), shipping)
    f = plan.shipments[0].factors
    parts = ("distance_km", "backlog_ratio", "processing_hours", "shipping_cost", "priority",
             "rules", "shipment_penalty")
    assert sum(f[p] for p in parts) == pytest.approx(plan.shipments[0].cost)
    assert plan.total_cost == pytest.approx(plan.shipments[0].cost)
