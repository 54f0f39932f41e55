"""JSON answers encoded by orjson, about ten times cheaper than jsonify's encoder.

`json_response`, `document_response` (a placed order) and `records_response` (the hot
reads: GET /v1/orders): the same JSON values as jsonify's (non-ASCII text goes as UTF-8
rather than \\u escapes, keys in their order rather than sorted, and there is no trailing
newline; all the same JSON). `jsonify_flat`: jsonify's exact bytes, for answers
of text, whole numbers and nulls (availability lookups); any other answer goes through
jsonify itself."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
from flask import Response, current_app, jsonify

# values both encoders write alike: no floats (their exponents differ, NaN), no dates
_SCALARS = frozenset({str, int, bool, type(None)})


def json_response(data: Any) -> Response:
    """`data` as an application/json answer."""
    return current_app.response_class(orjson.dumps(data), mimetype="application/json")


# a stored document's options: numpy numbers as numbers, keys that are not text as text
_DOCUMENT = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _exact(value: Any) -> str:
    if isinstance(value, Decimal):  # as jsonify writes an amount: its exact text
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def document_response(data: dict[str, Any]) -> Response:
    """`data`, a document the service stores as JSON (a placed order's 201 body), as an
    application/json answer: the JSON values jsonify writes (amounts as their text), as
    `json_response` writes them."""
    body = orjson.dumps(data, default=_exact, option=_DOCUMENT)
    return current_app.response_class(body, mimetype="application/json")


def records_response(fields: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Response:
    """`rows` as an application/json array of objects, each row's values under `fields`
    in order: `json_response` of those dicts, with naive datetimes (UTC as stored) written
    as `value.replace(tzinfo=UTC).isoformat()` writes them (orjson's OPT_NAIVE_UTC: the
    same text, no microseconds when there are none), and no text built per value here."""
    return current_app.response_class(records_body(fields, rows),
                                      mimetype="application/json")


def records_body(fields: tuple[str, ...], rows: list[tuple[Any, ...]]) -> bytes:
    """records_response's body (also the plain order search's, answered without Flask)."""
    return orjson.dumps(_objects(fields)(rows), option=orjson.OPT_NAIVE_UTC)


@lru_cache(maxsize=64)
def _objects(fields: tuple[str, ...]) -> Callable[[list[tuple[Any, ...]]], list[dict[str, Any]]]:
    """A function of rows to their dicts under `fields`: `[dict(zip(fields, row,
    strict=True)) for row in rows]` (a row of another length is a ValueError), written as
    a comprehension of dict displays, `[{"id": v0, ...} for v0, ... in rows]`, whose
    constant keys are built into each dict at once (as namedtuple builds its class, from
    source): measured 32 us for 100 rows of 9 fields against 146 us, the page's largest
    Python cost."""
    names = [f"v{i}" for i in range(len(fields))]
    pairs = ", ".join(f"{field!r}: {name}" for field, name in zip(fields, names, strict=True))
    unpacked = "".join(f"{name}, " for name in names)
    return eval(f"lambda rows: [{{{pairs}}} for ({unpacked}) in rows]")  # noqa: S307


def jsonify_flat(data: dict[str, Any]) -> Response:
    """jsonify(data), byte for byte (compact, ASCII with \\u escapes, a trailing newline),
    encoded by orjson when data holds only text, whole numbers, booleans and nulls, directly
    or in lists of them or of objects of them."""
    body = flat_body(data)
    if body is not None:
        return current_app.response_class(body, mimetype="application/json")
    return jsonify(data)


def flat_body(data: dict[str, Any]) -> bytes | None:
    """jsonify's bytes for data, when orjson writes them alike (see jsonify_flat); else None."""
    if not _flat(data):
        return None
    try:
        body = orjson.dumps(data)
    except orjson.JSONEncodeError:  # an integer past 64 bits, a key that is no text
        return None
    if body.isascii() and b"\x7f" not in body:  # else jsonify's \\u escapes
        return body + b"\n"
    return None


def _flat(data: dict[str, Any]) -> bool:
    for value in data.values():
        kind = type(value)
        if kind is list:
            for item in value:
                if type(item) is dict:
                    if not all(type(v) in _SCALARS for v in item.values()):
                        return False
                elif type(item) not in _SCALARS:
                    return False
        elif kind not in _SCALARS:
            return False
    return True
