"""Each rule in words, for people who never read YAML: "web: at stores, keep 2 units back"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.rules.model import Action, Rule, Ruleset

OPERATOR_WORDS = {
    "equal_to": "is", "equal_to_case_insensitive": "is (any case)",
    "greater_than": "is more than", "less_than": "is less than",
    "greater_than_or_equal_to": "is at least", "less_than_or_equal_to": "is at most",
    "starts_with": "starts with", "ends_with": "ends with", "contains": "contains",
    "does_not_contain": "does not contain", "matches_regex": "matches the pattern",
    "contains_all": "contains all of", "is_contained_by": "is one of",
    "shares_at_least_one_element_with": "shares one of",
    "shares_exactly_one_element_with": "shares exactly one of",
    "shares_no_elements_with": "shares none of",
}


def _words(name: str) -> str:
    return name.replace("_", " ")


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def explain_condition(node: Mapping[str, Any]) -> str:
    """A condition tree in words: "location type is store and tags contains bulky"."""
    for key, joiner in (("all", " and "), ("any", " or ")):
        if key in node:
            parts = [explain_condition(child) for child in node[key]]
            if not parts:
                return "always" if key == "all" else "never"
            text = joiner.join(parts)
            return f"({text})" if len(parts) > 1 and key == "any" else text
    name, operator = _words(str(node.get("name"))), str(node.get("operator"))
    if operator == "is_true":
        return f"{name} is yes"
    if operator == "is_false":
        return f"{name} is no"
    if operator == "non_empty":
        return f"{name} is not empty"
    return f"{name} {OPERATOR_WORDS.get(operator, _words(operator))} {_value(node.get('value'))}"


def explain_action(action: Action, section: str = "") -> str:
    """One action in words (in a section: sourcing excludes from sourcing)."""
    params = action.params
    if action.name == "hold_back_units":
        units = params["units"]
        return f"keep {_value(units)} unit{'' if units == 1 else 's'} back"
    if action.name == "hold_back_percent":
        return f"keep {_value(params['percent'])}% back"
    if action.name == "exclude_location":
        verb = "source" if section == "sourcing" else "sell"
        return f"do not {verb} from the location"
    if action.name == "add_cost":
        return f"add {_value(params['points'])} cost points"
    if action.name == "set_disposition":
        return f"dispose of it as {_words(str(params['disposition']))}"
    details = ", ".join(f"{_words(k)} {_value(v)}" for k, v in params.items())
    return _words(action.name) + (f" ({details})" if details else "")


def explain_rule(section: str, rule: Rule) -> str:
    """A rule in words, prefixed by where it applies: "web: when location type is store,
    keep 2 units back"."""
    actions = " and ".join(explain_action(a, section) for a in rule.actions) or "do nothing"
    return f"{section}: when {explain_condition(rule.conditions)}, {actions}"


def explain_ruleset(ruleset: Ruleset) -> list[dict[str, str]]:
    """Every rule of a ruleset in words, section by section."""
    sections: list[tuple[str, tuple[Rule, ...]]] = [
        *((channel, rules) for channel, rules in sorted(ruleset.channels.items())),
        ("sourcing", ruleset.sourcing.rules), ("returns", ruleset.returns.rules)]
    return [{"section": section, "rule": rule.name, "text": explain_rule(section, rule)}
            for section, rules in sections for rule in rules]
