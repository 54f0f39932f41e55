"""PostgreSQL: a CSV snapshot file staged by COPY and compared with the positions.

The file's bytes stream into a temporary table untouched (store/snapshot_staging.py) and SQL
returns only what differs; the use case (services/inventory/snapshot_copy.py) reads those
rows as the Python path would. A file over PARALLEL_MIN_BYTES is cut at location boundaries
into PARTS parts that are staged and compared on as many connections at once
(``examine``); the writes are made on the caller's connection, in its transaction.

Only plain files take this path: ``FileNotPlain`` says the file needs the Python reader
(not ASCII, quotes or backslashes, a header without sku and on_hand, a line COPY refuses),
with nothing of it kept.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from service.feeds import file_parts as parts
from service.feeds.metering import recount, uncounted
from service.feeds.stock_rows import parse_time
from service.store import snapshot_staging as staging
from service.store import work_mem
from service.store.db import driver

PARALLEL_MIN_BYTES = 8 << 20  # about 180,000 rows: smaller files are staged on one connection
PARTS = 2  # connections staging and comparing parts of a large file at once
# one file at a time per process is staged in parts, so a process holds at most PARTS - 1
# connections beyond its feeds' own (others are staged whole on their feed's connection)
_PARTED = threading.BoundedSemaphore(1)
_BOM = b"\xef\xbb\xbf"
_NOT_PLAIN = (b'"', b"\\")  # quoted fields, escapes (and COPY's \. end marker)
_SPACE = (b" ", b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")  # strip()'s


def _holds(block: bytes, characters: tuple[bytes, ...]) -> bool:
    """Whether block holds any of the characters (one memchr-speed scan each)."""
    return any(c in block for c in characters)


class FileNotPlain(Exception):
    """The file needs the Python reader (nothing of it was applied here)."""


def plain_header(stream: IO[bytes]) -> list[str] | None:
    """The header's field names when the first line is plain, else None."""
    line = stream.readline(1 << 16)
    if line.startswith(_BOM):
        line = line[len(_BOM):]
    if not line.endswith(b"\n"):
        return None
    line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
    if not line.isascii() or _holds(line, _NOT_PLAIN) or b"\r" in line:
        return None
    names = line.decode("ascii").split(",")
    if len(names) < 2 or not {"sku", "on_hand"} <= set(names):
        return None
    return names


@dataclass
class Found:
    """What the database found comparing (a part of) the file with the positions."""

    groups: Counter  # rows per (location, as_of text)
    times: dict[str, datetime | None]  # each as_of text, parsed
    differences: list[staging.RowDifference]
    position_counts: dict[str, tuple[int, int]]  # per location: (positions, stocked)


class SnapshotFiles:
    """The COPY path's database side, on the transaction's connection (and spare ones)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """A savepoint for one try of the COPY path: anything the database refuses to read
        from the file (a line COPY cannot split, a value of the wrong type) takes back what
        was staged and becomes FileNotPlain."""
        try:
            with self.session.begin_nested():
                yield
        except psycopg.DataError as exc:
            raise FileNotPlain(str(exc)) from exc
        except DBAPIError as exc:
            if not isinstance(exc.orig, psycopg.DataError):
                raise  # a database failure, not a file COPY refuses
            raise FileNotPlain(str(exc.orig)) from exc

    def examine(self, stream: IO[bytes], header: list[str], location: str | None,
                as_of: datetime | None, known: set[str],
                max_work_mem_mb: int = work_mem.DEFAULT_MAX_MB) -> Found:
        """Stage and compare the file: in parts on parallel connections when it is large.

        A large file is cut at location boundaries (file_parts); each part is COPYed into its
        own temporary table and compared with its locations' positions on its own
        connection, the first on the caller's. Those reads happen before this transaction
        writes stock (see the use case), and the writes recheck every position they change
        (update_counts_unless_moved), so reading on another connection is as safe as reading
        first on this one. One file per process is staged in parts at a time, and only when
        the pool can spare the connections without waiting; otherwise the file is staged
        whole here. ``known`` are the catalog's locations; each comparison's work_mem is
        sized to its rows, at most ``max_work_mem_mb`` (store/work_mem.py).
        """
        pg, reader = driver(self.session), parts.SharedReader(stream)
        with uncounted(stream):  # (a look near the cuts: the blocks are the progress)
            cuts = parts.file_parts(stream, header, PARALLEL_MIN_BYTES, PARTS)
        if len(cuts) > 2 and _PARTED.acquire(blocking=False):
            try:
                spares = _spare_connections(self.session.get_bind().engine, len(cuts) - 2)
                if spares:
                    return _examine_parts(pg, spares, reader, cuts, header, location, as_of,
                                          known, max_work_mem_mb)
            finally:
                _PARTED.release()
        staged = _stage(pg, reader.blocks(cuts[0], cuts[-1]), header)
        return _compare(pg, staged, location, as_of, known, max_work_mem_mb)


def _spare_connections(engine: Engine, wanted: int) -> list[Connection] | None:
    """``wanted`` pooled connections, or None (and none kept) when the pool cannot spare
    them all without waiting."""
    spares = []
    while len(spares) < wanted and (spare := _spare_connection(engine)) is not None:
        spares.append(spare)
    if len(spares) == wanted:
        return spares
    for spare in spares:
        spare.close()
    return None


def _spare_connection(engine: Engine) -> Connection | None:
    """A pooled connection if the pool can give one without waiting for another's return.

    (A QueuePool at its limit would make the caller wait up to pool_timeout while holding
    its transaction open; SQLAlchemy exposes that limit only as ``_max_overflow``.)
    """
    pool = engine.pool
    limit = getattr(pool, "_max_overflow", -1)
    if isinstance(pool, QueuePool) and limit >= 0 and pool.checkedin() == 0 \
            and pool.overflow() >= limit:
        return None
    try:
        return engine.connect()
    except SQLAlchemyTimeoutError:  # (the last one was taken meanwhile)
        return None


def _examine_parts(pg: Any, spares: list[Connection], reader: parts.SharedReader,
                   cuts: list[int], header: list[str], location: str | None,
                   as_of: datetime | None, known: set[str], max_work_mem_mb: int) -> Found:
    """The first part on the caller's connection, each other part on a spare one; the whole
    file on the caller's when the parts turn out to share a location."""
    saved = _parallel_workers(pg, "0")
    with ThreadPoolExecutor(len(spares), thread_name_prefix="snapshot-part") as pool:
        others = [pool.submit(_examine_elsewhere, spare, reader, start, end, header,
                              location, as_of, max_work_mem_mb)
                  for spare, (start, end) in zip(spares, itertools.pairwise(cuts[1:]),
                                                 strict=True)]
        try:
            staged = _stage(pg, reader.blocks(cuts[0], cuts[1]), header)
            first = _compare(pg, staged, location, as_of, None, max_work_mem_mb)
        except parts.PartStopped:
            for other in others:
                other.result()  # raises the error that stopped the reading
            raise
        except BaseException:
            reader.stop()  # this part failed: the others stop reading on
            raise
        found = [first, *(other.result() for other in others)]
    _parallel_workers(pg, saved)
    if parts.disjoint([_locations(f) for f in found]):
        return _merged(found)
    recount(reader.stream, cuts[1])  # the rest is read (and counted) again
    rest = _stage_more(pg, staged, reader.restart().blocks(cuts[1], cuts[-1]))
    return _compare(pg, rest, location, as_of, known, max_work_mem_mb)


