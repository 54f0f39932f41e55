from datetime import UTC, datetime, timedelta

import pytest

from service.domain.ledger import (
    MAX_QUANTITY,
    OverMaximum,
    Position,
    Update,
    Verdict,
    apply_update,
    ship,
    zeroed_share,
)

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_a_count_sets_on_hand_and_as_of():
    verdict, after = apply_update(Position(5, T0), Update(T0 + timedelta(minutes=1), on_hand=8))
    assert verdict is Verdict.APPLIED and after.on_hand == 8
    assert after.as_of == T0 + timedelta(minutes=1)


def test_an_older_count_is_stale_and_ignored():
    current = Position(5, T0)
    verdict, after = apply_update(current, Update(T0 - timedelta(seconds=1), on_hand=99))
    assert verdict is Verdict.STALE and after == current


def test_a_count_at_the_same_time_applies():
    verdict, after = apply_update(Position(5, T0), Update(T0, on_hand=6))
    assert verdict is Verdict.APPLIED and after.on_hand == 6


def test_the_same_count_again_is_unchanged():
    verdict, _ = apply_update(Position(5, T0), Update(T0, on_hand=5))
    assert verdict is Verdict.UNCHANGED


def test_an_adjustment_moves_on_hand_and_never_below_zero():
    _, after = apply_update(Position(5, T0), Update(T0, adjust=-2))
    assert after.on_hand == 3
    _, after = apply_update(Position(5, T0), Update(T0, adjust=-9))
    assert after.on_hand == 0


def test_an_adjustment_never_takes_a_position_past_the_most_it_holds():
    _, after = apply_update(Position(MAX_QUANTITY - 3, T0), Update(T0, adjust=3))
    assert after.on_hand == MAX_QUANTITY
    with pytest.raises(OverMaximum, match="more than 10000000"):
        apply_update(Position(MAX_QUANTITY - 3, T0), Update(T0, adjust=4))


def test_a_first_count_creates_the_position():
    verdict, after = apply_update(None, Update(T0, on_hand=4))
    assert verdict is Verdict.APPLIED and after == Position(4, T0)


def test_allocated_and_reserved_survive_a_count():
    _, after = apply_update(Position(5, T0, allocated=2, reserved=1), Update(T0, on_hand=9))
    assert (after.allocated, after.reserved, after.available) == (2, 1, 6)


def test_available_never_goes_negative():
    assert Position(1, T0, allocated=3).available == 0


def test_shipping_takes_units_off_the_shelf_and_the_allocation():
    after = ship(Position(10, T0, allocated=4), 3, T0 + timedelta(hours=1))
    assert (after.on_hand, after.allocated) == (7, 1)
    assert after.shipped_at == T0 + timedelta(hours=1) and after.as_of == T0


def test_a_count_older_than_a_shipment_never_brings_shipped_units_back():
    shipped = ship(Position(10, T0, allocated=4), 4, T0 + timedelta(hours=1))
    verdict, after = apply_update(shipped, Update(T0 + timedelta(minutes=30), on_hand=10))
    assert verdict is Verdict.STALE and after.on_hand == 6


def test_a_count_after_the_shipment_is_authoritative_again():
    shipped = ship(Position(10, T0, allocated=4), 4, T0 + timedelta(hours=1))
    verdict, after = apply_update(shipped, Update(T0 + timedelta(hours=2), on_hand=9))
    assert verdict is Verdict.APPLIED and after.on_hand == 9


def test_zeroed_share_is_the_share_of_stocked_positions():
    assert zeroed_share(10, 6) == 0.6
    assert zeroed_share(0, 0) == 0.0


def test_a_shipment_older_than_what_the_position_knows_still_takes_its_units_off():
    # as_of may come from another shipment or an adjustment, not a count without the parcel
    known = Position(10, T0 + timedelta(hours=2), allocated=5)
    after = ship(ship(known, 2, T0 + timedelta(hours=1)), 3, T0 + timedelta(hours=1))
    assert (after.on_hand, after.allocated) == (5, 0)
    assert after.as_of == T0 + timedelta(hours=2)


def test_shipping_never_drives_the_shelf_or_the_allocation_below_zero():
    after = ship(Position(2, T0, allocated=1), 3, T0 + timedelta(hours=1))
    assert (after.on_hand, after.allocated) == (0, 0)


def test_an_adjustment_recorded_before_a_shipment_still_applies():
    # a till sale at 10:30, reported after a parcel left at 11:00: both units are gone
    shipped = ship(Position(10, T0, allocated=4), 4, T0 + timedelta(hours=1))
    verdict, after = apply_update(shipped, Update(T0 + timedelta(minutes=30), adjust=-1))
    assert verdict is Verdict.APPLIED and after.on_hand == 5
    assert after.shipped_at == T0 + timedelta(hours=1)


def test_an_adjustment_older_than_the_last_count_is_still_stale():
    counted = Position(10, T0 + timedelta(hours=1))
    verdict, after = apply_update(counted, Update(T0, adjust=3))
    assert verdict is Verdict.STALE and after.on_hand == 10


def test_the_newest_shipment_is_kept_whatever_order_they_are_reported_in():
    later_first = ship(Position(10, T0, allocated=5), 2, T0 + timedelta(hours=2))
    after = ship(later_first, 3, T0 + timedelta(hours=1))
    assert after.shipped_at == T0 + timedelta(hours=2) and after.on_hand == 5
