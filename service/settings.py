"""Settings: config.yaml validated against schemas/config.schema.json, plus env overrides."""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT = PACKAGE_DIR.parent
# A source checkout keeps config.yaml, rulesets/ and var/ beside the package; an installed
# wheel has none of them, and looks for them in the directory the command runs in.
PROJECT_ROOT = CHECKOUT if (CHECKOUT / "pyproject.toml").is_file() else Path.cwd()
# schemas/ is one folder in the checkout; a wheel carries it as service/schemas (pyproject).
SCHEMAS_DIR = (PACKAGE_DIR / "schemas") if (PACKAGE_DIR / "schemas").is_dir() else (
    CHECKOUT / "schemas")
DEFAULT_CONFIG = PROJECT_ROOT / "config.yaml"


class ConfigError(Exception):
    """The configuration is unusable; `problems` names each key and what was expected."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """Validated settings the app factory, scheduler and CLI are built from."""

    database_url: str
    rulesets_dir: Path
    active_ruleset: str
    raw: dict[str, Any] = field(default_factory=dict)
    source: str = "<defaults>"

    def section(self, name: str) -> dict[str, Any]:
        """A config section with the schema's defaults filled in."""
        return _with_defaults(name, self.raw.get(name) or {})

    @property
    def feeds(self) -> list[dict[str, Any]]:
        return list(self.raw.get("feeds") or [])


