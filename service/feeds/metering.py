"""The bytes and rows a payload's reading reports, whichever path reads it.

CountedStream wraps a binary stream and reports the bytes read through it once per read call
(a buffer's or a block's worth, never a row), so watching a file costs a call per block.
What it reports to is a Meter: the CLI's progress bars are one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol


class Meter(Protocol):
    """What reading one payload reports to: bytes read and, when known, rows read."""

    def advance(self, count: int = 1) -> None: ...

    def add_rows(self, count: int) -> None: ...


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
