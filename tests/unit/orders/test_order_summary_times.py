"""The search's fast path for times: a stored (naive UTC) time becomes the very text the
aware time's isoformat() gives, which every other answer of the API shows."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from service.services.orders.search import utc_text


def test_a_time_on_the_second_and_one_with_microseconds_read_as_isoformat_does():
    on_the_second = datetime(2026, 1, 1, 0, 0, 31)
    precise = datetime(2026, 12, 31, 23, 59, 59, 120)
    assert utc_text(on_the_second) == "2026-01-01T00:00:31+00:00"
    assert utc_text(precise) == "2026-12-31T23:59:59.000120+00:00"


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_any_stored_time_reads_exactly_as_its_aware_isoformat(stored):
    assert utc_text(stored) == stored.replace(tzinfo=UTC).isoformat()
