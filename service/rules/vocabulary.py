"""The rule vocabulary: variables and actions per context, declared with business-rules.

Each variable reads one key of a plain ``facts`` dict, so the same facts feed the reference
interpreter (business-rules ``run_all``) and the compiled predicates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from business_rules import export_rule_data
from business_rules.actions import BaseActions, rule_action
from business_rules.fields import FIELD_NUMERIC, FIELD_SELECT
from business_rules.operators import BaseType, BooleanType, NumericType, SelectType, StringType
from business_rules.variables import BaseVariables, rule_variable

CONTEXTS = ("channel", "sourcing", "returns")
LOCATION_TYPES = ["store", "dc", "3pl", "dropship"]
DELIVERY_METHODS = ["ship", "pickup"]
CONDITIONS = ["new", "opened", "damaged", "defective"]
DISPOSITIONS = ["restock", "discard", "return_to_vendor"]


def fact(
    name: str,
    field_type: type[BaseType],
    label: str | None = None,
    options: list[str] | None = None,
) -> Callable[[FactVariables], Any]:
    """Declare a rule variable that returns ``facts[name]``."""

    def read(self: FactVariables) -> Any:
        return self.facts[name]

    read.__name__ = name
    return rule_variable(field_type, label=label, options=options)(read)


class FactVariables(BaseVariables):
    """Base for variables read from a facts dict."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self.facts = facts


class ProductVariables(FactVariables):
    sku = fact("sku", StringType, label="SKU")
    category = fact("category", StringType)
    brand = fact("brand", StringType)
    price = fact("price", NumericType)
    tags = fact("tags", SelectType, label="Product tags")


class LocationVariables(FactVariables):
    location_id = fact("location_id", StringType, label="Location ID")
    location_type = fact("location_type", StringType, options=LOCATION_TYPES)
    region = fact("region", StringType)
    location_tags = fact("location_tags", SelectType)
    can_ship = fact("can_ship", BooleanType)
    can_pickup = fact("can_pickup", BooleanType)


class ChannelVariable(FactVariables):
    channel = fact("channel", StringType)


class ChannelVariables(ProductVariables, LocationVariables, ChannelVariable):
    """Channel availability: product, location, position and channel."""

    on_hand = fact("on_hand", NumericType)
    available = fact("available", NumericType)


class SourcingVariables(LocationVariables, ChannelVariable):
    """Sourcing: a candidate location for an order."""

    order_value = fact("order_value", NumericType)
    line_count = fact("line_count", NumericType)
    customer_tier = fact("customer_tier", StringType)
    delivery_method = fact("delivery_method", StringType, options=DELIVERY_METHODS)
    distance_km = fact("distance_km", NumericType, label="Distance (km)")
    backlog_ratio = fact("backlog_ratio", NumericType)


class ReturnsVariables(ProductVariables, ChannelVariable):
    """Returns: one received return line."""

    location_id = LocationVariables.location_id
    location_type = LocationVariables.location_type
    condition = fact("condition", StringType, options=CONDITIONS)
    reason = fact("reason", StringType)
    days_since_delivery = fact("days_since_delivery", NumericType)


def percent_units(percent: Fraction | int | float, available: Any) -> int:
    """Units held back by a percent of ``available``: exact, rounded up, never negative."""
    fraction = percent if isinstance(percent, Fraction) else Fraction(str(percent))
    amount = available if type(available) is int else Fraction(available)
    if amount <= 0:
        return 0
    return math.ceil(fraction * amount / 100)


class RecordingActions(BaseActions):
    """Actions that record what they did instead of changing anything."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self.facts = facts
        self.done: list[dict[str, Any]] = []


class ChannelActions(RecordingActions):
    @rule_action(params={"units": FIELD_NUMERIC})
    def hold_back_units(self, units: int) -> None:
        self.done.append({"action": "hold_back_units", "units": units})

    @rule_action(params={"percent": FIELD_NUMERIC})
    def hold_back_percent(self, percent: float) -> None:
        units = percent_units(percent, self.facts["available"])
        self.done.append({"action": "hold_back_percent", "percent": percent, "units": units})

    @rule_action()
    def exclude_location(self) -> None:
        self.done.append({"action": "exclude_location"})


class SourcingActions(RecordingActions):
    @rule_action(params={"points": FIELD_NUMERIC})
    def add_cost(self, points: float) -> None:
        self.done.append({"action": "add_cost", "points": points})

    exclude_location = ChannelActions.exclude_location


_DISPOSITION_PARAM = [
    {
        "name": "disposition",
        "label": "Disposition",
        "fieldType": FIELD_SELECT,
        "options": DISPOSITIONS,
    }
]


class ReturnsActions(RecordingActions):
    @rule_action(params=_DISPOSITION_PARAM)
    def set_disposition(self, disposition: str) -> None:
        self.done.append({"action": "set_disposition", "disposition": disposition})


@dataclass(frozen=True)
class VariableSpec:
    name: str
    type: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    params: Mapping[str, str]
    options: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Context:
    """One rule context: its variables and actions, with the classes that implement them."""

    name: str
    variables_class: type[FactVariables]
    actions_class: type[RecordingActions]
    variables: Mapping[str, VariableSpec]
    actions: Mapping[str, ActionSpec]
    operators: Mapping[str, Mapping[str, str]]


def _build_context(
    name: str, variables: type[FactVariables], actions: type[RecordingActions]
) -> Context:
    data = export_rule_data(variables, actions)
    var_specs = {
        v["name"]: VariableSpec(v["name"], v["field_type"], tuple(v["options"]))
        for v in data["variables"]
    }
    action_specs = {}
    for action in data["actions"]:
        params = action["params"] or []
        action_specs[action["name"]] = ActionSpec(
            action["name"],
            MappingProxyType({p["name"]: p["fieldType"] for p in params}),
            MappingProxyType({p["name"]: tuple(p["options"]) for p in params if "options" in p}),
        )
    operators = {
        t: MappingProxyType({o["name"]: o["input_type"] for o in ops})
        for t, ops in data["variable_type_operators"].items()
    }
    return Context(
        name,
        variables,
        actions,
        MappingProxyType(var_specs),
        MappingProxyType(action_specs),
        MappingProxyType(operators),
    )


VOCABULARY: Mapping[str, Context] = MappingProxyType(
    {
        "channel": _build_context("channel", ChannelVariables, ChannelActions),
        "sourcing": _build_context("sourcing", SourcingVariables, SourcingActions),
        "returns": _build_context("returns", ReturnsVariables, ReturnsActions),
    }
)

VARIABLE_TYPES: Mapping[str, str] = MappingProxyType(
    {spec.name: spec.type for ctx in VOCABULARY.values() for spec in ctx.variables.values()}
)


def export_vocabulary() -> dict[str, Any]:
    """Every context's variables, actions and operators, as business-rules exports them."""
    return {
        name: export_rule_data(ctx.variables_class, ctx.actions_class)
        for name, ctx in VOCABULARY.items()
    }
