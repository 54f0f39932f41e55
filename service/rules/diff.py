"""What changed in meaning between two ruleset versions (not a text diff)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service.rules.model import Rule, Ruleset


@dataclass(frozen=True)
class RuleChange:
    name: str
    what: tuple[str, ...]
    values: tuple[str, ...] = ()  # each changed value, "old → new"


@dataclass(frozen=True)
class SectionDiff:
    section: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[RuleChange, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing changed in the section."""
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class RulesetDiff:
    old: str
    new: str
    sections: tuple[SectionDiff, ...]
    weights: dict[str, tuple[Any, Any]]
    split: dict[str, tuple[Any, Any]]
    default_disposition: tuple[str, str] | None
    sells: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # per channel

    @property
    def empty(self) -> bool:
        """True when the two versions mean the same."""
        return not (self.sections or self.weights or self.split or self.default_disposition
                    or self.sells)

    def format_text(self) -> str:
        """Human-readable summary for the CLI."""
        lines = [f"{self.old} → {self.new}"]
        for section in self.sections:
            lines.append(f"  {section.section}:")
            lines += [f"    + {name}" for name in section.added]
            lines += [f"    - {name}" for name in section.removed]
            for c in section.changed:
                lines.append(f"    ~ {c.name} ({', '.join(c.what)})")
                lines += [f"        {value}" for value in c.values]
        for title, changes in (("channels sell", self.sells), ("sourcing weights", self.weights),
                               ("split", self.split)):
            if changes:
                lines.append(f"  {title}:")
                lines += [f"    {k}: {_shown(a)} → {_shown(b)}" for k, (a, b) in changes.items()]
        if self.default_disposition:
            old, new = self.default_disposition
            lines.append(f"  returns default_disposition: {old} → {new}")
        if self.empty:
            lines.append("  no change in meaning")
        return "\n".join(lines)


def _rule_changes(old: Rule, new: Rule, moved: bool) -> tuple[str, ...]:
    what = []
    if old.conditions != new.conditions:
        what.append("conditions")
    if old.actions != new.actions:
        what.append("actions")
    if old.description != new.description:
        what.append("description")
    if moved:
        what.append("order")
    return tuple(what)


def _shown(value: Any) -> str:
    """A value as the rule file writes it (JSON: strings quoted, null for absent)."""
    return json.dumps(value, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else list(value)


def _flat(value: Any, prefix: str) -> dict[str, Any]:
    """Leaves of a rule's conditions or actions by path (``actions.0.params.percent``)."""
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, child in items:
        out.update(_flat(child, f"{prefix}.{key}"))
    return out or {prefix: value}


def _values(old: Rule, new: Rule) -> tuple[str, ...]:
    """Each changed leaf of conditions and actions, "path: old → new"."""
    before = {**_flat(old.conditions, "conditions"), **_flat(_actions(old), "actions")}
    after = {**_flat(new.conditions, "conditions"), **_flat(_actions(new), "actions")}
    return tuple(f"{path}: {_shown(before.get(path))} → {_shown(after.get(path))}"
                 for path in sorted({*before, *after}, key=_path_order)
                 if before.get(path) != after.get(path))


def _actions(rule: Rule) -> list[dict[str, Any]]:
    return [{"name": a.name, "params": dict(a.params)} for a in rule.actions]


def _path_order(path: str) -> list[Any]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.split(".")]


def diff_rules(section: str, old: tuple[Rule, ...], new: tuple[Rule, ...],
               ordered: bool = False) -> SectionDiff:
    """Rules added, removed and changed (by name); order matters only where ``ordered``."""
    old_by, new_by = {r.name: r for r in old}, {r.name: r for r in new}
    common_old = [r.name for r in old if r.name in new_by]
    common_new = [r.name for r in new if r.name in old_by]
    changed = []
    for name in common_new:
        moved = ordered and common_old.index(name) != common_new.index(name)
        what = _rule_changes(old_by[name], new_by[name], moved)
        if what:
            changed.append(RuleChange(name, what, _values(old_by[name], new_by[name])))
    return SectionDiff(section, tuple(n for n in new_by if n not in old_by),
                       tuple(n for n in old_by if n not in new_by), tuple(changed))


def _changed(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (old.get(k), new.get(k)) for k in sorted({*old, *new})
            if old.get(k) != new.get(k)}


def diff(a: Ruleset, b: Ruleset) -> RulesetDiff:
    """The change in meaning from ``a`` to ``b``."""
    sections = [diff_rules(f"channels.{ch}", a.channels.get(ch, ()), b.channels.get(ch, ()))
                for ch in sorted({*a.channels, *b.channels})]
    sections.append(diff_rules("sourcing", a.sourcing.rules, b.sourcing.rules))
    sections.append(diff_rules("returns", a.returns.rules, b.returns.rules, ordered=True))
    disposition = (a.returns.default_disposition, b.returns.default_disposition)
    return RulesetDiff(
        a.ref, b.ref, tuple(s for s in sections if not s.empty),
        _changed(dict(a.sourcing.weights), dict(b.sourcing.weights)),
        _changed(a.sourcing.split.to_dict(), b.sourcing.split.to_dict()),
        disposition if disposition[0] != disposition[1] else None,
        {ch: (list(a.sells(ch)), list(b.sells(ch)))
         for ch in sorted({*a.channels, *b.channels}) if a.sells(ch) != b.sells(ch)},
    )
