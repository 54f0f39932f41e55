"""Partition periods: months, weeks and days; the periods ahead; what no partition covers
yet; which partitions are past retention."""

from datetime import UTC, datetime

from service.domain.partitions import (
    Partition,
    gaps,
    partition_name,
    past_retention,
    period_after,
    period_start,
    wanted,
)


def test_a_month_starts_on_its_first_day_and_december_is_followed_by_january():
    assert period_start(datetime(2026, 12, 31, 23, 59), "month") == datetime(2026, 12, 1)
    assert period_after(datetime(2026, 12, 1), "month") == datetime(2027, 1, 1)


def test_a_week_starts_on_monday_and_a_day_at_midnight():
    assert period_start(datetime(2026, 12, 6, 13, 0), "week") == datetime(2026, 11, 30)
    assert period_after(datetime(2026, 11, 30), "week") == datetime(2026, 12, 7)
    assert period_start(datetime(2026, 12, 6, 13, 0), "day") == datetime(2026, 12, 6)


def test_an_aware_time_gives_naive_utc_bounds():
    assert period_start(datetime(2026, 12, 6, 13, 0, tzinfo=UTC), "month") == datetime(
        2026, 12, 1)


def test_the_current_period_and_the_ones_ahead_are_wanted():
    assert wanted(datetime(2026, 11, 20), "month", 2) == [
        (datetime(2026, 11, 1), datetime(2026, 12, 1)),
        (datetime(2026, 12, 1), datetime(2027, 1, 1)),
        (datetime(2027, 1, 1), datetime(2027, 2, 1))]


def test_a_partition_is_named_after_its_table_and_first_day():
    assert partition_name("events", datetime(2026, 12, 1)) == "events_p20261201"


def month(name: str, start: datetime, end: datetime) -> Partition:
    return Partition(name, start, end)


def test_periods_already_covered_are_not_created_again_and_a_partly_covered_one_only_in_part():
    existing = [month("m", datetime(2026, 12, 1), datetime(2027, 1, 1)),
                Partition("events_default", None, None)]
    weeks = [(datetime(2026, 12, 28), datetime(2027, 1, 4)),
             (datetime(2027, 1, 4), datetime(2027, 1, 11))]
    assert gaps(weeks, existing) == [(datetime(2027, 1, 1), datetime(2027, 1, 4)),
                                     (datetime(2027, 1, 4), datetime(2027, 1, 11))]
    assert gaps([(datetime(2026, 12, 1), datetime(2027, 1, 1))], existing) == []


def test_a_period_ending_where_a_partition_begins_is_cut_short():
    existing = [month("m", datetime(2027, 1, 1), datetime(2027, 2, 1))]
    assert gaps([(datetime(2026, 12, 28), datetime(2027, 1, 4))], existing) == [
        (datetime(2026, 12, 28), datetime(2027, 1, 1))]


def test_only_bounded_partitions_wholly_older_than_retention_are_past_it():
    old = month("old", datetime(2026, 9, 1), datetime(2026, 10, 1))
    edge = month("edge", datetime(2026, 10, 1), datetime(2026, 11, 1))
    young = month("young", datetime(2026, 11, 1), datetime(2026, 12, 1))
    default = Partition("d", None, None)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert past_retention([young, default, edge, old], now, 30) == [old, edge]
    assert past_retention([young, default, edge, old], now, 31) == [old]
    assert past_retention([old], now, None) == []
