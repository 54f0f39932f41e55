"""Load rule files: text → located problems, or an immutable, compiled Ruleset."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from service.rules.model import (
    DEFAULT_DISPOSITION,
    DEFAULT_SPLIT,
    DEFAULT_WEIGHTS,
    METHODS,
    Action,
    FulfilmentPolicy,
    Problem,
    ReturnsPolicy,
    Rule,
    Ruleset,
    SourcingPolicy,
    SplitPolicy,
    freeze,
)
from service.rules.predicates import compile_conditions
from service.rules.schema import schema_findings
from service.rules.source import (
    RuleSyntaxError,
    Source,
    decode,
    looks_like_json,
    parse_json,
    parse_yaml,
)
from service.rules.validation import Finding, check_document
from service.rules.vocabulary import VARIABLE_TYPES, VOCABULARY

DEFAULT_MAX_BYTES = 1_000_000
SUFFIXES = (".yaml", ".yml", ".json")
EXPERIMENTS_STEM = "experiments"  # rulesets/experiments.yaml: not a ruleset (rules/experiments)
_VERSION_FILE = re.compile(r"^v(\d+)\.(?:ya?ml|json)$", re.IGNORECASE)
_OPERATOR_INPUT = VOCABULARY["channel"].operators


@dataclass(frozen=True)
class LoadResult:
    """One file's outcome: a ruleset when it has no errors, and every problem found."""

    path: str
    ruleset: Ruleset | None
    problems: tuple[Problem, ...]
    version_position: tuple[int, int] = (1, 1)
    text: str | None = None  # the decoded text, when it could be read

    @property
    def ok(self) -> bool:
        """True when the file loaded without errors (warnings allowed)."""
        return self.ruleset is not None

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Only the errors."""
        return tuple(p for p in self.problems if p.severity == "error")


@dataclass(frozen=True)
class DirectoryLoad:
    """Every file under a directory, and the rulesets that loaded."""

    results: tuple[LoadResult, ...]

    @property
    def rulesets(self) -> tuple[Ruleset, ...]:
        """The rulesets that loaded cleanly."""
        return tuple(r.ruleset for r in self.results if r.ruleset is not None)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every problem of every file."""
        return tuple(p for r in self.results for p in r.problems)


def load_text(
    text: str | bytes, path: str = "<text>", max_bytes: int = DEFAULT_MAX_BYTES
) -> LoadResult:
    """Parse, validate and compile one rule file's text."""
    try:
        decoded, source = _parse(text, path, max_bytes)
    except RuleSyntaxError as exc:
        return LoadResult(path, None, (exc.problem(path),))
    if not isinstance(source.data, dict):
        kind = type(source.data).__name__
        problem = Problem(path, 1, 1, "",
                          f"expected a mapping with name, version and rules, got {kind}",
                          "error", "not-mapping")
        return LoadResult(path, None, (problem,), text=decoded)
    problems = _locate(path, source, [*_findings(source.data), *_name_findings(path, source.data)])
    errors = [p for p in problems if p.severity == "error"]
    version_position = source.position("/version")
    if errors:
        return LoadResult(path, None, problems, version_position, decoded)
    warnings = tuple(p for p in problems if p.severity == "warning")
    return LoadResult(path, build_ruleset(source.data, path, warnings), problems,
                      version_position, decoded)


def _parse(text: str | bytes, path: str, max_bytes: int) -> tuple[str, Source]:
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "replace"))
    if size > max_bytes:
        raise RuleSyntaxError("file-too-large", f"file is larger than the {max_bytes}-byte limit")
    if isinstance(text, bytes):
        text = decode(text)
    return text, parse_json(text) if looks_like_json(path, text) else parse_yaml(text)


def parse_text(text: str | bytes, path: str, max_bytes: int) -> tuple[str, Source]:
    """The decoded text and its located data (JSON by extension, else YAML)."""
    return _parse(text, path, max_bytes)


def is_experiments_file(path: str | Path) -> bool:
    """Whether a path names an experiments file (experiments.yaml/.yml/.json)."""
    name = Path(path).name.lower()
    return name.endswith(SUFFIXES) and name.rsplit(".", 1)[0] == EXPERIMENTS_STEM


def _name_findings(path: str, doc: dict[str, Any]) -> list[Finding]:
    """A file named vN (v3.yaml) must say ``version: N``: a copied file that still says the
    old version would otherwise clash with it, or replace it where the old one is absent."""
    named = _VERSION_FILE.match(os.path.basename(path))
    version = doc.get("version")
    if named is None or not isinstance(version, int) or isinstance(version, bool):
        return []
    if int(named.group(1)) == version:
        return []
    return [Finding("/version", f"the file name {os.path.basename(path)} says version "
                    f"{int(named.group(1))} but the file says version: {version}; make them "
                    "agree", code="version-file-name")]


