"""The cost of using one location for one shipment, and its per-factor breakdown."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from math import asin, cos, radians, sin, sqrt
from typing import Any

import numpy as np

from service.domain.geo import EARTH_RADIUS_KM, haversine_km
from service.domain.sourcing.model import Candidate, ShippingModel, Weights

LatLon = tuple[float, float]


def location_cost(
    candidate: Candidate, ship_to: LatLon, weights: Weights, shipping: ShippingModel
) -> float:
    """Weighted cost of one shipment from `candidate` to `ship_to` (penalty excluded)."""
    km = haversine_km(candidate.lat, candidate.lon, ship_to[0], ship_to[1])
    return (
        weights.distance_km * km
        + weights.backlog_ratio * candidate.backlog_ratio
        + weights.processing_hours * candidate.processing_hours
        + weights.shipping_cost * shipping.shipping_cost(km)
        + weights.priority * candidate.priority
        + candidate.rule_cost
    )


def cost_factors(
    candidate: Candidate, ship_to: LatLon, weights: Weights, shipping: ShippingModel
) -> dict[str, Any]:
    """Each factor's weighted contribution to `location_cost`, plus the raw values."""
    km = haversine_km(candidate.lat, candidate.lon, ship_to[0], ship_to[1])
    ship = shipping.shipping_cost(km)
    return {
        "distance_km": weights.distance_km * km,
        "backlog_ratio": weights.backlog_ratio * candidate.backlog_ratio,
        "processing_hours": weights.processing_hours * candidate.processing_hours,
        "shipping_cost": weights.shipping_cost * ship,
        "priority": weights.priority * candidate.priority,
        "rules": candidate.rule_cost,
        "raw": {
            "distance_km": round(km, 3),
            "backlog_ratio": candidate.backlog_ratio,
            "processing_hours": candidate.processing_hours,
            "shipping_cost": ship,
            "priority": candidate.priority,
            "rule_cost": candidate.rule_cost,
        },
        "matched_rules": list(candidate.matched_rules),
    }


def location_costs(
    candidates: Sequence[Candidate], ship_to: LatLon, weights: Weights, shipping: ShippingModel
) -> list[float]:
    """`location_cost` of many candidates: the same arithmetic, inlined for speed."""
    phi2, lon2 = radians(ship_to[0]), ship_to[1]
    cos_phi2 = cos(phi2)
    w_km, w_ship, w_priority = weights.distance_km, weights.shipping_cost, weights.priority
    w_backlog, w_hours = weights.backlog_ratio, weights.processing_hours
    zones, base, per_km = shipping.zones, shipping.base_per_shipment, shipping.per_km
    beyond = (
        base + (shipping.beyond if shipping.beyond is not None else zones[-1][1]) if zones else 0
    )
    diameter = 2 * EARTH_RADIUS_KM
    out = []
    for c in candidates:
        phi1 = radians(c.lat)
        a = sin((phi2 - phi1) / 2) ** 2 + cos(phi1) * cos_phi2 * sin(radians(lon2 - c.lon) / 2) ** 2
        km = diameter * asin(sqrt(a if a < 1.0 else 1.0))
        ship = base + per_km * km
        if zones:
            ship = beyond
            for max_km, zone_cost in zones:
                if km <= max_km:
                    ship = base + zone_cost
                    break
        out.append(
            w_km * km
            + w_backlog * c.backlog_ratio
            + w_hours * c.processing_hours
            + w_ship * ship
            + w_priority * c.priority
            + c.rule_cost
        )
    return out


def shipping_costs(shipping: ShippingModel, km: np.ndarray) -> np.ndarray:
    """`ShippingModel.shipping_cost` over an array of distances."""
    if not shipping.zones:
        return shipping.base_per_shipment + shipping.per_km * km
    limits, costs = _zone_arrays(shipping)
    return shipping.base_per_shipment + costs[np.searchsorted(limits, km, side="left")]


@lru_cache(maxsize=64)
def _zone_arrays(shipping: ShippingModel) -> tuple[np.ndarray, np.ndarray]:
    """The zones' limits and costs (the last: beyond them) as arrays, built once per model:
    an order's floors use them several times over a few dozen locations each."""
    limits = np.array([max_km for max_km, _ in shipping.zones], dtype=float)
    beyond = shipping.zones[-1][1] if shipping.beyond is None else shipping.beyond
    costs = np.array([cost for _, cost in shipping.zones] + [beyond], dtype=float)
    limits.flags.writeable = costs.flags.writeable = False
    return limits, costs
