"""Evaluate rulesets on facts: compiled predicates (fast path) and business-rules (reference).

Semantics (README, "How the actions combine"): for a channel the largest matching hold-back
applies, any matching exclusion excludes and the longest matching count_in_transit window
counts; sourcing cost adjustments add up and any
exclusion excludes; for returns the first matching rule decides, else the default
disposition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from business_rules import run_all

from service.rules.model import Rule, Ruleset
from service.rules.predicates import variables_read
from service.rules.vocabulary import VOCABULARY, percent_units

Facts = Mapping[str, Any]


@dataclass(frozen=True)
class RuleHit:
    """A rule that matched: the values its conditions read and what it did."""

    rule: str
    variables: dict[str, Any]
    actions: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready explanation."""
        return {"rule": self.rule, "variables": self.variables, "actions": self.actions}


@dataclass(frozen=True)
class ChannelOutcome:
    hold_back: int
    excluded: bool
    hits: tuple[RuleHit, ...] = ()
    in_transit_hours: float | None = None  # the largest count_in_transit window matched


@dataclass(frozen=True)
class SourcingOutcome:
    cost_adjustment: float
    excluded: bool
    hits: tuple[RuleHit, ...] = ()
    matched: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReturnOutcome:
    disposition: str
    hits: tuple[RuleHit, ...] = ()
    rule: str | None = None  # the rule that decided; None: the default disposition


@lru_cache(maxsize=1024)
def _fraction(percent: int | float) -> Fraction:
    return Fraction(str(percent))


def _effects(rule: Rule, facts: Facts) -> list[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    for action in rule.actions:
        entry: dict[str, Any] = {"action": action.name, **action.params}
        if action.name == "hold_back_percent":
            entry["units"] = percent_units(_fraction(action.params["percent"]), facts["available"])
        done.append(entry)
    return done


def _hit(rule: Rule, facts: Facts, done: list[dict[str, Any]]) -> RuleHit:
    names = variables_read(rule.conditions)
    return RuleHit(rule.name, {n: facts.get(n) for n in names}, done)


def _channel_outcome(
    matched: list[tuple[Rule, list[dict[str, Any]]]], facts: Facts, trace: bool
) -> ChannelOutcome:
    hold_back, excluded, hours = 0, False, None
    for _rule, done in matched:
        for entry in done:
            if entry["action"] == "exclude_location":
                excluded = True
            elif entry["action"] == "count_in_transit":
                hours = _longer(hours, entry["within_hours"])
            elif entry["units"] > hold_back:
                hold_back = entry["units"]
    hits = tuple(_hit(r, facts, d) for r, d in matched) if trace else ()
    return ChannelOutcome(hold_back, excluded, hits, hours)


def _longer(hours: float | None, more: float) -> float:
    """The longer of two count_in_transit windows (None: none yet)."""
    return float(more) if hours is None or more > hours else hours


def evaluate_channel(
    ruleset: Ruleset, channel: str, facts: Facts, trace: bool = False
) -> ChannelOutcome:
    """Hold-back and exclusion of one position for one channel (compiled predicates)."""
    rules = ruleset.channels.get(channel, ())
    if trace:
        matched = [(rule, _effects(rule, facts)) for rule in rules if rule.predicate(facts)]
        return _channel_outcome(matched, facts, trace)
    hold_back, excluded, hours = 0, False, None
    for rule in rules:
        if rule.predicate(facts):
            for action in rule.actions:
                if action.name == "exclude_location":
                    excluded = True
                    continue
                if action.name == "count_in_transit":
                    hours = _longer(hours, action.params["within_hours"])
                    continue
                units = (action.params["units"] if action.name == "hold_back_units" else
                         percent_units(_fraction(action.params["percent"]), facts["available"]))
                if units > hold_back:
                    hold_back = units
    return ChannelOutcome(hold_back, excluded, in_transit_hours=hours)


def evaluate_channel_reference(
    ruleset: Ruleset, channel: str, facts: Facts, trace: bool = False
) -> ChannelOutcome:
    """The same figures computed by business-rules ``run_all``, one rule at a time."""
    ctx = VOCABULARY["channel"]
    matched = []
    for rule in ruleset.channels.get(channel, ()):
        actions = ctx.actions_class(facts)
        if run_all([rule.business_rule()], ctx.variables_class(facts), actions):
            matched.append((rule, actions.done))
    return _channel_outcome(matched, facts, trace)


def evaluate_sourcing(ruleset: Ruleset, facts: Facts, trace: bool = False) -> SourcingOutcome:
    """Cost adjustment (sum of add_cost) and exclusion of one candidate location.

    The names of the matched rules always come back; trace adds the values they read.
    """
    cost, excluded, hits, matched = 0.0, False, [], []
    for rule in ruleset.sourcing.rules:
        if not rule.predicate(facts):
            continue
        matched.append(rule.name)
        for action in rule.actions:
            if action.name == "exclude_location":
                excluded = True
            else:
                cost += action.params["points"]
        if trace:
            hits.append(_hit(rule, facts, _effects(rule, facts)))
    return SourcingOutcome(cost, excluded, tuple(hits), tuple(matched))


def evaluate_sourcing_reference(ruleset: Ruleset, facts: Facts) -> SourcingOutcome:
    """Sourcing outcome computed by business-rules ``run_all``."""
    ctx = VOCABULARY["sourcing"]
    cost, excluded, matched = 0.0, False, []
    for rule in ruleset.sourcing.rules:
        actions = ctx.actions_class(facts)
        if not run_all([rule.business_rule()], ctx.variables_class(facts), actions):
            continue
        matched.append(rule.name)
        cost += sum(float(d["points"]) for d in actions.done if d["action"] == "add_cost")
        excluded = excluded or any(d["action"] == "exclude_location" for d in actions.done)
    return SourcingOutcome(cost, excluded, (), tuple(matched))


def evaluate_return(ruleset: Ruleset, facts: Facts, trace: bool = False) -> ReturnOutcome:
    """Disposition of one returned line: the first matching rule decides."""
    for rule in ruleset.returns.rules:
        if rule.predicate(facts):
            done = _effects(rule, facts)
            hits = (_hit(rule, facts, done),) if trace else ()
            return ReturnOutcome(rule.actions[0].params["disposition"], hits, rule.name)
    return ReturnOutcome(ruleset.returns.default_disposition)


def evaluate_return_reference(ruleset: Ruleset, facts: Facts) -> ReturnOutcome:
    """Return disposition computed by business-rules ``run_all`` (the first rule that
    triggers decides, as ``stop_on_first_trigger`` would; run rule by rule to name it)."""
    ctx = VOCABULARY["returns"]
    for rule in ruleset.returns.rules:
        actions = ctx.actions_class(facts)
        if run_all([rule.business_rule()], ctx.variables_class(facts), actions,
                   stop_on_first_trigger=True):
            return ReturnOutcome(actions.done[0]["disposition"], (), rule.name)
    return ReturnOutcome(ruleset.returns.default_disposition)
