"""A re-route's plan, read with its wider first ring and without the locations barred from
every line, is the plan over every location read at once (the same shipments, cost and
policy), whatever locations are barred from which lines."""

from __future__ import annotations

import random

from service.services.demo import seed as demo_seed
from service.services.demo.network import generate_network
from service.services.orders import requests, rerouting, sourcing

EVERY_LOCATION = 10_000  # one ring: every location read


def _request(rng: random.Random, skus: list[str], cities: list[tuple[float, float]]):
    lat, lon = rng.choice(cities)
    lines = [{"sku": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(skus, 3)]
    return {"channel": "web", "ship_to": {"lat": lat, "lon": lon}, "lines": lines}


def _barred(rng: random.Random, body: dict, locations: list[str]) -> dict[str, list[str]]:
    """Some locations barred from every line (a whole rejection), some from a few."""
    everywhere = rng.sample(locations, rng.randint(0, 3))
    return {line["sku"]: everywhere + rng.sample(locations, rng.randint(0, 4))
            for line in body["lines"]}


def _shape(sourced: sourcing.Sourced) -> tuple:
    plan = sourced.plan
    return plan.shipments, plan.unfulfilled, plan.total_cost, plan.policy_applied


def test_a_reroutes_plan_with_its_first_ring_is_the_plan_over_every_location(ctx):
    network = generate_network(60, 12, seed=5, store_coverage=0.5)
    demo_seed.seed(ctx, network)
    rng = random.Random(11)
    locations = [loc["id"] for loc in network.locations]
    skus = [product["sku"] for product in network.products]
    cities = [(loc["lat"], loc["lon"]) for loc in network.locations]
    with ctx.reading() as uow:
        ruleset, catalog = ctx.rules.active(uow), uow.catalog()
        for _ in range(40):
            body = _request(rng, skus, cities)
            req = requests.parse(body, catalog, 100)
            barred = _barred(rng, body, locations)
            whole = sourcing.plan(ctx, uow, ruleset, catalog, req, barred=barred,
                                  first_ring=EVERY_LOCATION)
            for first_ring in (2, None, rerouting.FIRST_RING):  # small rings: several read
                ringed = sourcing.plan(ctx, uow, ruleset, catalog, req, barred=barred,
                                       first_ring=first_ring)
                assert _shape(ringed) == _shape(whole)
            for location in set.intersection(*(set(v) for v in barred.values())):
                assert all(s.location_id != location for s in ringed.plan.shipments)
                assert location in ringed.excluded["rejected_before"]
            for shipment in ringed.plan.shipments:
                assert all(shipment.location_id not in barred[line.sku]
                           for line in shipment.lines)
