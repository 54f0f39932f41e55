"""Per ship location, the most its sourcing rules can lower its cost: the rings' rule floor.

A rule whose conditions read only the location's own facts (its type, region, tags...) is
decided once per location: its points count exactly where it matches and not at all where it
does not. Any other rule (reading the distance, the backlog or the order) may match anywhere,
so only its discount counts, as in `rule_cost_floor`. The floors stay at or below every
location's real cost, and a store that pays a surcharge is no longer read as if it did not:
at 10,000 locations that kept the rings from reading twice the locations of 1,000.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.rules.model import Rule, thaw
from service.rules.variables import variables_of_entity

_LOCATION_NAMES = frozenset(v.name for v in variables_of_entity("location")) - frozenset(
    v.name for entity in ("request", "order") for v in variables_of_entity(entity))


def location_rule_floors(rules: Sequence[Rule], facts: Sequence[Mapping[str, Any]]
                         ) -> list[float]:
    """For each location's facts, the lowest sum of add_cost points its rules can give."""
    decided = [rule for rule in rules if _decided_by_location(rule)]
    anywhere = sum(min(0.0, _points(rule)) for rule in rules if rule not in decided)
    return [anywhere + sum(_points(rule) for rule in decided if rule.predicate(location))
            for location in facts]


def _points(rule: Rule) -> float:
    return float(sum(a.params["points"] for a in rule.actions if a.name == "add_cost"))


def _decided_by_location(rule: Rule) -> bool:
    """Whether every condition of the rule reads a fact of the location only."""
    names = _names(thaw(rule.conditions))
    return names is not None and names <= _LOCATION_NAMES


def _names(node: Any) -> set[str] | None:
    """The variable names a condition tree reads (None: a shape this does not know)."""
    if not isinstance(node, dict):
        return None
    if "name" in node:
        return {node["name"]}
    keys = set(node)
    if not keys or not keys <= {"all", "any"}:
        return None
    found: set[str] = set()
    for key in keys:
        for child in node[key]:
            names = _names(child)
            if names is None:
                return None
            found |= names
    return found
