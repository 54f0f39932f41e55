"""Change a rule file's values without touching its YAML by hand: the values a form can
show (each condition's value and each action's parameter, typed by the vocabulary; sourcing
weights and split numbers), and their replacement in the text in place, so every comment and
every other line stays as it was."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from service.rules.explain import OPERATOR_WORDS
from service.rules.source import RuleSyntaxError, Source, parse_yaml, pointer_join
from service.rules.vocabulary import export_vocabulary

_PLAIN_END = re.compile(r"\s+#|\s*[,\]}]|\s*$")
_DOUBLE = re.compile(r'"(?:[^"\\]|\\.)*"')
_SINGLE = re.compile(r"'(?:[^']|'')*'")
_PLAIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


@dataclass(frozen=True)
class Field:
    """A value a form may change: where it is, what it is called, its kind and value."""

    pointer: str
    label: str
    kind: str  # number | text | choice
    value: Any
    options: tuple[str, ...] = ()


def _types() -> dict[str, dict[str, tuple[str, tuple[str, ...]]]]:
    """Per rule context: each variable's and numeric action parameter's form kind."""
    out: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {}
    for context, vocabulary in export_vocabulary().items():
        kinds = {v["name"]: ("number" if v["field_type"] == "numeric" else
                             "choice" if v["options"] else "text", tuple(v["options"]))
                 for v in vocabulary["variables"]}
        for action in vocabulary["actions"]:
            for param in action["params"] or []:
                if param["fieldType"] == "numeric":
                    kinds[f"{action['name']}.{param['name']}"] = ("number", ())
        out[context] = kinds
    return out


def _leaves(node: Any, pointer: str) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(node, dict):
        return []
    for key in ("all", "any"):
        if isinstance(node.get(key), list):
            return [leaf for i, child in enumerate(node[key])
                    for leaf in _leaves(child, pointer_join(pointer_join(pointer, key), i))]
    return [(pointer, node)] if "value" in node else []


def _rule_fields(section: str, context: str, rules: Any, base: str) -> list[Field]:
    kinds, found = _types()[context], []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        at, name = pointer_join(base, i), f"{section} · {rule.get('name', i)}"
        for pointer, leaf in _leaves(rule.get("conditions"), pointer_join(at, "conditions")):
            kind, options = kinds.get(leaf.get("name"), ("", ()))
            if kind and isinstance(leaf["value"], int | float | str):
                words = OPERATOR_WORDS.get(str(leaf.get("operator")), leaf.get("operator"))
                found.append(Field(pointer_join(pointer, "value"),
                                   f"{name}: {str(leaf['name']).replace('_', ' ')} {words}",
                                   kind, leaf["value"], options))
        for a, action in enumerate(rule.get("actions") or []):
            for param, value in (action.get("params") or {}).items():
                if kinds.get(f"{action.get('name')}.{param}", ("",))[0] == "number":
                    found.append(Field(f"{at}/actions/{a}/params/{param}",
                                       f"{name}: {action['name'].replace('_', ' ')}, {param}",
                                       "number", value))
    return found


@lru_cache(maxsize=64)
def editable(text: str) -> tuple[Field, ...]:
    """The values of a YAML rule file a form may change (none when it does not parse)."""
    try:
        doc = parse_yaml(text).data
    except RuleSyntaxError:
        return ()
    if not isinstance(doc, dict):
        return ()
    found: list[Field] = []
    for channel, body in (doc.get("channels") or {}).items():
        found += _rule_fields(channel, "channel", (body or {}).get("rules"),
                              pointer_join(pointer_join("/channels", channel), "rules"))
    sourcing = doc.get("sourcing") or {}
    found += _rule_fields("sourcing", "sourcing", sourcing.get("rules"), "/sourcing/rules")
    found += _rule_fields("returns", "returns", (doc.get("returns") or {}).get("rules"),
                          "/returns/rules")
    for part in ("weights", "split"):
        for key, value in (sourcing.get(part) or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.append(Field(f"/sourcing/{part}/{key}", f"sourcing {part}: {key}",
                                   "number", value))
    return tuple(found)


def _token_end(line: str, start: int) -> int:
    """Where the scalar starting at `start` ends: a quoted string, or a plain one up to a
    comment, a flow separator or the end of the line."""
    for quoted in (_DOUBLE, _SINGLE):
        found = quoted.match(line, start)
        if found and line[start] in "\"'":
            return found.end()
    return _PLAIN_END.search(line, start).start()  # type: ignore[union-attr]


def scalar(value: Any) -> str:
    """A value as a YAML scalar (a plain word as it is, other strings double-quoted)."""
    if isinstance(value, str):
        if _PLAIN_WORD.fullmatch(value) and value.lower() not in _YAML_WORDS:
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


def set_values(text: str, values: dict[str, Any]) -> str:
    """The text with each pointer's scalar replaced in place (bottom up, so positions hold);
    a pointer that names no value in the text raises KeyError."""
    source: Source = parse_yaml(text)
    lines = text.split("\n")
    spots = sorted(((source.positions[p], p) for p in values), reverse=True)
    for (line_no, col), pointer in spots:
        line = lines[line_no - 1]
        start = col - 1
        lines[line_no - 1] = line[:start] + scalar(values[pointer]) + line[
            _token_end(line, start):]
    return "\n".join(lines)
