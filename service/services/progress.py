"""A small terminal progress bar for long CLI work (stderr; quiet when not a terminal)."""

from __future__ import annotations

import sys
import time
from types import TracebackType


class ProgressBar:
    """Counts work done and redraws at most ten times a second."""

    def __init__(self, label: str, total: int | None = None):
        self.label = label
        self.total = total
        self.done = 0
        self._started = time.monotonic()
        self._drawn = 0.0
        self._tty = sys.stderr.isatty()

    def advance(self, count: int = 1) -> None:
        """Record count more units done."""
        self.done += count
        now = time.monotonic()
        if self._tty and now - self._drawn > 0.1:
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self._started, 1e-9)
        if self.total:
            share = min(1.0, self.done / self.total)
            bar = "#" * int(share * 30)
            text = f"[{bar:<30}] {self.done}/{self.total}"
        else:
            text = f"{self.done}"
        sys.stderr.write(f"\r{self.label}: {text} ({rate:,.0f}/s)")
        sys.stderr.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tty:
            self._draw(time.monotonic())
            sys.stderr.write("\n")
