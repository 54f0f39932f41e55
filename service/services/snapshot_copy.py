"""Large CSV snapshots on PostgreSQL: the file goes to the database by COPY, not through Python.

The Python path reads every row into a StockRow (about 4.6x a bare COPY for a million rows
before anything is applied). Here the bytes stream into a temporary table untouched and SQL
returns only what differs (store/snapshot_staging.py); Python then reads those few rows with
the very same parser (``stock_rows._parse_one``) and catalog check (``inventory._known``), and
hands the same per-location figures to the same safety checks and writes
(``inventory.check_bad_rows``, ``fresh_locations``, ``apply_counted``). Reports, refusals,
stock and channel figures are those of the Python path for the same file.

A file over PARALLEL_MIN_BYTES is cut at location boundaries into PARTS parts that are
staged and compared on as many connections at once (``_examine_file``); the writes are made
on the caller's connection, in its transaction.

Only plain files take this path; ``apply_csv`` returns None, having changed nothing, for any
other, and the caller reads the file with Python: a database other than PostgreSQL, a file
that is not ASCII, one with quotes or backslashes (the csv module and COPY would split them
differently), a header without sku and on_hand, a line COPY refuses (blank, short or long
lines, mixed line ends), or a sku counted twice at one location (the last row wins in
Python; a set-based diff cannot tell which came last cheaply, so such files stay exact there).
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from service.context import Context
from service.services import inventory
from service.services import snapshot_parts as parts
from service.services.inventory import CountedLocation, IngestReport, SnapshotRefused
from service.services.progress import recount, uncounted
from service.services.stock_rows import RowError, StockRow, _parse_one, collector_paused, parse_time
from service.store import positions as store
from service.store import snapshot_staging as staging
from service.store.db import driver
from service.store.positions import LocationDiff, PositionRow

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


class _NotPlain(Exception):
    """The file needs the Python reader (nothing of it was applied here)."""


def apply_csv(ctx: Context, session: Session, stream: IO[bytes], *, location: str | None,
              as_of: datetime | None, force: bool = False,
              progress: Callable[[int], None] | None = None) -> IngestReport | None:
    """Apply a CSV snapshot file through COPY in the caller's transaction.

    Rows without a location take ``location``; rows without an as_of take ``as_of``. Raises
    SnapshotRefused (with the bad rows) like inventory.apply_snapshot; returns None with the
    stream back at its start and the transaction as it was when the file needs Python.

    The transaction must not have changed stock positions before this call: parts of a
    large file are compared on other connections, which see only committed positions.

    ``progress`` gets the rows read once they are counted. A ``progress.CountedStream``
    reports its bytes as the blocks are read for COPY (the look near the cuts is not
    counted; a file left to Python is counted again from its start).
    """
    if not store.locked(session) or not _plain_default(location):
        return None
    header = _header(stream)
    if header is None:
        _rewind(stream)
        return None
    try:
        with session.begin_nested(), collector_paused():
            found = _examine_file(ctx, session, stream, header, location, as_of)
            report = _apply_found(ctx, session, found, location, as_of, force)
    except (_NotPlain, psycopg.DataError):
        _rewind(stream)  # (the savepoint took back whatever was staged)
        return None
    except DBAPIError as exc:
        if not isinstance(exc.orig, psycopg.DataError):
            raise  # a database failure, not a file COPY refuses
        _rewind(stream)
        return None
    if progress:
        progress(report.rows_read)
    return report


def _rewind(stream: IO[bytes]) -> None:
    """Back to the start for the Python reader, its bytes to be counted again."""
    stream.seek(0)
    recount(stream, 0)


def _plain_default(location: str | None) -> bool:
    """A default location the SQL can match as is (Python strips it)."""
    return location is None or (location.isascii() and location == location.strip())


def _header(stream: IO[bytes]) -> list[str] | None:
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
class _Found:
    """What the database found comparing (a part of) the file with the positions."""

    groups: Counter  # rows per (location, as_of text)
    times: dict[str, datetime | None]  # each as_of text, parsed
    differences: list[staging.RowDifference]
    position_counts: dict[str, tuple[int, int]]  # per location: (positions, stocked)


def _examine_file(ctx: Context, session: Session, stream: IO[bytes], header: list[str],
                  location: str | None, as_of: datetime | None) -> _Found:
    """Stage and compare the file: in parts on parallel connections when it is large.

    A large file is cut at location boundaries (file_parts); each part is COPYed into its
    own temporary table and compared with its locations' positions on its own connection,
    the first on the caller's. Those reads happen before this transaction writes stock (see
    apply_csv), and the writes recheck every position they change
    (update_counts_unless_moved), so reading on another connection is as safe as reading
    first on this one. One file per process is staged in parts at a time, and only when the
    pool can spare the connections without waiting; otherwise the file is staged whole here.
    """
    known = set(ctx.catalog.get(session).locations)
    pg, reader = driver(session), parts.SharedReader(stream)
    with uncounted(stream):  # (a look near the cuts: the blocks are the progress)
        cuts = parts.file_parts(stream, header, PARALLEL_MIN_BYTES, PARTS)
    if len(cuts) > 2 and _PARTED.acquire(blocking=False):
        try:
            spares = _spare_connections(ctx.engine, len(cuts) - 2)
            if spares:
                return _examine_parts(pg, spares, reader, cuts, header, location, as_of,
                                      known)
        finally:
            _PARTED.release()
    staged = _stage(pg, reader.blocks(cuts[0], cuts[-1]), header)
    return _compare(pg, staged, location, as_of, known)


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
                   as_of: datetime | None, known: set[str]) -> _Found:
    """The first part on the caller's connection, each other part on a spare one; the whole
    file on the caller's when the parts turn out to share a location."""
    saved = _parallel_workers(pg, "0")
    with ThreadPoolExecutor(len(spares), thread_name_prefix="snapshot-part") as pool:
        others = [pool.submit(_examine_elsewhere, spare, reader, start, end, header,
                              location, as_of)
                  for spare, (start, end) in zip(spares, itertools.pairwise(cuts[1:]),
                                                 strict=True)]
        try:
            staged = _stage(pg, reader.blocks(cuts[0], cuts[1]), header)
            first = _compare(pg, staged, location, as_of, None)
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
    return _compare(pg, rest, location, as_of, known)


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
                       as_of: datetime | None) -> _Found:
    """One part of the file staged and compared on a connection of its own (returned to
    the pool rolled back, its table dropped); a failure stops the other parts reading."""
    with connection:
        pg = driver(connection)
        try:
            _parallel_workers(pg, "0")
            return _compare(pg, _stage(pg, reader.blocks(start, end), header), location,
                            as_of, None)
        except BaseException:
            reader.stop()
            raise


