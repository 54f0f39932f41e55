"""Feed tests: the fixed `ledger` policy, the small network, and feeds reading from tmp_path."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from service.feeds import sources
from service.settings import Settings, settings_from_dict


@pytest.fixture
def policy() -> str:
    return "ledger@1"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """The folder the directory feeds read (one sub-folder per feed)."""
    return tmp_path / "inbox"


@pytest.fixture
def feeds(inbox: Path) -> list[dict[str, Any]]:
    """The configured feeds (override in a module for others)."""
    for folder in ("counts", "json", "deltas", "products", "locations"):
        (inbox / folder).mkdir(parents=True, exist_ok=True)
    return [
        {"name": "counts", "kind": "stock_snapshot", "source": str(inbox / "counts" / "*.csv"),
         "format": "csv", "location": "DC-1", "every_seconds": 60},
        {"name": "json-counts", "kind": "stock_snapshot",
         "source": str(inbox / "json" / "*.json"), "format": "json"},
        {"name": "deltas", "kind": "stock_delta", "source": str(inbox / "deltas" / "*.ndjson"),
         "format": "ndjson", "cron": "*/5 * * * *"},
        {"name": "products", "kind": "products", "source": str(inbox / "products" / "*.csv"),
         "format": "csv"},
        {"name": "locations", "kind": "locations",
         "source": str(inbox / "locations" / "*.ndjson"), "format": "ndjson"},
    ]


@pytest.fixture
def settings(db_url: str, tmp_path: Path, rulesets_dir: Path, active_ruleset: str,
             feeds: list[dict[str, Any]]) -> Settings:
    """The test database, the ledger policy and the feeds."""
    return settings_from_dict(
        {"database_url": db_url,
         "rulesets": {"directory": str(rulesets_dir), "active": active_ruleset},
         "feeds": feeds},
        base_dir=tmp_path)


@pytest.fixture(autouse=True)
def files_settle_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests write files and read them at once: no settling time."""
    monkeypatch.setattr(sources, "SETTLE_SECONDS", 0.0)


@pytest.fixture
def drop(inbox: Path) -> Callable[..., Path]:
    """Write a file into a feed's folder, optionally with a given modification time."""

    def write(folder: str, name: str, text: str, modified: datetime | None = None) -> Path:
        path = inbox / folder / name
        path.write_text(text, encoding="utf-8")
        if modified is not None:
            os.utime(path, (modified.timestamp(), modified.timestamp()))
        return path

    return write
