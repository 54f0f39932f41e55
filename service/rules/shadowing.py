"""Returns rules shadowed by an earlier rule: simple and sound (never a false alarm).

Rule B is shadowed by an earlier rule A when A's top-level conjuncts are a subset of B's
(identical conditions included): whenever B matches, A has already matched and decided.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from service.rules.model import Severity
from service.rules.source import pointer_join


def _conjuncts(conditions: Any) -> frozenset[str] | None:
    if not isinstance(conditions, dict):
        return None
    items = conditions.get("all")
    if not isinstance(items, list):
        any_items = conditions.get("any")
        if not isinstance(any_items, list):
            return None
        items = any_items if len(any_items) == 1 else [conditions]
    return frozenset(json.dumps(_canonical(item), sort_keys=True) for item in items)


def _canonical(node: Any) -> Any:
    if isinstance(node, dict) and "name" in node:
        return {
            "name": node.get("name"),
            "operator": node.get("operator"),
            "value": node.get("value"),
        }
    return node


def check_shadowing(pointer: str,
                    rules: list[Any]) -> Iterator[tuple[str, str, Severity, str]]:
    """A returns rule can never decide if an earlier rule matches whenever it does."""
    earlier: list[tuple[int, str, frozenset[str]]] = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        mine = _conjuncts(rule.get("conditions"))
        if mine is None:
            continue
        for other_index, other_name, theirs in earlier:
            if theirs <= mine:
                yield (
                    pointer_join(pointer, index),
                    f"rule '{rule.get('name')}' is "
                    f"shadowed by earlier rule '{other_name}' (rule {other_index}), "
                    "which matches whenever it does: it can never decide",
                    "warning",
                    "shadowed-rule",
                )
                break
        earlier.append((index, str(rule.get("name")), mine))
