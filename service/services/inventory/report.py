"""What a push or a feed run did, row by row; and a snapshot refused by a safety limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.feeds.stock_rows import RowError


@dataclass
class IngestReport:
    """What a push or a feed run did, row by row."""

    kind: str
    status: str = "ok"
    rows_read: int = 0
    applied: int = 0
    unchanged: int = 0
    stale: int = 0
    zeroed: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    ruleset: str | None = None

    def reject(self, errors: list[RowError]) -> None:
        self.rejected += len(errors)
        self.errors.extend(e.to_dict() for e in errors)
        self.errors.sort(key=lambda e: e["line"])

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class SnapshotLimitBreached(Exception):
    """A snapshot breaks a safety limit; nothing of it is applied (the API's 409 is
    errors.SnapshotRefused).

    ``errors`` and ``rows_read`` are set when the refusing path read the file itself (the
    COPY path, whose rows never become StockRows); otherwise the caller has them.
    """

    def __init__(self, message: str, errors: list[RowError] | None = None,
                 rows_read: int = 0) -> None:
        super().__init__(message)
        self.errors, self.rows_read = errors, rows_read
