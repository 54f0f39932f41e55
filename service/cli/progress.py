"""Terminal progress for long CLI work: a bar on stderr per file or task.

ProgressBar draws on stderr at most once every REDRAW_SECONDS, and nothing at all when stderr
is not a terminal. It is a feeds.metering.Meter: a payload's reading reports to it.
"""

from __future__ import annotations

import math
import sys
import time
from types import TracebackType

REDRAW_SECONDS = 0.1
WIDTH = 30  # characters of the bar itself
BYTES = "B"  # the unit of a bar counting bytes (shown as KiB, MiB, ...)
_SCALES = ("B", "KiB", "MiB", "GiB", "TiB")


class ProgressBar:
    """Counts work done (and rows read, shown beside it) and redraws a line on stderr."""

    def __init__(self, label: str, total: int | None = None, unit: str = "") -> None:
        self.label, self.total, self.unit = label, total, unit
        self.done = 0
        self.rows = 0
        self._started = time.monotonic()
        self._drawn = -math.inf
        self._width = 0
        self._tty = sys.stderr.isatty()

    def advance(self, count: int = 1) -> None:
        """Record count more units done."""
        self.done += count
        self._tick()

    def add_rows(self, count: int) -> None:
        """Record count more rows read."""
        self.rows += count
        self._tick()

    def _tick(self) -> None:
        if self._tty:
            now = time.monotonic()
            if now - self._drawn >= REDRAW_SECONDS:
                self._drawn = now
                self._draw(self.line(now))

    def line(self, now: float, final: bool = False) -> str:
        """The text drawn at time now (the last line: with the time taken, not the rate)."""
        elapsed = max(now - self._started, 1e-9)
        text = f"{self.label}: {self._amount()}"
        if self.rows:
            text += f", {self.rows:,} rows"
        if final:
            return f"{text} in {elapsed:.1f} s"
        return f"{text} ({self._quantity(self.done / elapsed)}/s)"

    def _amount(self) -> str:
        if self.total is None:
            return self._quantity(self.done)
        share = min(1.0, self.done / self.total) if self.total > 0 else 1.0
        bar = "#" * int(share * WIDTH)
        return (f"[{bar:<{WIDTH}}] {int(share * 100):3d}% "
                f"{self._quantity(self.done, self.total)}")

    def _quantity(self, value: float, total: float | None = None) -> str:
        """value (of total) in the bar's unit: bytes scaled to KiB, MiB, ..."""
        if self.unit != BYTES:
            counted = f"{value:,.0f}" if total is None else f"{value:,.0f}/{total:,.0f}"
            return f"{counted} {self.unit}" if self.unit else counted
        power = min(len(_SCALES) - 1, int(math.log(max(total or value, 1), 1024)))
        digits = 1 if power else 0
        counted = f"{value / 1024 ** power:.{digits}f}"
        if total is not None:
            counted += f"/{total / 1024 ** power:.{digits}f}"
        return f"{counted} {_SCALES[power]}"

    def _draw(self, text: str) -> None:
        sys.stderr.write("\r" + text.ljust(self._width))
        sys.stderr.flush()
        self._width = len(text)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tty:
            self._draw(self.line(time.monotonic(), final=True))
            sys.stderr.write("\n")
            sys.stderr.flush()
