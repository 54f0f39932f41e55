"""The rule vocabulary as business-rules sees it: variable classes, actions and contexts.

The variables come from the one declaration in ``service.rules.variables`` (``VARIABLES``):
each context's business-rules variable class is built from the rows of that context, and
``VOCABULARY``, ``VARIABLE_TYPES`` and ``export_vocabulary()`` follow from the classes.
The actions of each context are declared here.

Each variable reads one key of a plain ``facts`` dict, so the same facts feed the reference
interpreter (business-rules ``run_all``) and the compiled predicates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from business_rules import export_rule_data
from business_rules.actions import BaseActions, rule_action
from business_rules.fields import FIELD_NUMERIC, FIELD_SELECT
from business_rules.operators import BaseType, BooleanType, NumericType, SelectType, StringType
from business_rules.variables import BaseVariables, rule_variable

from service.rules.variables import (
    CONDITIONS,
    CONTEXTS,
    DELIVERY_METHODS,
    ENTITIES,
    LOCATION_TYPES,
    VARIABLES,
    VARIABLES_BY_NAME,
    Variable,
    variables_of,
    variables_of_entity,
)

DISPOSITIONS = ["restock", "discard", "return_to_vendor"]

# business-rules field types, by the name it exports them under
FIELD_TYPES: Mapping[str, type[BaseType]] = MappingProxyType(
    {t.name: t for t in (StringType, NumericType, BooleanType, SelectType)}
)


class FactVariables(BaseVariables):
    """Base for variables read from a facts dict."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self.facts = facts


def _fact(variable: Variable) -> Callable[[FactVariables], Any]:
    """The business-rules variable that returns ``facts[variable.name]``."""
    name = variable.name

    def read(self: FactVariables) -> Any:
        return self.facts[name]

    read.__name__ = name
    options = list(variable.options) or None
    field_type = FIELD_TYPES[variable.type]
    return rule_variable(field_type, label=variable.label, options=options)(read)


def _variables_class(
    name: str, doc: str, variables: Iterable[Variable]
) -> type[FactVariables]:
    body: dict[str, Any] = {"__doc__": doc, "__module__": __name__}
    body.update({v.name: _fact(v) for v in variables})
    return type(name, (FactVariables,), body)


ChannelVariables = _variables_class(
    "ChannelVariables", "Channel availability: product, location, position and channel.",
    variables_of("channel"))
SourcingVariables = _variables_class(
    "SourcingVariables", "Sourcing: a candidate location for an order.", variables_of("sourcing"))
ReturnsVariables = _variables_class(
    "ReturnsVariables", "Returns: one received return line.", variables_of("returns"))
# The variables of one kind of record, whatever the context.
ProductVariables = _variables_class(
    "ProductVariables", "A product's variables.", variables_of_entity("product"))
LocationVariables = _variables_class(
    "LocationVariables", "A location's variables.", variables_of_entity("location"))
ChannelVariable = _variables_class(
    "ChannelVariable", "The request's channel.", variables_of_entity("request"))


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

    @rule_action(params={"within_hours": FIELD_NUMERIC})
    def count_in_transit(self, within_hours: float) -> None:
        self.done.append({"action": "count_in_transit", "within_hours": within_hours})


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
    source: str = ""


@dataclass(frozen=True)
class ActionSpec:
    name: str
    params: Mapping[str, str]
    options: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class RuleContext:
    """One rule context: its variables and actions, with the classes that implement them."""

    name: str
    variables_class: type[FactVariables]
    actions_class: type[RecordingActions]
    variables: Mapping[str, VariableSpec]
    actions: Mapping[str, ActionSpec]
    operators: Mapping[str, Mapping[str, str]]


def _build_context(
    name: str, variables: type[FactVariables], actions: type[RecordingActions]
) -> RuleContext:
    data = export_rule_data(variables, actions)
    var_specs = {
        v["name"]: VariableSpec(v["name"], v["field_type"], tuple(v["options"]),
                                VARIABLES_BY_NAME[v["name"]].source)
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
    return RuleContext(
        name,
        variables,
        actions,
        MappingProxyType(var_specs),
        MappingProxyType(action_specs),
        MappingProxyType(operators),
    )


VOCABULARY: Mapping[str, RuleContext] = MappingProxyType(
    {
        "channel": _build_context("channel", ChannelVariables, ChannelActions),
        "sourcing": _build_context("sourcing", SourcingVariables, SourcingActions),
        "returns": _build_context("returns", ReturnsVariables, ReturnsActions),
    }
)

VARIABLE_TYPES: Mapping[str, str] = MappingProxyType({v.name: v.type for v in VARIABLES})


def export_vocabulary() -> dict[str, Any]:
    """Every context's variables, actions and operators, as business-rules exports them."""
    return {
        name: export_rule_data(ctx.variables_class, ctx.actions_class)
        for name, ctx in VOCABULARY.items()
    }


__all__ = [
    "CONDITIONS", "CONTEXTS", "DELIVERY_METHODS", "DISPOSITIONS", "ENTITIES", "FIELD_TYPES",
    "LOCATION_TYPES", "VARIABLES", "VARIABLES_BY_NAME", "VARIABLE_TYPES", "VOCABULARY",
    "ActionSpec", "ChannelActions", "ChannelVariable", "ChannelVariables", "FactVariables",
    "LocationVariables", "ProductVariables", "RecordingActions", "ReturnsActions",
    "ReturnsVariables", "RuleContext", "SourcingActions", "SourcingVariables", "Variable",
    "VariableSpec", "export_vocabulary", "percent_units", "variables_of", "variables_of_entity",
]
