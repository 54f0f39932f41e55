"""A plan made without its explanation (as the replay makes them) ships what the explained
plan ships, also while the backlog moves under the per-process site table."""

from __future__ import annotations

from service.domain.roles import Role
from service.services.inventory import pushes
from service.services.orders import placing, requests, sourcing
from tests.support import T1, snapshot

ADMIN = Role.parse("admin")
ORDER = {"channel": "web", "ship_to": {"lat": 39.1, "lon": -84.5},
         "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]}


def _both_plans(ctx):
    with ctx.reading() as uow:
        ruleset, catalog = ctx.rules.active(uow), uow.catalog()
        req = requests.parse(ORDER, catalog, 100)
        explained = sourcing.source(ctx, uow, ruleset, catalog, req).plan
        bare = sourcing.source(ctx, uow, ruleset, catalog, req, explain=False)
    return explained, bare


def test_a_plan_without_its_explanation_ships_the_same_as_with_it_as_the_backlog_moves(
        small_network):
    for location in ("DC-1", "ST-1", "ST-2"):
        counts = {"A": 6, "B": 3}
        pushes.push_snapshot(small_network, ADMIN, snapshot(location, T1, counts),
                             snapshot(location, T1, counts)["items"])
    for _ in range(4):  # each order opens lines somewhere: the next plan's backlog moved
        explained, bare = _both_plans(small_network)
        assert bare.plan.explanation == {} and bare.rules_by_location == {}
        assert explained.explanation
        assert (bare.plan.shipments, bare.plan.unfulfilled, bare.plan.total_cost,
                bare.plan.policy_applied) == (explained.shipments, explained.unfulfilled,
                                              explained.total_cost, explained.policy_applied)
        assert explained.shipments
        placing.place(small_network, ADMIN, ORDER, None)
