"""Request bodies: JSON objects, and row lists as JSON, CSV or NDJSON."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from flask import request

from service.api.boundary import refuse_nul
from service.errors import MalformedBody, ValidationFailed, problem
from service.feeds.readers import Batch, FeedFormatError, read_batch

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def json_object() -> dict[str, Any]:
    """The body as a JSON object, or a 422 naming what is wrong with it."""
    data = _parse_json(request.get_data(cache=False, as_text=False))
    if not isinstance(data, dict):
        raise ValidationFailed(
            "The body must be a JSON object.", [problem("", "expected a JSON object")]
        )
    return data


def row_list(items_key: str = "items") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows from a JSON array, or an object with items; plus the JSON envelope."""
    data = _parse_json(request.get_data(cache=False))
    if isinstance(data, list):
        return _objects(data, ""), {}
    if isinstance(data, dict) and isinstance(data.get(items_key), list):
        return _objects(data[items_key], f"/{items_key}"), data
    raise ValidationFailed(
        "The body must be a JSON array of objects.",
        [problem("", f"expected an array, or an object with '{items_key}'")],
    )


def numbered_rows(items_key: str = "items") -> Batch:
    """Rows with the line numbers a feed file of the same text reports, plus the JSON envelope.

    CSV and NDJSON go through the feed reader itself (physical lines; an unreadable line is a
    rejected row, as in a file); a JSON array's rows are numbered by place, as the feed's JSON
    reader numbers them.
    """
    fmt = "csv" if request.mimetype == "text/csv" else (
        "ndjson" if request.mimetype in NDJSON_TYPES else "json")
    if fmt == "json":
        rows, data = row_list(items_key)
        return Batch.of_items(rows, {k: v for k, v in data.items() if k != items_key})
    raw = request.get_data(cache=False)
    try:
        batch = read_batch(io.BytesIO(raw), fmt)
    except FeedFormatError as exc:
        raise MalformedBody(f"The {fmt.upper()} body cannot be read.",
                            [problem("", str(exc))]) from exc
    if _may_hold_nul(raw):
        refuse_nul([(f"/{index}{pointer}", text, line) for index, (line, item)
                    in enumerate(zip(batch.lines, batch.items, strict=True))
                    for pointer, text in _texts(item)])
    return batch


def master_rows() -> tuple[list[dict[str, Any]], list[int] | None]:
    """Master-data rows, and for a CSV or NDJSON body each row's line (a CSV header is line
    1); a line that cannot be read makes the whole body a 422 naming it."""
    batch = numbered_rows()
    if batch.errors:
        raise ValidationFailed("Some lines cannot be read; nothing was written.", [
            problem("", f"line {e.line}: {e.reason}", line=e.line) for e in batch.errors])
    text = request.mimetype == "text/csv" or request.mimetype in NDJSON_TYPES
    return batch.items, batch.lines if text else None


def _texts(value: Any, pointer: str = "") -> list[tuple[str, str]]:
    """Every text (keys too) in a parsed JSON value, with its JSON pointer."""
    if isinstance(value, str):
        return [(pointer, value)]
    if isinstance(value, dict):
        return [(f"{pointer}/{key}", key) for key in value] + [
            found for key, item in value.items() for found in _texts(item, f"{pointer}/{key}")]
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in _texts(item, f"{pointer}/{i}")]
    return []


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _number(text: str) -> float | int:
    """A JSON number with a fraction or exponent: 2080.0 is the integer 2080 (JSON Schema's
    "integer" admits it, and Python's int and Decimal arithmetic must get an int)."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise MalformedBody("The body is empty.", [problem("", "expected a JSON body")])
    try:
        data = json.loads(raw, parse_constant=_no_constants, parse_float=_number)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedBody(
            "The body is not valid JSON.", [problem("", f"not valid JSON: {exc}")]
        ) from exc
    if _may_hold_nul(raw):
        refuse_nul([(pointer, text, None) for pointer, text in _texts(data)])
    return data


_NUL_OR_SURROGATE = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F])")


def _may_hold_nul(raw: bytes) -> bool:
    """Whether a body can hold a text no database stores: a raw NUL byte, or JSON's escape of
    a NUL or of a surrogate (the walk through every text is skipped for other bodies)."""
    return _NUL_OR_SURROGATE.search(raw) is not None


def _objects(items: list[Any], prefix: str) -> list[dict[str, Any]]:
    bad = [
        problem(f"{prefix}/{i}", "expected an object")
        for i, item in enumerate(items)
        if not isinstance(item, dict)
    ]
    if bad:
        raise ValidationFailed("Some rows are not objects.", bad)
    return items
