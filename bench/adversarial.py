"""Adversarial sourcing networks (issue 13): hard for a branch-and-bound. bench_sourcing.py
times them; tests/unit/sourcing/test_bounded_plans.py checks them against the HiGHS oracle."""

from __future__ import annotations

import random

from service.domain.sourcing import Candidate, ShippingModel, SourcingLine, SplitPolicy, Weights

SKUS = "ABCDE"
WEIGHTS = Weights(distance_km=1.0, backlog_ratio=200, processing_hours=5, shipping_cost=2)
POLICY = SplitPolicy("allow_split", max_shipments=3, shipment_penalty=150, fallback="backorder")
SHIPPING = ShippingModel(zones=((300, 6.0), (1000, 9.0), (2500, 13.0)), beyond=18.0)
SHIP_TO = (40.7484, -73.9967)


def pairs(count: int, seed: int, low: int = 6, high: int = 9) -> list[Candidate]:
    """Each location holds two of five SKUs, `low`-`high` units each: with an order of 10 of
    each SKU no three locations ship all 50 units, so the backorder search decides."""
    rng = random.Random(seed)
    return [Candidate(f"L{n}", rng.uniform(25, 49), rng.uniform(-124, -67),
                      {sku: rng.randint(low, high) for sku in rng.sample(SKUS, 2)},
                      backlog_ratio=rng.uniform(0, 1.5),
                      processing_hours=rng.choice((4.0, 12.0, 48.0)))
            for n in range(count)]


def ties(count: int, seed: int) -> list[Candidate]:
    """Every location at one place with one cost: only their units tell them apart."""
    rng = random.Random(seed)
    return [Candidate(f"T{n}", 41.0, -74.5,
                      {sku: rng.randint(1, 6) for sku in rng.sample(SKUS, rng.randint(1, 3))},
                      processing_hours=12.0)
            for n in range(count)]


def scarce(count: int, seed: int) -> list[Candidate]:
    """Capacity-bound: a unit or two here and there, far less in all than the order asks."""
    rng = random.Random(seed)
    return [Candidate(f"S{n}", rng.uniform(25, 49), rng.uniform(-124, -67),
                      {sku: rng.randint(1, 2) for sku in rng.sample(SKUS, rng.randint(1, 2))},
                      backlog_ratio=rng.uniform(0, 1.5), rule_cost=rng.choice((0.0, -40.0)))
            for n in range(count)]


def order(quantity: int = 10) -> list[SourcingLine]:
    return [SourcingLine(sku, quantity) for sku in SKUS]
