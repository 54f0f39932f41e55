"""Registry of every loaded ruleset version under a directory; thread-safe hot reload.

Versions are immutable: once ``name@version`` is loaded, a file that later says something
different for it is an error and the loaded one keeps serving. Activation state is not
kept here (the service stores it in the database).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from service.rules.loader import DEFAULT_MAX_BYTES, LoadResult, load_directory
from service.rules.model import Problem, Ruleset


class RulesetNotFound(LookupError):
    """No loaded ruleset matches the name or spec."""

    code = "ruleset-not-found"


@dataclass(frozen=True)
class ReloadReport:
    added: tuple[str, ...]
    unchanged: tuple[str, ...]
    errors: tuple[Problem, ...]


def parse_spec(spec: str) -> tuple[str, int | None]:
    """``"name"`` → (name, None); ``"name@3"`` → (name, 3)."""
    name, _, version = spec.partition("@")
    if not version:
        return name, None
    if not version.isdigit():
        raise RulesetNotFound(f"bad ruleset spec '{spec}': expected name or name@version")
    return name, int(version)


class Registry:
    """Every valid ruleset version found under ``root``."""

    def __init__(self, root: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._versions: Mapping[str, Mapping[int, Ruleset]] = MappingProxyType({})
        self._problems: Mapping[str, tuple[Problem, ...]] = MappingProxyType({})

    def reload(self) -> ReloadReport:
        """Load the directory again; add new versions, refuse changed ones."""
        load = load_directory(self.root, self.max_bytes)
        with self._lock:
            versions = {name: dict(v) for name, v in self._versions.items()}
            added, unchanged, problems = [], [], {}
            for result in load.results:
                outcome = self._merge(result, versions)
                if outcome == "added":
                    added.append(result.ruleset.ref if result.ruleset else "")
                elif outcome == "unchanged":
                    unchanged.append(result.ruleset.ref if result.ruleset else "")
                else:
                    problems[result.path] = outcome
            self._versions = MappingProxyType({n: MappingProxyType(v)
                                               for n, v in versions.items()})
            self._problems = MappingProxyType(problems)
        errors = tuple(p for ps in problems.values() for p in ps if p.severity == "error")
        return ReloadReport(tuple(added), tuple(unchanged), errors)

    @staticmethod
    def _merge(result: LoadResult,
               versions: dict[str, dict[int, Ruleset]]) -> str | tuple[Problem, ...]:
        ruleset = result.ruleset
        if ruleset is None:
            return result.problems
        known = versions.setdefault(ruleset.name, {}).get(ruleset.version)
        if known is None:
            versions[ruleset.name][ruleset.version] = ruleset
            return "added"
        if known.content_hash == ruleset.content_hash:
            return "unchanged"
        return (Problem(result.path, 1, 1, "/version", f"{ruleset.ref} is already loaded with "
                        "different content; published versions never change: give it a new "
                        f"version (still serving the one from {known.path})", "error",
                        "version-changed"),)

    @property
    def problems(self) -> Mapping[str, tuple[Problem, ...]]:
        """Problems of every file that failed to load in the last reload, by path."""
        return self._problems

    def names(self) -> list[str]:
        """Names of the loaded rulesets."""
        return sorted(self._versions)

    def versions(self, name: str | None = None) -> list[Ruleset]:
        """Loaded versions (of one name, or of all), oldest first."""
        current = self._versions
        names = [name] if name is not None else sorted(current)
        return [rs for n in names for _v, rs in sorted(current.get(n, {}).items())]

    def get(self, name: str, version: int | None = None) -> Ruleset:
        """One version, or the latest when ``version`` is None."""
        found = self._versions.get(name)
        if not found:
            raise RulesetNotFound(f"no ruleset named '{name}' is loaded")
        if version is None:
            return found[max(found)]
        if version not in found:
            raise RulesetNotFound(f"{name}@{version} is not loaded")
        return found[version]

    def resolve(self, spec: str) -> Ruleset:
        """``name`` (its latest version) or ``name@version``."""
        return self.get(*parse_spec(spec))
