"""A site table whose backlog moved is patched, not rebuilt, and equals a fresh build."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.sourcing import ShippingModel, Weights
from service.domain.sourcing.rings import Site, SiteTable

WEIGHTS = Weights(distance_km=1.0, backlog_ratio=37.3, processing_hours=2.7, shipping_cost=1.1,
                  priority=-0.3)
SITES = [Site(f"L{i}", 40.0 + i * 0.37, -74.0 + i * 0.91, i / 7, 1.5 + i % 4, i % 3)
         for i in range(12)]

ratios = st.dictionaries(st.sampled_from([s.location_id for s in SITES] + ["GONE"]),
                         st.floats(0, 1e6, allow_nan=False), max_size=12)


@settings(max_examples=200, deadline=None)
@given(moved=ratios, floor=st.floats(-1e4, 0, allow_nan=False))
def test_a_table_patched_with_new_backlog_ratios_equals_one_built_afresh_bit_for_bit(moved,
                                                                                       floor):
    built = SiteTable(SITES, WEIGHTS, floor)
    fresh = SiteTable([replace(s, backlog_ratio=moved.get(s.location_id, s.backlog_ratio))
                       for s in SITES], WEIGHTS, floor)
    patched = built.with_backlog(moved)
    assert patched.static.tobytes() == fresh.static.tobytes()
    ship_to, shipping = (41.2, -73.5), ShippingModel(5.0, 0.01)
    assert patched.floors(ship_to, shipping, 3.0).values.tobytes() == fresh.floors(
        ship_to, shipping, 3.0).values.tobytes()
    assert patched.sites == fresh.sites


def test_patching_a_table_leaves_the_table_it_was_patched_from_as_it_was():
    built = SiteTable(SITES, WEIGHTS, -2.0)
    static = built.static.copy()
    built.with_backlog({"L3": 99.0, "L5": 0.0})
    assert np.array_equal(built.static, static)
    assert built.sites == SITES
