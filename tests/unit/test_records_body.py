"""An order search page's JSON (records_body) is exactly what orjson writes for the rows'
dicts under their field names, whatever the values (text with quotes, backslashes, control
characters or non-ASCII, nulls, times with or without microseconds, numbers), and a row of
another length is refused as dict(zip(..., strict=True)) refuses it."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import orjson
import pytest

from service.api.fast_json import records_body
from service.services.orders.search import SUMMARY_FIELDS

TEXTS = ["", "web", 'a"b', "c\\d", "line\nbreak", "\x01\x1f\x7f", "caf\u00e9",
         "\U0001f600\u2028", "%s", "{}", "'", "null"]


def _expected(fields, rows):
    return orjson.dumps([dict(zip(fields, row, strict=True)) for row in rows],
                        option=orjson.OPT_NAIVE_UTC)


def _value(rng: random.Random):
    kind = rng.randrange(5)
    if kind == 0:
        return None
    if kind == 1:
        return datetime(2026, 12, 1) + timedelta(seconds=rng.randrange(10**6),
                                                 microseconds=rng.choice([0, 1, 120000]))
    if kind == 2:
        return rng.choice([0, -7, 2**40, True])
    return rng.choice(TEXTS)


def test_random_pages_are_the_dicts_bytes():
    rng = random.Random(14)
    for _ in range(300):
        rows = [tuple(_value(rng) for _ in SUMMARY_FIELDS) for _ in range(rng.randrange(6))]
        assert records_body(SUMMARY_FIELDS, rows) == _expected(SUMMARY_FIELDS, rows)


@pytest.mark.parametrize("fields", [(), ("a",), ("quote\"d", "back\\slash", "caf\u00e9"),
                                    ("same", "same")])
def test_any_field_names_are_written_as_the_dicts_would_be(fields):
    rows = [tuple(range(len(fields))), tuple(str(i) for i in range(len(fields)))]
    assert records_body(fields, rows) == _expected(fields, rows)


@pytest.mark.parametrize("row", [("x",), ("x", "y", "z")])
def test_a_row_of_another_length_is_refused(row):
    with pytest.raises(ValueError):
        records_body(("a", "b"), [("1", "2"), row])
