"""Compile business-rules conditions into fast Python predicates with identical semantics.

Numbers: business-rules compares ``Decimal(fact) - Decimal(value)`` (exact conversions, then
the default 28-digit context) against an epsilon of 1e-6. A float difference of two floats or
ints below 2**53 has relative error under 2**-52, so whenever it lies further than 1e-15 from
the epsilon the float comparison gives the same answer; anything else (near the epsilon, huge
ints, Decimals, bools) is decided by business-rules' own ``NumericType``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from business_rules.operators import NumericType, SelectType

from service.rules.model import Predicate
from service.rules.vocabulary import VARIABLE_TYPES

_EPS = 1e-6
_LOW = _EPS - 1e-15
_HIGH = _EPS + 1e-15
_EXACT_INT = 2**53

_NUMERIC_TESTS: Mapping[str, Callable[[float], bool]] = {
    "equal_to": lambda d: -_EPS < d < _EPS,
    "greater_than": lambda d: d > _EPS,
    "less_than": lambda d: d < -_EPS,
    "greater_than_or_equal_to": lambda d: d > -_EPS,
    "less_than_or_equal_to": lambda d: d < _EPS,
}


def compile_conditions(conditions: Mapping[str, Any]) -> Predicate:
    """Compile an ``{"all"|"any": [...]}`` tree (or one condition) into ``facts -> bool``."""
    if "all" in conditions:
        return _all([compile_conditions(c) for c in conditions["all"]])
    if "any" in conditions:
        return _any([compile_conditions(c) for c in conditions["any"]])
    return compile_condition(conditions["name"], conditions["operator"], conditions.get("value"))


def _all(preds: Sequence[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds
        return lambda facts: first(facts) and second(facts)
    return lambda facts: all(p(facts) for p in preds)


def _any(preds: Sequence[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds
        return lambda facts: first(facts) or second(facts)
    return lambda facts: any(p(facts) for p in preds)


def compile_condition(name: str, operator: str, value: Any) -> Predicate:
    """Compile one leaf condition on variable ``name``."""
    kind = VARIABLE_TYPES[name]
    if kind == "numeric":
        return _numeric(name, operator, value)
    if kind == "string":
        return _string(name, operator, value)
    if kind == "boolean":
        return _boolean(name, operator)
    if kind == "select":
        return _select(name, operator, value)
    raise ValueError(f"no compiler for variables of type {kind}")


def _numeric(name: str, operator: str, value: Any) -> Predicate:
    def slow(fact: Any) -> bool:
        return bool(getattr(NumericType(fact), operator)(value))

    if not (type(value) is float or (type(value) is int and abs(value) <= _EXACT_INT)):
        return lambda facts: slow(facts[name])
    test, target = _NUMERIC_TESTS[operator], float(value)

    def predicate(facts: Mapping[str, Any]) -> bool:
        fact = facts[name]
        kind = type(fact)
        if kind is float or (kind is int and -_EXACT_INT <= fact <= _EXACT_INT):
            diff = fact - target
            size = diff if diff >= 0 else -diff
            if size < _LOW or size > _HIGH:
                return test(diff)
        return slow(fact)

    return predicate


def _string(name: str, operator: str, value: Any) -> Predicate:
    if operator == "non_empty":
        return lambda facts: bool(facts[name])
    text = value or ""
    if operator == "equal_to":
        return lambda facts: (facts[name] or "") == text
    if operator == "equal_to_case_insensitive":
        lowered = text.lower()
        return lambda facts: (facts[name] or "").lower() == lowered
    if operator == "starts_with":
        return lambda facts: (facts[name] or "").startswith(text)
    if operator == "ends_with":
        return lambda facts: (facts[name] or "").endswith(text)
    if operator == "contains":
        return lambda facts: text in (facts[name] or "")
    if operator == "matches_regex":
        search = re.compile(text).search
        return lambda facts: search(facts[name] or "") is not None
    raise ValueError(f"unknown string operator {operator}")


def _boolean(name: str, operator: str) -> Predicate:
    if operator == "is_true":
        return lambda facts: facts[name] is True
    if operator == "is_false":
        return lambda facts: facts[name] is False
    raise ValueError(f"unknown boolean operator {operator}")


def _select(name: str, operator: str, value: Any) -> Predicate:
    if not isinstance(value, str):
        method = getattr(SelectType, operator)
        return lambda facts: bool(method(SelectType(facts[name]), value))
    lowered = value.lower()

    def contains(facts: Mapping[str, Any]) -> bool:
        for item in facts[name]:
            if (item.lower() == lowered) if isinstance(item, str) else item == value:
                return True
        return False

    if operator == "contains":
        return contains
    if operator == "does_not_contain":
        return lambda facts: not contains(facts)
    raise ValueError(f"unknown select operator {operator}")


def variables_read(conditions: Mapping[str, Any]) -> list[str]:
    """Names of the variables a condition tree reads, in order, without repeats."""
    names: list[str] = []
    for key in ("all", "any"):
        for child in conditions.get(key, ()):
            names.extend(n for n in variables_read(child) if n not in names)
    if "name" in conditions and conditions["name"] not in names:
        names.append(conditions["name"])
    return names
