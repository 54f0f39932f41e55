"""Sourcing value objects: order lines, candidate locations, weights, shipping and split policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from service.errors import Unprocessable, ValidationFailed, problem

SplitMode = Literal["ship_complete", "allow_split"]
Fallback = Literal["allow_split", "backorder", "reject"]


class UnknownPostalCode(Unprocessable):
    """A ship-to postal code the offline geocoder does not know (HTTP 422)."""

    code = "unknown_postal_code"
    title = "Unknown postal code"

    def __init__(self, postal_code: str, country: str, reason: str = "") -> None:
        detail = f"unknown postal code {postal_code!r} for country {country!r}"
        super().__init__(f"{detail}: {reason}" if reason else detail)
        self.postal_code = postal_code
        self.country = country


class InvalidSourcingInput(ValidationFailed):
    """Sourcing was asked something meaningless (a non-positive quantity, a bad policy)."""

    code = "invalid_sourcing_input"


@dataclass(frozen=True, slots=True)
class SourcingLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A location that may ship; `available` is already the channel's share, net of hold-backs."""

    location_id: str
    lat: float
    lon: float
    available: Mapping[str, int]
    backlog_ratio: float = 0.0
    processing_hours: float = 0.0
    priority: int = 0
    rule_cost: float = 0.0
    matched_rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Weights:
    distance_km: float = 1.0
    backlog_ratio: float = 0.0
    processing_hours: float = 0.0
    shipping_cost: float = 0.0
    priority: float = 0.0


@dataclass(frozen=True, slots=True)
class ShippingModel:
    """Shipping cost of one parcel: `base + per_km * km`, or distance zones when given.

    Zones are (max_km, cost) bands in increasing max_km; a distance past the last band costs
    `beyond` when set, else the last band's cost. With zones, `per_km` is ignored and `base`
    is added to the zone cost.
    """

    base_per_shipment: float = 0.0
    per_km: float = 0.0
    zones: tuple[tuple[float, float], ...] = ()
    beyond: float | None = None

    def shipping_cost(self, distance_km: float) -> float:
        """Cost to ship one parcel over `distance_km`."""
        if not self.zones:
            return self.base_per_shipment + self.per_km * distance_km
        for max_km, cost in self.zones:
            if distance_km <= max_km:
                return self.base_per_shipment + cost
        last = self.zones[-1][1] if self.beyond is None else self.beyond
        return self.base_per_shipment + last


@dataclass(frozen=True, slots=True)
class SplitPolicy:
    mode: SplitMode = "allow_split"
    max_shipments: int = 3
    shipment_penalty: float = 0.0
    fallback: Fallback = "backorder"

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in ("ship_complete", "allow_split"):
            problems.append(problem("/mode", "expected ship_complete or allow_split"))
        if self.fallback not in ("allow_split", "backorder", "reject"):
            problems.append(problem("/fallback", "expected allow_split, backorder or reject"))
        if not isinstance(self.max_shipments, int) or self.max_shipments < 1:
            problems.append(problem("/max_shipments", "expected an integer >= 1"))
        if problems:
            raise InvalidSourcingInput("invalid split policy", problems)

    def to_dict(self) -> dict[str, Any]:
        """The split policy as a rule file's `split` section."""
        return {"mode": self.mode, "max_shipments": self.max_shipments,
                "shipment_penalty": self.shipment_penalty, "fallback": self.fallback}


@dataclass(frozen=True, slots=True)
class Shipment:
    """One location's part of the plan; `cost` includes the shipment penalty."""

    location_id: str
    lines: tuple[SourcingLine, ...]
    cost: float
    factors: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class SourcingPlan:
    shipments: tuple[Shipment, ...]
    unfulfilled: tuple[SourcingLine, ...]
    total_cost: float
    policy_applied: str
    explanation: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def fulfilled_units(self) -> int:
        """Units the plan ships."""
        return sum(line.quantity for s in self.shipments for line in s.lines)
