"""Meaning checks on a parsed rule document, beyond what the JSON Schema can say.

Every check is defensive (the document may also be schema-invalid) and reports findings
by JSON pointer; the loader turns them into located problems.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from service.rules.model import MAX_TRANSIT_HOURS, Severity
from service.rules.regex import check_regex
from service.rules.shadowing import check_shadowing
from service.rules.source import pointer_join
from service.rules.vocabulary import VOCABULARY, RuleContext

SECTION_CONTEXT = {"channels": "channel", "sourcing": "sourcing", "returns": "returns"}


@dataclass(frozen=True)
class Finding:
    pointer: str
    message: str
    severity: Severity = "error"
    code: str = "invalid"


def rule_lists(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, list[Any]]]:
    """Each rule list in the document: (context, pointer, rules)."""
    channels = doc.get("channels")
    if isinstance(channels, dict):
        for channel, body in channels.items():
            if isinstance(body, dict) and isinstance(body.get("rules"), list):
                yield "channel", pointer_join("/channels", channel) + "/rules", body["rules"]
    for section in ("sourcing", "returns"):
        body = doc.get(section)
        if isinstance(body, dict) and isinstance(body.get("rules"), list):
            yield SECTION_CONTEXT[section], f"/{section}/rules", body["rules"]


def check_document(doc: Mapping[str, Any]) -> list[Finding]:
    """Every meaning problem in the document."""
    findings = list(check_numbers(doc, ""))
    for context, pointer, rules in rule_lists(doc):
        findings.extend(check_rule_list(VOCABULARY[context], pointer, rules))
        if context == "returns":
            findings.extend(Finding(*found) for found in check_shadowing(pointer, rules))
    return findings


def check_numbers(value: Any, pointer: str) -> Iterator[Finding]:
    """NaN and infinities are refused anywhere in the document."""
    if isinstance(value, float) and not math.isfinite(value):
        yield Finding(pointer, f"{value} is not allowed: numbers must be finite", code="non-finite")
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from check_numbers(child, pointer_join(pointer, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from check_numbers(child, pointer_join(pointer, index))


def check_rule_list(ctx: RuleContext, pointer: str, rules: list[Any]) -> Iterator[Finding]:
    """Duplicate names, conditions and actions of one rule list."""
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        rule_pointer = pointer_join(pointer, index)
        if not isinstance(rule, dict):
            continue
        name = rule.get("name")
        if isinstance(name, str) and name in seen:
            yield Finding(
                f"{rule_pointer}/name",
                f"duplicate rule name '{name}' (first used by rule {seen[name]} of this section)",
                code="duplicate-rule",
            )
        elif isinstance(name, str):
            seen[name] = index
        if isinstance(rule.get("conditions"), dict):
            yield from check_node(ctx, rule["conditions"], f"{rule_pointer}/conditions")
        if isinstance(rule.get("actions"), list):
            for i, action in enumerate(rule["actions"]):
                yield from check_action(ctx, action, f"{rule_pointer}/actions/{i}")


def check_node(ctx: RuleContext, node: dict[str, Any], pointer: str) -> Iterator[Finding]:
    """Walk a condition tree and check every leaf."""
    for key in ("all", "any"):
        if isinstance(node.get(key), list):
            for index, child in enumerate(node[key]):
                if isinstance(child, dict):
                    yield from check_node(ctx, child, f"{pointer}/{key}/{index}")
            return
    if isinstance(node.get("name"), str) and isinstance(node.get("operator"), str):
        yield from check_condition(ctx, node, pointer)


def check_condition(ctx: RuleContext, cond: dict[str, Any], pointer: str) -> Iterator[Finding]:
    """Variable exists, operator fits its type, value fits the operator."""
    name, operator = cond["name"], cond["operator"]
    spec = ctx.variables.get(name)
    if spec is None:
        yield Finding(
            f"{pointer}/name",
            f"unknown variable '{name}' for {ctx.name} rules; "
            f"expected one of: {', '.join(sorted(ctx.variables))}",
            code="unknown-variable",
        )
        return
    operators = ctx.operators[spec.type]
    if operator not in operators:
        yield Finding(
            f"{pointer}/operator",
            f"operator '{operator}' does not exist for "
            f"{spec.type} variable '{name}'; expected one of: "
            f"{', '.join(sorted(operators))}",
            code="unknown-operator",
        )
        return
    input_type = operators[operator]
    if input_type == "none":
        if cond.get("value") is not None:
            yield Finding(
                f"{pointer}/value",
                f"'{operator}' takes no value; this value is ignored",
                "warning",
                "value-ignored",
            )
        return
    if "value" not in cond:
        yield Finding(pointer, f"'{operator}' needs a value", code="missing-value")
        return
    yield from check_value(spec.type, input_type, operator, cond["value"], f"{pointer}/value")
    yield from check_reachable(spec.name, spec.options, operator, cond["value"], pointer)


def _hint(value: Any) -> str:
    if isinstance(value, bool | None | int | float):
        return " (YAML read it as " + json.dumps(value) + "; quote it to make it text)"
    return ""


def check_value(
    var_type: str, input_type: str, operator: str, value: Any, pointer: str
) -> Iterator[Finding]:
    """The value has the type the operator expects."""
    if input_type == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield Finding(
                pointer,
                f"expected a number for '{operator}', got {json.dumps(value)}",
                code="value-type",
            )
    elif input_type in ("text", "select"):
        if not isinstance(value, str):
            yield Finding(
                pointer, f"expected text for '{operator}'{_hint(value)}", code="value-type"
            )
        elif "\x00" in value:
            yield Finding(pointer, "text may not contain NUL characters", code="value-type")
        elif input_type == "select" and "," in value:
            yield Finding(pointer, "tag values may not contain ','", code="value-type")
        elif operator == "matches_regex" and (bad := check_regex(value)):
            yield Finding(pointer, bad[1], code=bad[0])
    elif input_type == "select_multiple" and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        yield Finding(pointer, f"expected a list of text items for '{operator}'", code="value-type")


def check_reachable(
    name: str, options: tuple[str, ...], operator: str, value: Any, pointer: str
) -> Iterator[Finding]:
    """Warn when equality with a value outside the variable's options can never hold."""
    if not options or not isinstance(value, str):
        return
    never = (operator == "equal_to" and value not in options) or (
        operator == "equal_to_case_insensitive"
        and value.lower() not in {o.lower() for o in options}
    )
    if never:
        yield Finding(
            pointer,
            f"condition can never be true: '{value}' is not one of "
            f"{name}'s values ({', '.join(options)})",
            "warning",
            "never-matches",
        )


