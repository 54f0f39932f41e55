"""Terminal progress for long CLI work, and the byte count of the streams it watches.

ProgressBar draws on stderr at most once every REDRAW_SECONDS, and nothing at all when stderr
is not a terminal. CountedStream wraps a binary stream and reports the bytes read through it
once per read call (a buffer's or a block's worth, never a row), so watching a file costs a
call per block on the paths that read it.
"""

from __future__ import annotations

import io
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import IO, Any, Protocol

REDRAW_SECONDS = 0.1
WIDTH = 30  # characters of the bar itself
BYTES = "B"  # the unit of a bar counting bytes (shown as KiB, MiB, ...)
_SCALES = ("B", "KiB", "MiB", "GiB", "TiB")


class Meter(Protocol):
    """What reading one payload reports to: bytes read and, when known, rows read."""

    def advance(self, count: int = 1) -> None: ...

    def add_rows(self, count: int) -> None: ...


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


class CountedStream(io.BufferedIOBase):
    """A binary stream reporting the bytes read through it to on_bytes, once per read call.

    Reads inside ``uncounted`` are not reported (a look ahead is not progress), and
    ``recount`` takes back what is read again. Closing it closes the wrapped stream.
    """

    def __init__(self, stream: IO[bytes], on_bytes: Callable[[int], None]) -> None:
        super().__init__()
        self._stream, self._on_bytes = stream, on_bytes
        self.counted = 0
        self.paused = False

    def _count(self, size: int) -> None:
        if size and not self.paused:
            self.counted += size
            self._on_bytes(size)

    def recount(self, counted: int) -> None:
        """Stand at counted bytes again (reporting the difference)."""
        self._on_bytes(counted - self.counted)
        self.counted = counted

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read(-1 if size is None else size)
        self._count(len(data))
        return data

    def read1(self, size: int = -1) -> bytes:
        reader = getattr(self._stream, "read1", self._stream.read)
        data = reader(size)
        self._count(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        size = self._stream.readinto(buffer)  # type: ignore[attr-defined]
        self._count(size or 0)
        return size

    def readline(self, size: int | None = -1) -> bytes:
        data = self._stream.readline(-1 if size is None else size)
        self._count(len(data))
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._stream.seekable()

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


@contextmanager
def uncounted(stream: IO[bytes]) -> Iterator[None]:
    """Reads of stream inside the block are not progress (any stream; counted or not)."""
    if not isinstance(stream, CountedStream):
        yield
        return
    paused, stream.paused = stream.paused, True
    try:
        yield
    finally:
        stream.paused = paused


def recount(stream: IO[bytes], counted: int) -> None:
    """A counted stream's progress stands at counted bytes again; others are left alone."""
    if isinstance(stream, CountedStream):
        stream.recount(counted)