def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in schemas/."""
    return json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))


def _with_defaults(section: str, values: dict[str, Any]) -> dict[str, Any]:
    defaults = _section_defaults(section)  # copied deep only when a default can be changed
    return {**(dict(defaults) if _scalars_only(section) else copy.deepcopy(defaults)),
            **values}


@functools.cache
def _scalars_only(section: str) -> bool:
    """Whether every default of the section is a string, number, boolean or null."""
    return all(isinstance(v, str | int | float | bool | None)
               for v in _section_defaults(section).values())


@functools.cache
def _section_defaults(section: str) -> dict[str, Any]:
    """The schema's defaults of a config section (read once per process: hot paths ask)."""
    props = load_schema("config.schema.json")["properties"].get(section, {}).get("properties", {})
    return {k: spec["default"] for k, spec in props.items() if "default" in spec}


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read, override from the environment, validate; raise ConfigError naming every problem."""
    env = dict(os.environ if env is None else env)
    config_path = Path(path or env.get("OMS_CONFIG") or DEFAULT_CONFIG)
    raw = _read_yaml(config_path)
    # Paths given in the environment are relative to where the command runs, not to the file.
    if "OMS_DATABASE_URL" in env:
        raw["database_url"] = _absolute_sqlite(env["OMS_DATABASE_URL"], Path.cwd())
    if "OMS_RULESETS_DIR" in env:
        rulesets = raw["rulesets"] = dict(raw.get("rulesets") or {})
        rulesets["directory"] = str(Path(env["OMS_RULESETS_DIR"]).resolve())
    return settings_from_dict(raw, base_dir=config_path.resolve().parent, source=str(config_path))


def settings_from_dict(
    raw: dict[str, Any], base_dir: Path = PROJECT_ROOT, source: str = "<dict>"
) -> Settings:
    """Validate a config mapping and build Settings (relative paths from base_dir)."""
    raw = _renamed_keys(raw, source)
    problems = [
        _describe(e) for e in Draft7Validator(load_schema("config.schema.json")).iter_errors(raw)
    ]
    active = _active_problems(raw)
    if active:  # said better than the pattern's message
        problems = [p for p in problems if not p.startswith("rulesets.active:")] + active
    problems += _zone_problems(raw)
    problems += _schedule_problems(raw)
    problems += _replica_problems(raw)
    if problems:
        raise ConfigError(source, sorted(problems))
    rulesets = raw["rulesets"]
    return Settings(
        database_url=_absolute_sqlite(raw["database_url"], base_dir),
        rulesets_dir=(base_dir / rulesets["directory"]).resolve(),
        active_ruleset=rulesets["active"],
        raw=raw,
        source=source,
    )


RENAMED = {("inventory", "hold_expiry_seconds"): "reservation_expiry_seconds"}


def _renamed_keys(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """The config with keys renamed since an earlier release moved to their new names (a
    warning in the log says which), so an existing config.yaml keeps working."""
    for (section, old), new in RENAMED.items():
        values = raw.get(section)
        if isinstance(values, dict) and old in values:
            values = dict(values)
            value = values.pop(old)
            values.setdefault(new, value)
            raw = {**raw, section: values}
            log.warning("%s: %s.%s is now %s.%s; please rename it", source, section, old,
                        section, new)
    return raw


def _active_problems(raw: dict[str, Any]) -> list[str]:
    """A bare name (which used to mean "its latest version") says what to write instead."""
    active = (raw.get("rulesets") or {}).get("active")
    if isinstance(active, str) and active and "@" not in active:
        return [f"rulesets.active: {active!r} names no version: pin one "
                f"({active}@<version>) or follow the latest explicitly ({active}@latest)"]
    return []


def _zone_problems(raw: dict[str, Any]) -> list[str]:
    """Shipping zones are bands of increasing max_km (the first band a distance fits wins)."""
    zones = ((raw.get("sourcing") or {}).get("shipping") or {}).get("zones") or []
    limits = [z.get("max_km") for z in zones if isinstance(z, dict)]
    if all(isinstance(x, int | float) for x in limits) and limits != sorted(set(limits)):
        return ["sourcing.shipping.zones: max_km must increase from one zone to the next"]
    return []


def _schedule_problems(raw: dict[str, Any]) -> list[str]:
    """Each feed runs on one schedule, and its crontab line is one the scheduler accepts."""
    feeds = raw.get("feeds")
    problems = []
    for index, feed in enumerate(feeds if isinstance(feeds, list) else []):
        if not isinstance(feed, dict):
            continue
        name = f"feed {feed.get('name')!r}"
        if feed.get("every_seconds") is not None and feed.get("cron") is not None:
            problems.append(f"feeds.{index}: {name} sets both every_seconds and cron; "
                            "give one schedule")
        if isinstance(feed.get("cron"), str):
            problems += _cron_problems(f"feeds.{index}.cron", name, feed["cron"])
    settlements = raw.get("settlements")
    if isinstance(settlements, dict) and isinstance(settlements.get("cron"), str):
        problems += _cron_problems("settlements.cron", "the settlement export",
                                   settlements["cron"])
    return problems


def _replica_problems(raw: dict[str, Any]) -> list[str]:
    """Read replicas are PostgreSQL streaming replicas of a PostgreSQL database_url."""
    urls = (raw.get("database") or {}).get("read_urls") or []
    urls = [u for u in urls if isinstance(u, str)] if isinstance(urls, list) else []
    if not urls:
        return []
    primary = raw.get("database_url")
    if isinstance(primary, str) and not _postgres(primary):
        return ["database.read_urls: read replicas need a PostgreSQL database_url"]
    return [f"database.read_urls.{i}: expected a postgresql+psycopg:// URL"
            for i, url in enumerate(urls) if not _postgres(url)]


def _postgres(url: str) -> bool:
    try:
        return make_url(url).get_backend_name() == "postgresql"
    except ArgumentError:
        return False


def _cron_problems(key: str, name: str, expression: str) -> list[str]:
    # imported here: only configs with a crontab line pay for APScheduler's import
    from service import crontab

    try:
        crontab.trigger(expression)
    except ValueError as exc:
        return [f"{key}: {expression!r} of {name} is not a valid five-field crontab "
                f"expression ({exc})"]
    return []


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), ["file not found"]) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["the file must hold a mapping of settings"])
    return data


def _describe(error: Any) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        return f"{key}: {error.message} (unknown key)"
    return f"{key}: {error.message}"


def _absolute_sqlite(url: str, base_dir: Path) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # the engine reports a malformed URL when it connects
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    db_path = (base_dir / parsed.database).resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    return parsed.set(database=str(db_path)).render_as_string(hide_password=False)