def _parallel_workers(pg: Any, setting: str) -> str:
    """Set this transaction's max_parallel_workers_per_gather; the setting it had. The parts
    staged at once are the parallelism (with workers as well, 2 cores ran 6 processes)."""
    with pg.cursor() as cursor:
        saved = cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')"
                               ).fetchone()[0]
        cursor.execute("SELECT set_config('max_parallel_workers_per_gather', %s, true)",
                       (setting,))
    return saved


def _examine_elsewhere(connection: Connection, reader: parts.SharedReader, start: int,
                       end: int, header: list[str], location: str | None,
                       as_of: datetime | None, max_work_mem_mb: int) -> Found:
    """One part of the file staged and compared on a connection of its own (returned to
    the pool rolled back, its table dropped); a failure stops the other parts reading."""
    with connection:
        pg = driver(connection)
        try:
            _parallel_workers(pg, "0")
            return _compare(pg, _stage(pg, reader.blocks(start, end), header), location,
                            as_of, None, max_work_mem_mb)
        except BaseException:
            reader.stop()
            raise


def _locations(found: Found) -> set[str]:
    return {loc for loc, _text in found.groups if loc is not None}


def _merged(found: list[Found]) -> Found:
    """The parts' findings as one file's: line numbers run on from part to part."""
    merged = Found(Counter(), {}, [], {})
    offset = 0
    for part in found:
        merged.groups.update(part.groups)
        merged.times.update(part.times)
        if offset:
            for difference in part.differences:
                if difference.line is not None:
                    difference.line += offset
        merged.differences += part.differences
        merged.position_counts.update(part.position_counts)
        offset += sum(part.groups.values())
    return merged


def _stage(pg: Any, blocks: Iterator[bytes], header: list[str]) -> staging.Staging:
    """COPY the data lines into a temporary table, checking each block is plain."""
    table = staging.create(pg, header, trim=False)
    return _stage_more(pg, table, blocks)


def _stage_more(pg: Any, table: staging.Staging, blocks: Iterator[bytes]) -> staging.Staging:
    """COPY more data lines into a staged table (its line numbers run on)."""
    spaced = table.trim

    def checked() -> Iterator[bytes]:
        nonlocal spaced
        for block in blocks:
            if not block.isascii() or _holds(block, _NOT_PLAIN):
                raise FileNotPlain("not plain ASCII CSV")
            spaced = spaced or _holds(block, _SPACE)
            yield block

    staging.copy_blocks(pg, table, checked())
    return staging.Staging(table.table, table.width, table.columns, trim=spaced)


def _compare(pg: Any, staged: staging.Staging, location: str | None, as_of: datetime | None,
             every_location: set[str] | None, max_work_mem_mb: int) -> Found:
    """Group the staged rows and read how they differ from their locations' positions.

    With ``every_location`` (the catalog's), a file naming all of them is compared with all
    positions without a location filter. The join's work_mem is sized to the staged rows.
    """
    groups = staging.count_groups(pg, staged, location)
    times = {text: parse_time(text) for _loc, text, _n, _positive in groups
             if text is not None}
    locations = {loc for loc, _t, _n, _positive in groups if loc}
    every = every_location is not None and locations >= every_location
    differences, positions = staging.read_differences(
        pg, staged, locations=None if every else sorted(locations),
        bad_times=sorted(text for text, when in times.items() if when is None),
        default_location=location, has_default_time=as_of is not None,
        rows=sum(n for _loc, _t, n, _positive in groups), max_work_mem_mb=max_work_mem_mb)
    position_counts = staging.position_counts(groups, differences, positions)
    if position_counts is None:
        raise FileNotPlain("a position counted twice")
    return Found(Counter({(loc, text): n for loc, text, n, _positive in groups}), times,
                 differences, position_counts)