def _locations(found: _Found) -> set[str]:
    return {loc for loc, _text in found.groups if loc is not None}


def _merged(found: list[_Found]) -> _Found:
    """The parts' findings as one file's: line numbers run on from part to part."""
    merged = _Found(Counter(), {}, [], {})
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
                raise _NotPlain("not plain ASCII CSV")
            spaced = spaced or _holds(block, _SPACE)
            yield block

    staging.copy_blocks(pg, table, checked())
    return staging.Staging(table.table, table.width, table.columns, trim=spaced)


def _compare(pg: Any, staged: staging.Staging, location: str | None, as_of: datetime | None,
             every_location: set[str] | None) -> _Found:
    """Group the staged rows and read how they differ from their locations' positions.

    With ``every_location`` (the catalog's), a file naming all of them is compared with all
    positions without a location filter.
    """
    groups = staging.count_groups(pg, staged, location)
    times = {text: parse_time(text) for _loc, text, _n in groups if text is not None}
    locations = {loc for loc, _t, _n in groups if loc}
    every = every_location is not None and locations >= every_location
    differences, position_counts = staging.read_differences(
        pg, staged, locations=None if every else sorted(locations),
        bad_times=sorted(text for text, when in times.items() if when is None),
        default_location=location, has_default_time=as_of is not None)
    return _Found(Counter({(loc, text): n for loc, text, n in groups}), times, differences,
                  position_counts)


@dataclass
class _Tally:
    """What the differing rows say about one location."""

    diff: LocationDiff = field(default_factory=LocationDiff)
    new_rows: int = 0  # good rows of positions that do not exist yet
    unmatched: set[int] = field(default_factory=set)  # positions no good row counts
    matched: set[int] = field(default_factory=set)


def _apply_found(ctx: Context, session: Session, found: _Found, location: str | None,
                 as_of: datetime | None, force: bool) -> IngestReport:
    report = IngestReport("snapshot", rows_read=sum(found.groups.values()))
    position_counts = found.position_counts
    errors, tallies, bad_groups = _read_differences(ctx, session, found.differences, location,
                                                    as_of, found.times)
    good = found.groups - bad_groups
    counted = _counted(good, found.times, as_of)
    for loc, location_counted in counted.items():
        _check_unique(location_counted, tallies[loc], position_counts.get(loc, (0, 0))[0])
        tallies[loc].diff.stocked = position_counts.get(loc, (0, 0))[1]
        location_counted.newly_zero = sum(
            1 for qty, pos in tallies[loc].diff.changed.values()
            if qty == 0 and pos is not None and pos.on_hand)
    try:
        inventory.check_bad_rows(ctx, report, errors)
        fresh = inventory.fresh_locations(session, report, counted)
        inventory.apply_counted(ctx, session, report, {loc: counted[loc] for loc in fresh},
                                {loc: tallies[loc].diff for loc in fresh}, errors, force)
    except SnapshotRefused as exc:
        raise SnapshotRefused(str(exc), errors, report.rows_read) from exc
    return report


