"""Immutable ruleset model: what a loaded rule file becomes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

from service.domain.sourcing.model import SplitPolicy

Severity = Literal["error", "warning"]
Predicate = Callable[[Mapping[str, Any]], bool]

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "distance_km": 1,
        "backlog_ratio": 100,
        "processing_hours": 2,
        "shipping_cost": 1,
        "priority": 10,
    }
)
DEFAULT_SPLIT: Mapping[str, Any] = MappingProxyType(
    {
        "mode": "allow_split",
        "max_shipments": 3,
        "shipment_penalty": 100,
        "fallback": "backorder",
    }
)
DEFAULT_DISPOSITION = "restock"
# What a channel sells when its section does not say: a location counts for it when it can
# ship or offers pickup (only a location that can do neither is left out).
METHODS = ("ship", "pickup")
DEFAULT_SELLS = METHODS
MAX_TRANSIT_HOURS = 8760  # count_in_transit's longest window: a year


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a rule file, located by line, column and pointer."""

    path: str
    line: int
    col: int
    pointer: str
    message: str
    severity: Severity = "error"
    code: str = "invalid"

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON-ready data (API payloads)."""
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "pointer": self.pointer,
            "message": self.message,
            "severity": self.severity,
            "code": self.code,
        }


def format_problem(problem: Problem) -> str:
    """Compiler-style one-liner: ``path:line:col: error: message (at /pointer)``."""
    where = problem.pointer or "/"
    return (
        f"{problem.path}:{problem.line}:{problem.col}: {problem.severity}: "
        f"{problem.message} (at {where})"
    )


def freeze(value: Any) -> Any:
    """Deep read-only copy: dicts become MappingProxy, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain dict/list copy of a frozen value."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class Action:
    name: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """The action in business-rules form."""
        out: dict[str, Any] = {"name": self.name}
        if self.params:
            out["params"] = dict(self.params)
        return out


@dataclass(frozen=True)
class Rule:
    """A named rule: conditions (business-rules form, frozen) and actions."""

    name: str
    conditions: Mapping[str, Any]
    actions: tuple[Action, ...]
    description: str | None = None
    predicate: Predicate = field(default=lambda facts: False, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The normalised rule document."""
        out: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out["conditions"] = thaw(self.conditions)
        out["actions"] = [a.to_dict() for a in self.actions]
        return out

    def business_rule(self) -> dict[str, Any]:
        """The rule as business-rules ``run_all`` wants it (every condition has a value)."""
        return {
            "conditions": with_values(thaw(self.conditions)),
            "actions": [a.to_dict() for a in self.actions],
        }


def with_values(node: dict[str, Any]) -> dict[str, Any]:
    """Give every leaf condition a ``value`` key (business-rules reads it even when unused)."""
    for key in ("all", "any"):
        if key in node:
            return {key: [with_values(child) for child in node[key]]}
    return {"value": None, **node}


@dataclass(frozen=True)
class SourcingPolicy:
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    rules: tuple[Rule, ...] = ()
    split: SplitPolicy = field(default_factory=lambda: SplitPolicy(**DEFAULT_SPLIT))


@dataclass(frozen=True)
class ReturnsPolicy:
    rules: tuple[Rule, ...] = ()
    default_disposition: str = DEFAULT_DISPOSITION


@dataclass(frozen=True)
class FulfilmentPolicy:
    """Per location type, minutes a new fulfilment may wait to be accepted (config's
    fulfilment.accept_within_minutes for a type not listed)."""

    accept_within_minutes: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Ruleset:
    """One loaded, validated, immutable ruleset version."""

    name: str
    version: int
    description: str | None
    path: str
    content_hash: str
    channels: Mapping[str, tuple[Rule, ...]]
    sourcing: SourcingPolicy
    returns: ReturnsPolicy
    warnings: tuple[Problem, ...] = field(default=(), compare=False)
    fulfilment: FulfilmentPolicy = field(default_factory=FulfilmentPolicy)
    channel_sells: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}))  # channels whose file says `sells`

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @cached_property
    def transit_windows(self) -> tuple[float, ...]:
        """Every count_in_transit window (hours) of any channel rule, ascending (() when no
        channel counts units in transit: the kept ATS then never reads transfers)."""
        return tuple(sorted({float(a.params["within_hours"])
                             for rules in self.channels.values() for rule in rules
                             for a in rule.actions if a.name == "count_in_transit"}))

    def sells(self, channel: str) -> tuple[str, ...]:
        """The fulfilment methods a channel sells (in METHODS order)."""
        return self.channel_sells.get(channel, DEFAULT_SELLS)

    def serves(self, channel: str, facts: Mapping[str, Any]) -> bool:
        """Whether a location (its facts: can_ship, can_pickup) can serve a method the
        channel sells: only such a location counts in the channel's availability."""
        sells = self.sells(channel)
        return bool(("ship" in sells and facts.get("can_ship"))
                    or ("pickup" in sells and facts.get("can_pickup")))

    def to_dict(self) -> dict[str, Any]:
        """The normalised document (defaults filled in)."""
        return normalised_document(self)


def normalised_document(rs: Ruleset) -> dict[str, Any]:
    """Build the normalised document of a ruleset."""
    doc: dict[str, Any] = {"name": rs.name, "version": rs.version}
    if rs.description is not None:
        doc["description"] = rs.description
    doc["channels"] = {
        ch: {**_sells_entry(rs, ch), "rules": [r.to_dict() for r in rules]}
        for ch, rules in rs.channels.items()
    }
    doc["sourcing"] = {
        "weights": dict(rs.sourcing.weights),
        "rules": [r.to_dict() for r in rs.sourcing.rules],
        "split": rs.sourcing.split.to_dict(),
    }
    doc["returns"] = {
        "rules": [r.to_dict() for r in rs.returns.rules],
        "default_disposition": rs.returns.default_disposition,
    }
    if rs.fulfilment.accept_within_minutes:  # absent when unused: earlier hashes stay
        doc["fulfilment"] = {"accept_within_minutes": dict(rs.fulfilment.accept_within_minutes)}
    return doc


def _sells_entry(rs: Ruleset, channel: str) -> dict[str, Any]:
    """`sells` as the normalised document shows it: only when not the default, so a file
    saying the default means (and hashes) the same as one that does not say."""
    sells = rs.sells(channel)
    return {} if sells == DEFAULT_SELLS else {"sells": list(sells)}
