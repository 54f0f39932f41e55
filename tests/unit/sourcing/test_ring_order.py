"""The rings hand out locations by rising floor without sorting every location (issue 18)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from service.domain.sourcing.rings import Floors, Unread


@given(st.lists(st.sampled_from((-5.0, 0.0, 1.5, 2.0, 2.0, 7.25, 1e9)), max_size=60),
       st.lists(st.integers(1, 20), min_size=1, max_size=8))
def test_rings_read_every_location_once_and_never_leave_a_lower_floor_unread(values, sizes):
    floors = Floors(np.array([f"L{n}" for n in range(len(values))], dtype=object),
                    np.array(values, dtype=float))
    floor_of = dict(zip(floors.ids.tolist(), values, strict=True))
    unread, read = Unread(floors), []
    for size in sizes * 10:
        ring = unread.take(size)
        assert [floor_of[i] for i in ring] == sorted(floor_of[i] for i in ring)
        assert len(ring) == min(size, len(values) - len(read))
        read += ring
        lowest = unread.lowest()
        if lowest is None:
            assert len(read) == len(values)
            break
        assert max(floor_of[i] for i in read) <= lowest == min(
            f for i, f in floor_of.items() if i not in read)
    assert len(read) == len(set(read))
    assert set(read) <= set(floor_of)


def test_the_sorted_view_of_the_floors_lists_every_location_cheapest_first():
    floors = Floors(np.array(["a", "b", "c", "d"], dtype=object),
                    np.array([3.0, 1.0, 3.0, -2.0]))
    assert floors.location_ids == ["d", "b", "a", "c"]
    assert floors.floors == [-2.0, 1.0, 3.0, 3.0]
    assert len(floors) == 4


def test_a_table_without_locations_has_nothing_to_read():
    unread = Unread(Floors(np.array([], dtype=object), np.array([], dtype=float)))
    assert unread.take(16) == [] and unread.lowest() is None