def check_action(ctx: RuleContext, action: Any, pointer: str) -> Iterator[Finding]:
    """The action exists in this context and its parameters are exactly right."""
    if not isinstance(action, dict) or not isinstance(action.get("name"), str):
        return
    spec = ctx.actions.get(action["name"])
    if spec is None:
        yield Finding(
            f"{pointer}/name",
            f"unknown action '{action['name']}' for {ctx.name} "
            f"rules; expected one of: {', '.join(sorted(ctx.actions))}",
            code="unknown-action",
        )
        return
    params = action.get("params") or {}
    if not isinstance(params, dict):
        return
    for key in params:
        if key not in spec.params:
            expected = ", ".join(spec.params) or "none"
            yield Finding(
                pointer_join(f"{pointer}/params", key),
                f"unknown parameter '{key}' for {spec.name}; expected: {expected}",
                code="unknown-param",
            )
    for key in spec.params:
        if key not in params:
            yield Finding(pointer, f"{spec.name} needs parameter '{key}'", code="missing-param")
        else:
            yield from check_param(
                spec.name,
                key,
                params[key],
                spec.options.get(key),
                pointer_join(f"{pointer}/params", key),
            )


def check_param(
    action: str, key: str, value: Any, options: tuple[str, ...] | None, pointer: str
) -> Iterator[Finding]:
    """One action parameter's type and range."""
    if options is not None:
        if value not in options:
            yield Finding(pointer, f"{key} must be one of: {', '.join(options)}", code="param-type")
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        expected = "a number 0–100" if key == "percent" else "a number"
        yield Finding(pointer, f"{key}: expected {expected}, got {_described(value)}",
                      code="param-type")
    elif key == "units" and (not isinstance(value, int) or value < 0):
        yield Finding(pointer, "units must be a whole number >= 0", code="param-type")
    elif key == "percent":
        yield from check_percent(value, pointer)
    elif key == "within_hours" and not 0 < value <= MAX_TRANSIT_HOURS:
        yield Finding(pointer, f"within_hours: expected more than 0 and at most "
                      f"{MAX_TRANSIT_HOURS} (a year), got {value}", code="param-range")


def check_percent(value: float, pointer: str) -> Iterator[Finding]:
    """A percent is 0–100 with at most 4 decimals (over 100 would hold back more than all)."""
    if not 0 <= value <= 100:
        yield Finding(pointer, f"percent: expected a number 0–100, got {value}",
                      code="percent-range")
    elif isinstance(value, float) and math.isfinite(value) and round(value, 4) != value:
        yield Finding(pointer, "percent allows at most 4 decimal places", code="param-type")


def _described(value: Any) -> str:
    """How a message names a value it did not expect: "the string '30%'", "a list"."""
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "null"
    return {"list": "a list", "dict": "a mapping"}.get(type(value).__name__,
                                                       type(value).__name__)
