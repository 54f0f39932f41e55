"""Large CSV snapshots on PostgreSQL: the file goes to the database by COPY, not through Python.

The Python path reads every row into a StockRow (about 4.6x a bare COPY for a million rows
before anything is applied). Here the bytes stream into a temporary table untouched and SQL
returns only what differs (store/snapshot_files.py); Python then reads those few rows with
the very same parser (``stock_rows.parse_row``) and catalog check (``deltas.known_rows``), and
hands the same per-location counts to the same safety checks and writes
(``snapshots.check_bad_rows``, ``fresh_locations``, ``apply_counted``). Reports, refusals,
stock and ATS are those of the Python path for the same file.

Only plain files take this path; ``apply_csv`` returns None, having changed nothing, for any
other, and the caller reads the file with Python: a database other than PostgreSQL, a file
that is not ASCII, one with quotes or backslashes (the csv module and COPY would split them
differently), a header without sku and on_hand, a line COPY refuses (blank, short or long
lines, mixed line ends), or a sku counted twice at one location (the last row wins in
Python; a set-based diff cannot tell which came last cheaply, so such files stay exact there).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING

from service.feeds.metering import recount
from service.feeds.stock_rows import RowError, StockRow, collector_paused, parse_row
from service.services.inventory import snapshots
from service.services.inventory.deltas import known_rows
from service.services.inventory.report import IngestReport, SnapshotLimitBreached
from service.services.inventory.snapshot_plans import CountedLocation
from service.store import snapshot_staging as staging
from service.store.position_diff import LocationDiff
from service.store.position_rows import PositionRow
from service.store.snapshot_files import FileNotPlain, Found, plain_header
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


def apply_csv(ctx: Context, uow: UnitOfWork, stream: IO[bytes], *, location: str | None,
              as_of: datetime | None, force: bool = False,
              progress: Callable[[int], None] | None = None) -> IngestReport | None:
    """Apply a CSV snapshot file through COPY in the caller's transaction.

    Rows without a location take ``location``; rows without an as_of take ``as_of``. Raises
    SnapshotLimitBreached (with the bad rows) like snapshots.apply_snapshot; returns None with
    the stream back at its start and the transaction as it was when the file needs Python.

    The transaction must not have changed stock positions before this call: parts of a
    large file are compared on other connections, which see only committed positions.

    ``progress`` gets the rows read once they are counted. A ``metering.CountedStream``
    reports its bytes as the blocks are read for COPY (the look near the cuts is not
    counted; a file left to Python is counted again from its start).
    """
    if not uow.positions.row_locking or not _plain_default(location):
        return None
    header = plain_header(stream)
    if header is None:
        _rewind(stream)
        return None
    try:
        with uow.snapshot_files.attempt(), collector_paused():
            known = set(uow.catalog().locations)
            found = uow.snapshot_files.examine(stream, header, location, as_of, known,
                                               snapshots.work_mem_max_mb(ctx))
            report = _apply_found(ctx, uow, found, location, as_of, force)
    except FileNotPlain:
        _rewind(stream)  # (the savepoint took back whatever was staged)
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


@dataclass
class _Tally:
    """What the differing rows say about one location."""

    diff: LocationDiff = field(default_factory=LocationDiff)
    new_rows: int = 0  # good rows of positions that do not exist yet
    unmatched: set[int] = field(default_factory=set)  # positions no good row counts
    matched: set[int] = field(default_factory=set)


def _apply_found(ctx: Context, uow: UnitOfWork, found: Found, location: str | None,
                 as_of: datetime | None, force: bool) -> IngestReport:
    report = IngestReport("snapshot", rows_read=sum(found.groups.values()))
    position_counts = found.position_counts
    errors, tallies, bad_groups = _read_differences(uow, found.differences, location,
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
        snapshots.check_bad_rows(ctx, report, errors)
        fresh = snapshots.fresh_locations(uow, report, counted)
        snapshots.apply_counted(ctx, uow, report, {loc: counted[loc] for loc in fresh},
                                {loc: tallies[loc].diff for loc in fresh}, errors, force)
    except SnapshotLimitBreached as exc:
        raise SnapshotLimitBreached(str(exc), errors, report.rows_read) from exc
    return report


def _read_differences(uow: UnitOfWork,
                      differences: list[staging.RowDifference], location: str | None,
                      as_of: datetime | None, times: dict[str, datetime | None]
                      ) -> tuple[list[RowError], dict[str, _Tally], Counter]:
    """Read the differing rows as the Python path would: errors, changes, unmatched positions."""
    errors: list[RowError] = []
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    bad_groups: Counter = Counter()
    new: list[tuple[StockRow, staging.RowDifference]] = []
    cache = dict(times)
    for item in sorted(differences, key=lambda d: d.line or 0):
        position = item.position
        if item.line is None:
            tallies[position.location_id].unmatched.add(position.id)  # type: ignore[union-attr]
            continue
        parsed = parse_row(item.fields, item.line, location, as_of, False, cache)
        if type(parsed) is not StockRow:
            errors.append(parsed)  # type: ignore[arg-type]
            bad_groups[(item.location_key, item.as_of_text)] += 1
            if position is not None:
                tallies[position.location_id].unmatched.add(position.id)  # type: ignore[arg-type]
        elif position is None:
            new.append((parsed, item))
        else:
            _matched(tallies[parsed.location_id], parsed, position)
    rows, unknown = known_rows(uow, [row for row, _item in new])
    unknown_lines = {e.line for e in unknown}
    for row, item in new:
        if row.line in unknown_lines:
            bad_groups[(item.location_key, item.as_of_text)] += 1
    _new_positions(tallies, rows)
    _uncounted(tallies, differences)
    return errors + unknown, tallies, bad_groups


def _matched(tally: _Tally, row: StockRow, position: PositionRow) -> None:
    tally.matched.add(position.id)  # type: ignore[arg-type]
    if row.on_hand != position.on_hand:
        tally.diff.changed[row.sku] = (row.on_hand or 0, position)


def _new_positions(tallies: dict[str, _Tally], rows: list[StockRow]) -> None:
    for row in rows:
        tally = tallies[row.location_id]
        if row.sku in tally.diff.changed:
            raise FileNotPlain("a sku counted twice")
        tally.diff.changed[row.sku] = (row.on_hand or 0, None)
        tally.new_rows += 1


def _uncounted(tallies: dict[str, _Tally], differences: list[staging.RowDifference]
               ) -> None:
    """Stocked positions no good row counts (the Python path's diff.uncounted)."""
    seen: set[int] = set()
    for item in differences:
        position = item.position
        if position is None or position.id in seen:
            continue
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
        raise FileNotPlain("a position counted twice")
