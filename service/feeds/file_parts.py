"""Cutting a large CSV snapshot into parts that separate connections stage at once.

A cut falls where one location's lines end and the next one's begin, so each part holds
whole locations when the file is grouped by location (as store and DC exports are); a file
whose lines either side of the cut share a location is not cut. The cut is a guess read
from the lines near it: the caller checks, from what the database counted, that no location
landed in two parts (``disjoint``) and compares the whole file in one place when one did.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from typing import IO

BLOCK = 1 << 20
WINDOW = 8 << 20  # how far past its target a cut may move to reach a location's end
SAMPLE = 64 << 10  # the lines either side of a cut that must not share a location
LOCATION_FIELDS = ("location", "location_id")  # the fields a row's location comes from


class PartStopped(Exception):
    """Another part failed: this one stops reading."""


def file_parts(stream: IO[bytes], header: Sequence[str], min_bytes: int, most: int
               ) -> list[int]:
    """Offsets [data start, cut, ..., end] cutting the rest of the stream into at most
    ``most`` parts at location boundaries; [start, end] for a file under ``min_bytes`` of
    data, one without a location field, or one without a boundary near the targets.

    The stream is at the first data line; it is left there.
    """
    start = stream.tell()
    end = stream.seek(0, os.SEEK_END)
    columns = [max(i for i, name in enumerate(header) if name == field)
               for field in LOCATION_FIELDS if field in header]
    cuts = [start]
    if columns and end - start >= min_bytes:
        for k in range(1, most):
            cut = _boundary(stream, start + (end - start) * k // most, end, columns)
            if cut is not None and cuts[-1] < cut < end:
                cuts.append(cut)
    stream.seek(start)
    return [*cuts, end]


def _boundary(stream: IO[bytes], near: int, end: int, columns: list[int]) -> int | None:
    """The offset of the first line after ``near`` whose location differs from the line
    before it (within WINDOW bytes), or None; None too when the lines just before and just
    after that point share a location (a file not grouped by location)."""
    low = max(0, near - SAMPLE)
    stream.seek(low)
    window = stream.read(min(near - low + WINDOW, end - low))
    cut = _first_change(window, window.find(b"\n", near - low) + 1, columns)
    if cut is None:
        return None
    before = _keys(window, window.find(b"\n", max(0, cut - SAMPLE)) + 1, cut, columns)
    after = _keys(window, cut, min(len(window), cut + SAMPLE), columns)
    return None if before & after else low + cut


def _first_change(window: bytes, line_start: int, columns: list[int]) -> int | None:
    """The offset of the first line from line_start whose location differs from the one
    before it."""
    if line_start == 0:
        return None
    first = None
    while (line_end := window.find(b"\n", line_start)) >= 0:
        key = _location_key(window[line_start:line_end], columns)
        if first is None:
            first = key
        elif key != first:
            return line_start
        line_start = line_end + 1
    return None


def _keys(window: bytes, start: int, stop: int, columns: list[int]) -> set[tuple[bytes, ...]]:
    """The locations of the whole lines between start (a line start) and stop."""
    keys = set()
    while start < stop and (line_end := window.find(b"\n", start, stop)) >= 0:
        keys.add(_location_key(window[start:line_end], columns))
        start = line_end + 1
    return keys


def _location_key(line: bytes, columns: list[int]) -> tuple[bytes, ...]:
    fields = line.rstrip(b"\r").split(b",")
    return tuple(fields[i].strip() if i < len(fields) else b"" for i in columns)


def disjoint(location_sets: Sequence[set[str]]) -> bool:
    """Whether no location is in two of the sets."""
    return sum(map(len, location_sets)) == len(set().union(*location_sets))


class SharedReader:
    """Byte ranges of one seekable stream read from several threads, a block at a time."""

    def __init__(self, stream: IO[bytes], block: int | None = None) -> None:
        self.stream, self._block = stream, block or BLOCK
        self._lock = threading.Lock()
        self._stopped = False

    def blocks(self, start: int, end: int) -> Iterator[bytes]:
        """The bytes from start to end; raises PartStopped once stop() was called."""
        position = start
        while position < end:
            if self._stopped:
                raise PartStopped
            with self._lock:  # (one read at a time: a counted stream's count stays whole)
                self.stream.seek(position)
                block = self.stream.read(min(self._block, end - position))
            if not block:
                return
            position += len(block)
            yield block

    def stop(self) -> None:
        """Make every part still reading stop (raise PartStopped)."""
        self._stopped = True

    def restart(self) -> SharedReader:
        """Read again after stop()."""
        self._stopped = False
        return self
