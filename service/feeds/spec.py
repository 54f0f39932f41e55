"""A configured feed (one entry of `feeds:` in config.yaml), already schema-checked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import NotFound
from service.settings import PROJECT_ROOT, Settings

STOCK_KINDS = ("stock_snapshot", "stock_delta")
MASTER_KINDS = ("products", "locations")


@dataclass(frozen=True)
class FeedSpec:
    """What a feed reads, from where, in which format, and when it runs."""

    name: str
    kind: str
    source: str
    format: str
    location: str | None = None
    every_seconds: float | None = None
    cron: str | None = None

    @property
    def is_http(self) -> bool:
        return self.source.lower().startswith(("http://", "https://"))

    @property
    def is_stock(self) -> bool:
        return self.kind in STOCK_KINDS

    @property
    def scheduled(self) -> bool:
        return self.every_seconds is not None or self.cron is not None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def feed_specs(settings: Settings) -> list[FeedSpec]:
    """Every configured feed, relative directory globs resolved against the config's folder."""
    base = _base_dir(settings)
    specs = []
    for entry in settings.feeds:
        spec = FeedSpec(**{k: entry.get(k) for k in FeedSpec.__dataclass_fields__})
        if not spec.is_http and not Path(spec.source).is_absolute():
            spec = FeedSpec(**(spec.__dict__ | {"source": str(base / spec.source)}))
        specs.append(spec)
    return specs


def find_feed(settings: Settings, name: str) -> FeedSpec:
    """The feed called name, or NotFound listing the configured ones."""
    specs = feed_specs(settings)
    for spec in specs:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in specs) or "none"
    raise NotFound(f"No feed named {name!r} is configured (configured: {known}).")


def _base_dir(settings: Settings) -> Path:
    config = Path(settings.source)
    return config.resolve().parent if config.is_file() else PROJECT_ROOT
