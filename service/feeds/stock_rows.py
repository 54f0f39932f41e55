"""Stock rows from any body or file: parsed, typed and checked, each bad one with its line."""

from __future__ import annotations

import gc
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from service.domain.ledger import MAX_QUANTITY

_UNSEEN: Any = object()


class StockRow(NamedTuple):
    """One count (on_hand) or movement (adjust) for (location, sku) at as_of."""

    line: int
    location_id: str
    sku: str
    as_of: datetime
    on_hand: int | None = None
    adjust: int | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    sku: str | None = None
    location_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "sku": self.sku,
                "location": self.location_id}


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 timestamp (naive means UTC), or None when it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    return _parse_iso(value)


@lru_cache(maxsize=4096)
def _parse_iso(value: str) -> datetime | None:
    # a feed file repeats one timestamp on every row: parse it once
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _quantity(value: Any, signed: bool) -> int | None:
    if type(value) is str and value.isdigit() and value.isascii() and len(value) < 20:
        number = int(value)  # the usual "123"
        return number if number <= MAX_QUANTITY else None
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("+-").isdigit():
            return None
        try:  # "+-5" or a 5,000-digit string pass isdigit() but are no int
            value = int(value)
        except ValueError:
            return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or abs(value) > MAX_QUANTITY:
        return None
    if not signed and value < 0:
        return None
    return value


def parse_rows(raw: Iterable[Mapping[str, Any]], *, location: str | None, as_of: datetime | None,
               allow_adjust: bool, first_line: int = 1) -> tuple[list[StockRow], list[RowError]]:
    """Typed rows and the errors of the rest (line numbers count from first_line)."""
    rows: list[StockRow] = []
    errors: list[RowError] = []
    times: dict[str, datetime | None] = {}  # a file repeats one as_of text on every row
    keep, report = rows.append, errors.append
    with collector_paused():
        for offset, item in enumerate(raw):
            parsed = parse_row(item, first_line + offset, location, as_of, allow_adjust, times)
            if type(parsed) is StockRow:
                keep(parsed)
            else:
                report(parsed)
    return rows, errors


def parse_numbered(raw: Sequence[Mapping[str, Any]], lines: Sequence[int], *,
                   location: str | None, as_of: datetime | None, allow_adjust: bool
                   ) -> tuple[list[StockRow], list[RowError]]:
    """parse_rows for items read from a file or body, lines[i] being item i's line number."""
    contiguous = not lines or lines[-1] - lines[0] == len(lines) - 1
    rows, errors = parse_rows(raw, location=location, as_of=as_of, allow_adjust=allow_adjust,
                              first_line=lines[0] if lines and contiguous else 1)
    if not contiguous:  # blank or unreadable lines in between: look each number up
        rows = [r._replace(line=lines[r.line - 1]) for r in rows]
        errors = [replace(e, line=lines[e.line - 1]) for e in errors]
    return rows, errors


def split_known(rows: list[StockRow], locations: Container[str], products: Container[str]
                ) -> tuple[list[StockRow], list[RowError]]:
    """The rows naming a known location and sku, and an error for each of the others."""
    if all(row.location_id in locations and row.sku in products for row in rows):
        return rows, []  # the usual case, checked without building a second list
    good, bad = [], []
    for row in rows:
        if row.location_id not in locations:
            bad.append(RowError(row.line, f"unknown location {row.location_id!r}", row.sku,
                                row.location_id))
        elif row.sku not in products:
            bad.append(RowError(row.line, f"unknown sku {row.sku!r}", row.sku, row.location_id))
        else:
            good.append(row)
    return good, bad


@contextmanager
def collector_paused() -> Iterator[None]:
    # A million-row file allocates millions of acyclic tuples; the cyclic collector would
    # rescan them over and over (a third of the parse time) while finding nothing to free.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_row(item: Mapping[str, Any], line: int, location: str | None,
              as_of: datetime | None, allow_adjust: bool,
              times: dict[str, datetime | None] | None = None) -> StockRow | RowError:
    """One item as a typed StockRow, or the RowError saying what is wrong with it."""
    get = item.get
    sku = get("sku")
    loc = get("location") or get("location_id") or location
    if not isinstance(sku, str) or not sku.strip():
        return RowError(line, "sku is missing")
    sku = sku.strip()
    if not isinstance(loc, str) or not loc.strip():
        return RowError(line, "location is missing", sku)
    stamp = get("as_of")
    if stamp in (None, ""):
        when = as_of
    elif times is not None and type(stamp) is str:
        when = times.get(stamp, _UNSEEN)
        if when is _UNSEEN:
            when = times[stamp] = parse_time(stamp)
    else:
        when = parse_time(item["as_of"])
    if when is None:
        return RowError(line, "as_of is missing or not an ISO-8601 time", sku, loc)
    count, adjust = get("on_hand"), get("adjust")
    has_count, has_adjust = count not in (None, ""), adjust not in (None, "")
    if has_count == has_adjust or (has_adjust and not allow_adjust):
        expected = "exactly one of on_hand or adjust" if allow_adjust else "on_hand"
        return RowError(line, f"expected {expected}", sku, loc)
    if has_count:
        qty = _quantity(item["on_hand"], signed=False)
        if qty is None:
            return RowError(line, f"on_hand must be a whole number from 0 to {MAX_QUANTITY}",
                            sku, loc)
        return _new_row(StockRow, (line, loc.strip(), sku, when, qty, None))
    qty = _quantity(item["adjust"], signed=True)
    if qty is None:
        return RowError(line, "adjust must be a whole number (signed)", sku, loc)
    return _new_row(StockRow, (line, loc.strip(), sku, when, None, qty))


_new_row = tuple.__new__  # StockRow(...) without the generated __new__'s keyword handling
