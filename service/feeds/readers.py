"""Feed files as rows: CSV with a header, JSON (an array or {"items": [...]}) and NDJSON.

CSV and NDJSON are read line by line from the stream; JSON is one document and is parsed
whole. Every row keeps the line number people see in an editor (the position in the array
for JSON), and a line that cannot be read becomes a rejected row instead of failing the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from service.feeds.stock_rows import RowError, StockRow, parse_numbered

Progress = Callable[[int], None]
PROGRESS_EVERY = 1000


class FeedFormatError(ValueError):
    """The file cannot be read at all (not UTF-8, not JSON, not a list of rows)."""


@dataclass
class Batch:
    """A file's rows, each with its line number, the JSON envelope and the unreadable lines."""

    items: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    envelope: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    @classmethod
    def of_items(cls, items: list[dict[str, Any]], envelope: dict[str, Any] | None = None
                 ) -> Batch:
        """A JSON document's rows, numbered by place as the JSON reader numbers them."""
        return cls(list(items), list(range(1, len(items) + 1)), dict(envelope or {}))

    @property
    def rows_read(self) -> int:
        return len(self.items) + len(self.errors)

    def stock_rows(self, location: str | None, as_of: datetime | None, allow_adjust: bool
                   ) -> tuple[list[StockRow], list[RowError]]:
        """Typed stock rows and the bad ones (unreadable lines included), by line number."""
        rows, errors = parse_numbered(self.items, self.lines, location=location, as_of=as_of,
                                      allow_adjust=allow_adjust)
        return rows, errors + self.errors

    def add(self, line: int, item: Any) -> None:
        """Keep item as a row of line, or reject it when it is not an object."""
        if isinstance(item, dict):
            self.items.append(item)
            self.lines.append(line)
        else:
            self.errors.append(RowError(line, "expected an object"))


def read_batch(stream: IO[bytes], fmt: str, progress: Progress | None = None) -> Batch:
    """Read a whole feed file of format csv, json or ndjson from a binary stream."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    readers = {"csv": _csv_rows, "ndjson": _ndjson_rows, "json": _json_rows}
    if fmt not in readers:
        raise FeedFormatError(f"unknown format {fmt!r}")
    batch = Batch()
    try:
        for count, (line, item) in enumerate(readers[fmt](text, batch), start=1):
            batch.add(line, item)
            if progress and count % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
    except UnicodeDecodeError as exc:
        raise FeedFormatError(f"the file is not UTF-8 text ({exc.reason})") from exc
    finally:
        text.detach()  # the caller owns (and closes) the binary stream
    if progress:
        progress(batch.rows_read % PROGRESS_EVERY)
    return batch


def _csv_rows(text: io.TextIOWrapper, batch: Batch) -> Iterator[tuple[int, Any]]:
    reader = csv.reader(text)
    header: list[str] | None = None
    ended = 0  # the line the previous record (or blank line) ended on
    try:
        for record in reader:
            # A record starts on the line after the previous one ended (quoted fields span).
            first, ended = ended + 1, reader.line_num
            if not record:  # a blank line
                continue
            if header is None:
                header = record
                continue
            yield first, {k: v for k, v in zip(header, record, strict=False) if v != ""}
    except csv.Error as exc:
        raise FeedFormatError(f"line {ended + 1}: not valid CSV: {exc}") from exc


def _ndjson_rows(text: io.TextIOWrapper, batch: Batch) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            batch.errors.append(RowError(number, f"not valid JSON: {exc.msg}"))
            continue
        except (ValueError, RecursionError) as exc:  # a number too long, nesting too deep
            batch.errors.append(RowError(number, f"not readable JSON: {str(exc)[:120]}"))
            continue
        yield number, item


def _json_rows(text: io.TextIOWrapper, batch: Batch) -> Iterator[tuple[int, Any]]:
    try:
        data = json.load(text)
    except json.JSONDecodeError as exc:
        raise FeedFormatError(f"not valid JSON: {exc}") from exc
    except (ValueError, RecursionError) as exc:  # a number too long, nesting too deep
        raise FeedFormatError(f"not readable JSON: {str(exc)[:120]}") from exc
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        batch.envelope = {k: v for k, v in data.items() if k != "items"}
        data = data["items"]
    if not isinstance(data, list):
        raise FeedFormatError("expected a JSON array of rows, or an object with 'items'")
    yield from enumerate(data, start=1)
