"""A channel's rules evaluated over many positions at once, with numpy: what each position
lets the channel sell (0 where excluded, else max(0, available - the largest hold-back)).

Each leaf condition is decided by the compiled predicate (service.rules.predicates), once per
distinct value it reads: once per product for product variables, once per location for
location variables, once for the channel, once per distinct count for position variables;
the all/any trees then combine the leaves as boolean arrays. So a position gets exactly the
answer evaluate_channel would give it, for a few thousand predicate calls instead of one
per position and rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from service.rules.model import Rule, Ruleset, thaw
from service.rules.predicates import compile_condition, variables_read
from service.rules.variables import VARIABLES_BY_NAME

Facts = Mapping[str, Any]
DENSE_VALUES = 1 << 20  # counts spanning fewer values are looked up in a table, else np.unique
_SAFE = 1 << 62
_COUNTS = {name for name, v in VARIABLES_BY_NAME.items() if v.entity == "position"}


@dataclass
class PositionArrays:
    """Positions as columns: product and location indices, on_hand and available (>= 0), with
    the facts of each product and location index (None: unknown to the catalog).

    `decided` keeps the trees that read no count (product, location and channel facts only)
    as long as the caller keeps it: the same positions with the same facts give the same
    answers whatever their counts. Trees that read counts are decided once per instance."""

    sku: np.ndarray
    loc: np.ndarray
    on_hand: np.ndarray
    available: np.ndarray
    products: Sequence[Facts | None]
    locations: Sequence[Facts | None]
    decided: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _counted: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.sku.shape[0])


def _per_entity(predicate: Callable[[Facts], bool], facts: Sequence[Facts | None]) -> np.ndarray:
    return np.fromiter((f is not None and bool(predicate(f)) for f in facts), dtype=bool,
                       count=len(facts))


def _per_count(predicate: Callable[[Facts], bool], name: str, values: np.ndarray) -> np.ndarray:
    """The predicate per position, called once per distinct count."""
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    low, high = int(values.min()), int(values.max())
    if high - low < DENSE_VALUES:
        present = np.flatnonzero(np.bincount(values - low))
        table = np.zeros(high - low + 1, dtype=bool)
        table[present] = [bool(predicate({name: int(v) + low})) for v in present]
        return table[values - low]
    distinct, where = np.unique(values, return_inverse=True)
    table = np.array([bool(predicate({name: int(v)})) for v in distinct], dtype=bool)
    return table[where]


def _leaf(condition: Facts, channel: str, positions: PositionArrays) -> np.ndarray:
    name = condition["name"]
    predicate = compile_condition(name, condition["operator"], condition.get("value"))
    entity = VARIABLES_BY_NAME[name].entity
    if entity == "product":
        return _per_entity(predicate, positions.products)[positions.sku]
    if entity == "location":
        return _per_entity(predicate, positions.locations)[positions.loc]
    if entity == "position":
        values = positions.on_hand if name == "on_hand" else positions.available
        return _per_count(predicate, name, values)
    if name == "channel":
        return np.full(len(positions), bool(predicate({"channel": channel})), dtype=bool)
    raise ValueError(f"{name} is not a variable of a position seen by a channel")


def matches(conditions: Facts, channel: str, positions: PositionArrays) -> np.ndarray:
    """Where a condition tree holds, per position (each distinct tree decided once: the
    active ruleset and a draft share most of theirs)."""
    plain = thaw(conditions)
    key = (channel, json.dumps(plain, sort_keys=True, default=str))
    kept = positions._counted if _COUNTS & set(variables_read(plain)) else positions.decided
    found = kept.get(key)
    if found is None:
        found = kept[key] = _tree(conditions, channel, positions)
    return found


def _tree(conditions: Facts, channel: str, positions: PositionArrays) -> np.ndarray:
    for key, combine, start in (("all", np.logical_and, True), ("any", np.logical_or, False)):
        if key in conditions:
            result = np.full(len(positions), start, dtype=bool)
            for child in conditions[key]:
                combine(result, matches(child, channel, positions), out=result)
            return result
    return _leaf(conditions, channel, positions)


def _held(action_name: str, params: Facts, available: np.ndarray) -> np.ndarray | int:
    """Units a hold-back action keeps per position: its units, or its percent of available
    rounded up (exact integer arithmetic, as percent_units); at most the dtype's largest
    value (a hold-back that large leaves nothing of any position either way)."""
    most = int(np.iinfo(available.dtype).max)
    if action_name == "hold_back_units":
        return min(int(params["units"]), most)
    fraction = Fraction(str(params["percent"]))
    top, bottom = fraction.numerator, fraction.denominator * 100
    if available.size and top * int(available.max()) >= _SAFE:  # beyond int64: Python ints
        exact = np.array([-((-top * int(a)) // bottom) for a in available], dtype=object)
    else:
        exact = -((-top * available.astype(np.int64)) // bottom)
    return np.minimum(exact, most).astype(available.dtype)


def channel_units(ruleset: Ruleset, channel: str, positions: PositionArrays,
                  eligible: np.ndarray) -> np.ndarray:
    """Per position, the units the channel sells under ruleset: 0 where not eligible (the
    caller's mask: an active location that serves what the channel sells) or excluded, else
    max(0, available - the largest matching hold-back), in available's integer dtype."""
    dtype = positions.available.dtype
    if channel not in ruleset.channels:
        return np.zeros(len(positions), dtype=dtype)
    selling = eligible.copy()
    hold = np.zeros(len(positions), dtype=dtype)
    for rule in ruleset.channels[channel]:
        _apply(rule, channel, positions, selling, hold)
    units = positions.available - hold  # both >= 0: no overflow
    np.maximum(units, 0, out=units)
    units *= selling
    return units


def _apply(rule: Rule, channel: str, positions: PositionArrays, selling: np.ndarray,
           hold: np.ndarray) -> None:
    acting = [a for a in rule.actions if a.name != "count_in_transit"]  # not in the impact
    if not acting:
        return
    where = matches(rule.conditions, channel, positions)
    for action in acting:
        if action.name == "exclude_location":
            selling &= ~where
            continue
        held = _held(action.name, action.params, positions.available)
        if isinstance(held, int):
            if held:
                np.maximum(hold, where * hold.dtype.type(held), out=hold)
        else:
            np.maximum(hold, held * where, out=hold)


def serving(ruleset: Ruleset, channel: str, locations: Sequence[Facts | None]) -> np.ndarray:
    """Per location index: active and able to serve what the channel sells."""
    return np.fromiter((f is not None and bool(f["active"]) and ruleset.serves(channel, f)
                        for f in locations), dtype=bool, count=len(locations))
