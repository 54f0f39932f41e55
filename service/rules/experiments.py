"""Load rulesets/experiments.yaml: text → located problems, or the experiments it defines.

Checked like a rule file (JSON Schema, then meaning, every problem at file:line:col): keys
unique, variant names unique, start before end, weights that GrowthBook would replace with
equal shares (a warning), a running (or shadow) experiment's rulesets published and
loadable, and no channel claimed by two running experiments (one without channels claims
every channel).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from service.domain.experiments.assignment import valid_weights
from service.domain.experiments.model import Experiment, Variant
from service.rules.loader import DEFAULT_MAX_BYTES, EXPERIMENTS_STEM, SUFFIXES, parse_text
from service.rules.model import Problem
from service.rules.schema import validator_findings
from service.rules.source import RuleSyntaxError, Source
from service.rules.validation import Finding, check_numbers
from service.settings import load_schema

KnownRef = Callable[[str], bool]  # whether a ruleset name@version is published and loads
CHECKED = ("running", "shadow")  # statuses whose rulesets must exist now


@dataclass(frozen=True)
class ExperimentsLoad:
    """The file's outcome: its experiments when it has no errors, and every problem."""

    path: str
    experiments: tuple[Experiment, ...] | None
    problems: tuple[Problem, ...]
    text: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file loaded without errors (warnings allowed)."""
        return self.experiments is not None

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Only the errors."""
        return tuple(p for p in self.problems if p.severity == "error")


def experiments_file(root: str | Path) -> Path | None:
    """The experiments file of a rules folder (experiments.yaml, .yml or .json), if any."""
    for suffix in SUFFIXES:
        path = Path(root, EXPERIMENTS_STEM + suffix)
        if path.is_file():
            return path
    return None


def load_experiments_file(path: str | Path, known: KnownRef | None = None,
                          max_bytes: int = DEFAULT_MAX_BYTES) -> ExperimentsLoad:
    """Load an experiments file from disk (see load_experiments)."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        return ExperimentsLoad(name, None, (Problem(name, 1, 1, "", f"cannot read file: "
                                                    f"{exc.strerror}", "error", "unreadable"),))
    return load_experiments(raw, name, known, max_bytes)


def load_experiments(text: str | bytes, path: str = "<text>", known: KnownRef | None = None,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> ExperimentsLoad:
    """Parse and check an experiments file; ``known`` (when given) says which ruleset
    versions exist, for the experiments whose status needs them."""
    try:
        decoded, source = parse_text(text, path, max_bytes)
    except RuleSyntaxError as exc:
        return ExperimentsLoad(path, None, (exc.problem(path),))
    doc = source.data
    if not isinstance(doc, dict):
        return ExperimentsLoad(path, None, (Problem(
            path, 1, 1, "", "expected a mapping with an `experiments` list, got "
            f"{type(doc).__name__}", "error", "not-mapping"),), decoded)
    findings = list(validator_findings(_validator(), doc))
    if not findings:
        findings = [*check_numbers(doc, ""), *_meaning(doc, known)]
    problems = _locate(path, source, findings)
    if any(p.severity == "error" for p in problems):
        return ExperimentsLoad(path, None, problems, decoded)
    return ExperimentsLoad(path, tuple(_build(raw) for raw in doc["experiments"]), problems,
                           decoded)


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    return Draft7Validator(load_schema("experiments.schema.json"))


def _locate(path: str, source: Source, findings: list[Finding]) -> tuple[Problem, ...]:
    problems = [Problem(path, *source.position(f.pointer), f.pointer, f.message, f.severity,
                        f.code) for f in findings]
    return tuple(sorted(problems, key=lambda p: (p.line, p.col, p.pointer)))


def _meaning(doc: dict[str, Any], known: KnownRef | None) -> Iterator[Finding]:
    """Meaning checks on a schema-valid document."""
    first: dict[str, int] = {}
    claims: dict[str, str] = {}  # channel ("*": every channel) → the running experiment
    for index, raw in enumerate(doc["experiments"]):
        at = f"/experiments/{index}"
        key = raw["key"]
        if key in first:
            yield Finding(f"{at}/key", f"duplicate experiment key '{key}' (first used by "
                          f"experiment {first[key]})", code="duplicate-experiment")
        first.setdefault(key, index)
        yield from _variant_findings(at, raw, known)
        yield from _window_findings(at, raw)
        if raw["status"] == "running":
            yield from _claim(at, raw, claims)


def _variant_findings(at: str, raw: dict[str, Any], known: KnownRef | None
                      ) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, variant in enumerate(raw["variants"]):
        if variant["name"] in seen:
            yield Finding(f"{at}/variants/{i}/name", f"duplicate variant name "
                          f"'{variant['name']}'", code="duplicate-variant")
        seen.add(variant["name"])
        if known is not None and raw["status"] in CHECKED and not known(variant["ruleset"]):
            yield Finding(f"{at}/variants/{i}/ruleset", f"ruleset {variant['ruleset']} is not "
                          f"published (or does not load): a {raw['status']} experiment needs "
                          "every variant's ruleset", code="unknown-ruleset")
    weights = [v["weight"] for v in raw["variants"]]
    if not valid_weights(weights, len(weights)):
        yield Finding(f"{at}/variants", f"the weights add up to {sum(weights):g}, not 1: every "
                      "variant gets an equal share instead (as GrowthBook does)", "warning",
                      "weights-not-one")


def _window_findings(at: str, raw: dict[str, Any]) -> Iterator[Finding]:
    start, end = raw.get("start"), raw.get("end")
    if start is not None and end is not None and parse_time(end) <= parse_time(start):
        yield Finding(f"{at}/end", f"end ({end}) must be after start ({start})",
                      code="empty-window")


def _claim(at: str, raw: dict[str, Any], claims: dict[str, str]) -> Iterator[Finding]:
    """A channel an earlier running experiment claims is an error on this one."""
    mine = raw.get("channels") or ["*"]
    overlap = [c for c in (list(claims) if "*" in mine else [*mine, "*"]) if c in claims]
    if overlap:
        shared = "every channel" if overlap[0] == "*" or mine == ["*"] else \
            f"channel '{overlap[0]}'"
        yield Finding(f"{at}/channels" if "channels" in raw else f"{at}/status",
                      f"{shared} is already claimed by running experiment "
                      f"'{claims[overlap[0]]}': two running experiments may not share a "
                      "channel (one without channels claims every channel)",
                      code="channel-claimed")
    for channel in mine:
        claims.setdefault(channel, raw["key"])


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with a zone (the schema's pattern has checked it)."""
    return datetime.fromisoformat(text.replace(" ", "T"))


def _build(raw: dict[str, Any]) -> Experiment:
    channels = raw.get("channels")
    return Experiment(
        key=raw["key"], unit=raw["unit"], coverage=float(raw["coverage"]),
        status=raw["status"], seed=raw.get("seed"),
        variants=tuple(Variant(v["name"], v["ruleset"], float(v["weight"]))
                       for v in raw["variants"]),
        channels=tuple(channels) if channels is not None else None,
        start=parse_time(raw["start"]) if "start" in raw else None,
        end=parse_time(raw["end"]) if "end" in raw else None,
        description=raw.get("description"))