def _findings(doc: dict[str, Any]) -> list[Finding]:
    """Schema findings, plus meaning findings not already covered by them."""
    schema = list(schema_findings(doc))
    meaning = check_document(doc)
    exact = {f.pointer for f in meaning}
    kept_schema = [f for f in schema if f.pointer not in exact]

    def covered(f: Finding) -> bool:
        return any(
            s.pointer != f.pointer
            and (f.pointer.startswith(s.pointer + "/") or s.pointer.startswith(f.pointer + "/"))
            for s in kept_schema
        )

    return kept_schema + [f for f in meaning if not covered(f)]


def _locate(path: str, source: Source, findings: Iterable[Finding]) -> tuple[Problem, ...]:
    problems = [
        Problem(path, *source.position(f.pointer), f.pointer, f.message, f.severity, f.code)
        for f in findings
    ]
    return tuple(sorted(problems, key=lambda p: (p.line, p.col, p.pointer)))


def load_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadResult:
    """Load one file, reading at most ``max_bytes + 1`` bytes of it."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        return LoadResult(
            name,
            None,
            (Problem(name, 1, 1, "", f"cannot read file: {exc.strerror}", "error", "unreadable"),),
        )
    return load_text(raw, name, max_bytes)


def rule_files(root: str | Path) -> list[Path]:
    """Every rule file under ``root``, recursively, in a stable order (hidden dirs skipped;
    an experiments file is not a ruleset: rules/experiments.py loads it)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder, f) for f in files
                     if f.lower().endswith(SUFFIXES) and not is_experiments_file(f))
    return sorted(found)


def load_directory(root: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> DirectoryLoad:
    """Load every rule file under ``root``; a second file with the same name@version fails."""
    results = []
    owners: dict[str, str] = {}
    for path in rule_files(root):
        result = load_file(path, max_bytes)
        if result.ruleset is not None:
            ref = result.ruleset.ref
            if ref in owners:
                result = _clash(result, owners[ref])
            else:
                owners[ref] = result.path
        results.append(result)
    return DirectoryLoad(tuple(results))


def _clash(result: LoadResult, owner: str) -> LoadResult:
    ref = result.ruleset.ref if result.ruleset else "?"
    problem = Problem(
        result.path,
        *result.version_position,
        "/version",
        f"{ref} is already defined by {owner}: give this file a new version",
        "error",
        "version-clash",
    )
    return LoadResult(result.path, None, (*result.problems, problem), result.version_position)


def normalise_conditions(node: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical condition tree: no ``value`` for operators that take none."""
    for key in ("all", "any"):
        if key in node:
            return {key: [normalise_conditions(child) for child in node[key]]}
    out = {"name": node["name"], "operator": node["operator"]}
    if _OPERATOR_INPUT[VARIABLE_TYPES[node["name"]]][node["operator"]] != "none":
        out["value"] = node.get("value")
    return out


def build_rule(raw: Mapping[str, Any]) -> Rule:
    """A compiled, frozen rule from a validated rule document."""
    conditions = normalise_conditions(raw["conditions"])
    actions = tuple(
        Action(a["name"], MappingProxyType(dict(a.get("params") or {}))) for a in raw["actions"]
    )
    return Rule(
        raw["name"],
        freeze(conditions),
        actions,
        raw.get("description"),
        compile_conditions(conditions),
    )


def build_ruleset(doc: Mapping[str, Any], path: str, warnings: tuple[Problem, ...] = ()) -> Ruleset:
    """An immutable Ruleset from a validated document, defaults filled in."""
    channels = {
        ch: tuple(build_rule(r) for r in body["rules"])
        for ch, body in (doc.get("channels") or {}).items()
    }
    sells = {ch: tuple(m for m in METHODS if m in body["sells"])
             for ch, body in (doc.get("channels") or {}).items() if "sells" in body}
    sourcing = doc.get("sourcing") or {}
    returns = doc.get("returns") or {}
    ruleset = Ruleset(
        name=doc["name"],
        version=doc["version"],
        description=doc.get("description"),
        path=path,
        content_hash="",
        channels=MappingProxyType(channels),
        sourcing=SourcingPolicy(
            MappingProxyType({**DEFAULT_WEIGHTS, **(sourcing.get("weights") or {})}),
            tuple(build_rule(r) for r in sourcing.get("rules") or ()),
            SplitPolicy(**{**DEFAULT_SPLIT, **(sourcing.get("split") or {})}),
        ),
        returns=ReturnsPolicy(
            tuple(build_rule(r) for r in returns.get("rules") or ()),
            returns.get("default_disposition", DEFAULT_DISPOSITION),
        ),
        warnings=warnings,
        fulfilment=FulfilmentPolicy(MappingProxyType(dict(
            (doc.get("fulfilment") or {}).get("accept_within_minutes") or {}))),
        channel_sells=MappingProxyType(sells),
    )
    return dataclasses.replace(ruleset, content_hash=content_hash(ruleset.to_dict()))


def content_hash(document: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a normalised document."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
