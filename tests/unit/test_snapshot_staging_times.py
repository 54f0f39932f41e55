"""The stored times of a snapshot's differing rows, made aware once per distinct time."""

from __future__ import annotations

from datetime import UTC, datetime

from service.store.snapshot_staging import _aware_times


def test_each_stored_time_comes_back_as_the_same_instant_in_utc():
    aware = _aware_times()
    stored = datetime(2026, 12, 7, 10, 30, 0, 250)
    assert aware(stored) == stored.replace(tzinfo=UTC)
    assert aware(stored).tzinfo is UTC


def test_equal_times_share_one_aware_value_and_none_stays_none():
    aware = _aware_times()
    first = aware(datetime(2026, 12, 7, 10, 30))
    assert aware(datetime(2026, 12, 7, 10, 30)) is first
    assert aware(datetime(2026, 12, 7, 10, 31)) != first
    assert aware(None) is None
