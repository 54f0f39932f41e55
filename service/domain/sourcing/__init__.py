"""Sourcing: which locations fulfil an order, at least cost under the split policy."""

from service.domain.sourcing.costing import cost_factors, location_cost
from service.domain.sourcing.deciding import Limits
from service.domain.sourcing.model import (
    Candidate,
    InvalidSourcingInput,
    Shipment,
    ShippingModel,
    SourcingLine,
    SourcingPlan,
    SplitPolicy,
    UnknownPostalCode,
    Weights,
)
from service.domain.sourcing.planner import plan_sourcing
from service.domain.sourcing.pool import CandidatePool

__all__ = [
    "Candidate",
    "CandidatePool",
    "InvalidSourcingInput",
    "Limits",
    "SourcingLine",
    "Shipment",
    "ShippingModel",
    "SourcingPlan",
    "SplitPolicy",
    "UnknownPostalCode",
    "Weights",
    "cost_factors",
    "location_cost",
    "plan_sourcing",
]
