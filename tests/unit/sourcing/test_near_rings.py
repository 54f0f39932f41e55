"""Rings read cell by cell hand out what rings over every floor hand out (issue 18, 10,000
locations): the same locations, in the same order, with the same floors."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.domain.sourcing import ShippingModel, Weights, site_floors
from service.domain.sourcing.rings import NearUnread, Site, SiteTable, Unread
from tests.unit.sourcing.test_rings import _assert_rings_plan_as_a_full_read, instances

SHIPPING = (ShippingModel(5.0, 0.01),
            ShippingModel(zones=((300, 6.0), (1000, 9.0), (2500, 13.0)), beyond=18.0),
            ShippingModel(zones=((500, 12.0), (1500, 8.0)), beyond=20.0))  # not rising
WEIGHTS = (Weights(1.0, 200.0, 5.0, 2.0, 0.0), Weights(1.0, 0.0, 0.0, 0.0, 10.0),
           Weights(-1.0, 200.0, 5.0, 2.0, 0.0), Weights(0.5, 50.0, 1.0, -3.0, -10.0))


@st.composite
def tables(draw):
    rng = random.Random(draw(st.integers(0, 10**6)))
    count = draw(st.sampled_from((0, 1, 31, 33, 150, 400)))
    clustered = draw(st.booleans())  # many sites at one place: equal distances, equal floors
    sites = [Site(f"L{n}", 40.0 if clustered and n % 3 else rng.uniform(25, 49),
                  -90.0 if clustered and n % 3 else rng.uniform(-124, -67),
                  rng.choice((0.0, 0.5, rng.uniform(0, 1.5))), rng.choice((4.0, 12.0, 48.0)),
                  rng.randint(0, 3)) for n in range(count)]
    floors = [rng.choice((0.0, -50.0, 50.0)) for _ in sites]
    table = SiteTable(sites, draw(st.sampled_from(WEIGHTS)), floors)
    ship_to = (rng.uniform(20, 50), rng.uniform(-130, -60))
    excluded = [s.location_id for s in sites if rng.random() < 0.1]
    return table, ship_to, draw(st.sampled_from(SHIPPING)), draw(st.sampled_from((0, 150))), \
        excluded


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.lists(st.integers(1, 70), min_size=1, max_size=6),
       st.floats(-500, 3000))
def test_rings_cell_by_cell_hand_out_the_locations_rings_over_every_floor_hand_out(
        drawn, sizes, limit):
    table, ship_to, shipping, penalty, excluded = drawn
    floors = table.floors(ship_to, shipping, penalty).without(excluded)
    every = floors.every_floor()
    near, over_all = NearUnread(floors), Unread(every)
    distinct = len(set(every.values.tolist())) == len(every)
    floor_of = dict(zip(every.ids.tolist(), every.values.tolist(), strict=True))
    assert near.lowest_up_to(0.0) == over_all.lowest_up_to(0.0)
    for size in sizes:
        ring, expected = near.take(size), over_all.take(size)
        assert [floor_of[i] for i in ring] == [floor_of[i] for i in expected]
        if distinct:  # with equal floors at the ring's edge, either of them is as cheap
            assert ring == expected
        assert not set(ring) & set(excluded)
        assert len(near) == len(over_all)
        assert near.lowest() == over_all.lowest()
        assert min(near.below(limit, 64), 64) == min(over_all.below(limit), 64)


@settings(max_examples=100, deadline=None)
@given(tables())
def test_no_site_s_floor_is_below_the_bound_of_its_cell(drawn):
    table, ship_to, shipping, penalty, _excluded = drawn
    floors = table.floors(ship_to, shipping, penalty)
    bounds, values = floors.cell_bounds(), floors.every_floor().values
    if len(values):
        assert (values >= bounds[table.cells.cell_of]).all()


def test_a_table_patched_with_new_backlog_bounds_its_cells_as_one_built_afresh():
    rng = random.Random(5)
    sites = [Site(f"L{n}", rng.uniform(25, 49), rng.uniform(-124, -67), rng.uniform(0, 1.5))
             for n in range(200)]
    weights = WEIGHTS[0]
    moved = {f"L{n}": rng.uniform(0, 3) for n in range(0, 200, 7)}
    fresh = SiteTable([Site(s.location_id, s.lat, s.lon, moved.get(s.location_id,
                                                                  s.backlog_ratio))
                       for s in sites], weights, 0.0)
    patched = SiteTable(sites, weights, 0.0).with_backlog(moved)
    assert patched.cell_static.tobytes() == fresh.cell_static.tobytes()


def test_a_ring_of_sixteen_among_ten_thousand_sites_computes_a_few_hundred_floors():
    rng = random.Random(11)
    sites = [Site(f"L{n}", rng.uniform(25, 49), rng.uniform(-124, -67), rng.uniform(0, 1.5),
                  rng.choice((4.0, 12.0, 48.0))) for n in range(10_000)]
    table = SiteTable(sites, WEIGHTS[0], [rng.choice((0.0, -50.0)) for _ in sites])
    floors = table.floors((40.7, -74.0), SHIPPING[1], 150.0)
    unread = floors.unread()
    assert isinstance(unread, NearUnread)
    ring = unread.take(16)
    computed = len(ring) + len(unread.values)
    assert len(ring) == 16 and computed < 1_000
    expected = Unread(floors.every_floor()).take(16)
    assert ring == expected


def test_a_small_table_reads_its_rings_over_every_floor():
    table = SiteTable([Site("A", 40.0, -74.0), Site("B", 41.0, -75.0)], WEIGHTS[0], 0.0)
    assert isinstance(table.floors((40.0, -74.0), SHIPPING[0], 0.0).unread(), Unread)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from((1, 2, 5, 32)))
def test_a_plan_read_cell_by_cell_costs_what_the_plan_over_every_location_costs(instance,
                                                                                first):
    near_first_from = site_floors.NEAR_FIRST_FROM
    site_floors.NEAR_FIRST_FROM = 0  # every table, however small, read cell by cell
    try:
        _assert_rings_plan_as_a_full_read(instance, first, instance[-1])
    finally:
        site_floors.NEAR_FIRST_FROM = near_first_from


def test_every_floor_of_an_empty_table_is_none():
    table = SiteTable([], WEIGHTS[0], 0.0)
    unread = NearUnread(table.floors((40.0, -74.0), SHIPPING[0], 0.0))
    assert unread.take(16) == [] and unread.lowest() is None and len(unread) == 0
    assert np.isfinite(unread.lowest_up_to(0.0))
