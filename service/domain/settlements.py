"""Settlement export files for the ERP: a batch's name and its bytes, decided by the batch alone.

The same batch (the same records, format and currency) always gives the same file name and
the same bytes: no wall-clock time goes into a file, only the records' own times. That is
what lets an export that crashed before committing be redone into the same file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

FORMATS = ("ndjson", "csv")
# The columns of every record, in file order (CSV header; NDJSON key order).
FIELDS = ("id", "kind", "order_id", "order_ref", "channel", "order_line_id", "sku", "quantity",
          "amount", "currency", "location_id", "disposition", "created_at")


@dataclass(frozen=True)
class Batch:
    """One export file's records: ids first_id..last_id (every record between, in id order)."""

    id: int
    first_id: int
    last_id: int
    records: int
    file: str
    format: str
    currency: str | None
    status: str
    claim: str | None = None


def file_name(first_id: int, last_id: int, fmt: str) -> str:
    """The batch's file: zero-padded ids, so names sort as the records do."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown settlement export format {fmt!r}: expected ndjson or csv")
    return f"settlements-{first_id:012d}-{last_id:012d}.{fmt}"


def record_fields(row: Mapping[str, Any], currency: str | None) -> dict[str, Any]:
    """A record as the file states it: amounts as exact decimal text, times in UTC ISO 8601."""
    out = {name: row.get(name) for name in FIELDS}
    out["amount"] = f"{Decimal(row['amount']):.2f}"
    out["currency"] = currency
    out["created_at"] = utc_text(row["created_at"])
    return out


def utc_text(value: datetime) -> str:
    """A timestamp as `2026-12-01T09:00:00.000000Z` (always microseconds: one spelling)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def render(records: Iterable[Mapping[str, Any]], fmt: str) -> bytes:
    """The file's bytes: one JSON object per line (NDJSON), or CSV with a header row."""
    if fmt == "ndjson":
        lines = (json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
                 for r in records)
        return "".join(lines).encode("utf-8")
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in records)
        return text.getvalue().encode("utf-8")
    raise ValueError(f"unknown settlement export format {fmt!r}: expected ndjson or csv")