def _read_differences(ctx: Context, session: Session,
                      differences: list[staging.RowDifference], location: str | None,
                      as_of: datetime | None, times: dict[str, datetime | None]
                      ) -> tuple[list[RowError], dict[str, _Tally], Counter]:
    """Read the differing rows as the Python path would: errors, changes, unmatched positions."""
    errors: list[RowError] = []
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    bad_groups: Counter = Counter()
    new: list[tuple[StockRow, staging.RowDifference]] = []
    cache = dict(times)
    shipped = _shipment_times(session, differences)
    for item in sorted(differences, key=lambda d: d.line or 0):
        position = None if item.position is None else _position(item.position, shipped)
        if item.line is None:
            tallies[position.location_id].unmatched.add(position.id)  # type: ignore[union-attr]
            continue
        parsed = _parse_one(item.fields, item.line, location, as_of, False, cache)
        if type(parsed) is not StockRow:
            errors.append(parsed)  # type: ignore[arg-type]
            bad_groups[(item.location_key, item.as_of_text)] += 1
            if position is not None:
                tallies[position.location_id].unmatched.add(position.id)  # type: ignore[arg-type]
        elif position is None:
            new.append((parsed, item))
        else:
            _matched(tallies[parsed.location_id], parsed, position)
    rows, unknown = inventory._known(ctx, session, [row for row, _item in new])
    unknown_lines = {e.line for e in unknown}
    for row, item in new:
        if row.line in unknown_lines:
            bad_groups[(item.location_key, item.as_of_text)] += 1
    _new_positions(tallies, rows)
    _uncounted(tallies, differences, shipped)
    return errors + unknown, tallies, bad_groups


def _shipment_times(session: Session, differences: list[staging.RowDifference]
                    ) -> dict[int, datetime]:
    ids = {d.position[0] for d in differences if d.position is not None}
    return staging.shipment_times(driver(session), sorted(ids))


def _position(values: tuple, shipped: dict[int, datetime]) -> PositionRow:
    return PositionRow(*values, shipped.get(values[0]))


def _matched(tally: _Tally, row: StockRow, position: PositionRow) -> None:
    tally.matched.add(position.id)  # type: ignore[arg-type]
    if row.on_hand != position.on_hand:
        tally.diff.changed[row.sku] = (row.on_hand or 0, position)


def _new_positions(tallies: dict[str, _Tally], rows: list[StockRow]) -> None:
    for row in rows:
        tally = tallies[row.location_id]
        if row.sku in tally.diff.changed:
            raise _NotPlain("a sku counted twice")
        tally.diff.changed[row.sku] = (row.on_hand or 0, None)
        tally.new_rows += 1


def _uncounted(tallies: dict[str, _Tally], differences: list[staging.RowDifference],
               shipped: dict[int, datetime]) -> None:
    """Stocked positions no good row counts (the Python path's diff.uncounted)."""
    seen: set[int] = set()
    for item in differences:
        if item.position is None or item.position[0] in seen:
            continue
        position = _position(item.position, shipped)
        tally = tallies[position.location_id]
        seen.add(position.id)  # type: ignore[arg-type]
        if position.id in tally.unmatched and position.id not in tally.matched:
            if position.on_hand > 0:
                tally.diff.uncounted.append(position)


def _counted(good: Counter, times: dict[str, datetime | None], as_of: datetime | None
             ) -> dict[str, CountedLocation]:
    """Per location: the newest time and the number of its good rows."""
    counted: dict[str, CountedLocation] = {}
    for (loc, text), n in good.items():
        when = as_of if text is None else times[text]
        if n <= 0 or loc is None or when is None:
            continue
        known = counted.setdefault(loc, CountedLocation(when, 0, 0))
        known.as_of = max(known.as_of, when)
        known.rows += n
        known.skus += n  # (no sku twice: _check_unique)
    return counted


def _check_unique(counted: CountedLocation, tally: _Tally, positions: int) -> None:
    """Refuse the COPY path when a position may be counted twice (see the module doc).

    Rows counting existing positions are the good rows less the new ones; the positions
    they count are those of the location less the ones no good row counts. More rows than
    positions means one position has two rows.
    """
    counting = counted.rows - tally.new_rows
    if counting > positions - len(tally.unmatched - tally.matched):
        raise _NotPlain("a position counted twice")
