"""Builders for sourcing tests: a ship-to in Manhattan and locations at known distances."""

from __future__ import annotations

import pytest

from service.domain.sourcing import Candidate, ShippingModel, SplitPolicy, Weights

NYC = (40.7484, -73.9967)
NEWARK = (40.7357, -74.1724)  # ~15 km from NYC
PHILADELPHIA = (39.9526, -75.1652)  # ~130 km
BOSTON = (42.3601, -71.0589)  # ~300 km
CHICAGO = (41.8781, -87.6298)  # ~1,150 km


def location(
    location_id: str,
    where: tuple[float, float],
    available: dict[str, int],
    **extra: float | int | tuple[str, ...],
) -> Candidate:
    """A candidate at `where` with the given availability and neutral factors."""
    return Candidate(location_id, where[0], where[1], available, **extra)  # type: ignore[arg-type]


@pytest.fixture
def distance_only() -> Weights:
    return Weights(distance_km=1.0)


@pytest.fixture
def no_shipping() -> ShippingModel:
    return ShippingModel()


def split(max_shipments: int = 3, penalty: float = 0.0, fallback: str = "backorder") -> SplitPolicy:
    """An allow_split policy."""
    return SplitPolicy("allow_split", max_shipments, penalty, fallback)  # type: ignore[arg-type]


def complete(fallback: str = "reject", max_shipments: int = 3) -> SplitPolicy:
    """A ship_complete policy."""
    return SplitPolicy("ship_complete", max_shipments, 0.0, fallback)  # type: ignore[arg-type]
