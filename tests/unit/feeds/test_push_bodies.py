"""Row bodies the API reads (master data CSV), without a database."""

import pytest

from service.api.bodies import parse_csv
from service.errors import MalformedBody


def test_a_csv_body_is_read_as_text_rows():
    assert parse_csv(b"sku,name\nA,Alpha\nB,\n") == [{"sku": "A", "name": "Alpha"}, {"sku": "B"}]


def test_an_unreadable_csv_body_is_a_malformed_body_naming_the_line():
    with pytest.raises(MalformedBody) as refused:
        parse_csv(b"sku,name\nA,Alpha\nB," + b"x" * 200_000 + b"\n")
    assert refused.value.problems[0]["message"].startswith(
        "not valid CSV after line 2: field larger")
