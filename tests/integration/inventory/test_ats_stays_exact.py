"""The kept ATS always equals a full set-based recomputation, whatever happens."""

import threading
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from service.errors import InsufficientStock
from service.feeds.stock_rows import StockRow
from service.services.ats import kept as kept_ats
from service.services.inventory import deltas, reservations
from service.store.models import ChannelAvailability, StockPosition

T0 = datetime(2026, 3, 1, tzinfo=UTC)
LOCATIONS, SKUS = ["ST-1", "ST-2", "DC-1", "DS-1"], ["A", "B", "C"]


def kept(ctx):
    with ctx.sessions() as session:
        return {(r.channel, r.sku): r.available
                for r in session.scalars(select(ChannelAvailability))}


def recomputed(ctx):
    with ctx.transaction() as uow:
        kept_ats.recompute(uow, ctx.rules.active(uow))
    return kept(ctx)


def delta(ctx, location, sku, minute, on_hand=None, adjust=None):
    row = StockRow(1, location, sku, T0 + timedelta(minutes=minute), on_hand, adjust)
    with ctx.transaction() as uow:
        return deltas.apply_deltas(ctx, uow, [row], [], 1)


operation = st.one_of(
    st.tuples(st.just("count"), st.sampled_from(LOCATIONS), st.sampled_from(SKUS),
              st.integers(0, 30)),
    st.tuples(st.just("adjust"), st.sampled_from(LOCATIONS), st.sampled_from(SKUS),
              st.integers(-10, 10)),
    st.tuples(st.just("reserve"), st.sampled_from(["web", "marketplace"]),
              st.sampled_from(SKUS), st.integers(1, 6)),
    st.tuples(st.just("release"), st.just(""), st.just(""), st.integers(0, 5)),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operation, min_size=1, max_size=12))
def test_the_ats_kept_by_deltas_equals_a_full_recompute(small_network, ops):
    ctx = small_network
    reserved = []
    with ctx.sessions.begin() as session:
        session.query(StockPosition).delete()
    recomputed(ctx)
    for minute, (kind, a, b, n) in enumerate(ops):
        if kind == "count":
            delta(ctx, a, b, minute, on_hand=n)
        elif kind == "adjust":
            delta(ctx, a, b, minute, adjust=n)
        elif kind == "reserve":
            try:
                reserved.append(reservations.create(ctx, _admin(), {
                    "channel": a, "sku": b, "quantity": n})["id"])
            except InsufficientStock:
                pass
        elif reserved:
            reservations.release(ctx, _admin(), reserved.pop(n % len(reserved)))
    assert kept(ctx) == recomputed(ctx)


def _admin():
    from service.domain.roles import Role

    return Role.parse("admin")


def test_concurrent_deltas_on_one_position_all_apply(small_network):
    ctx = small_network
    delta(ctx, "DC-1", "A", 0, on_hand=0)
    barrier = threading.Barrier(8)

    def add_ones():
        barrier.wait()
        for _ in range(5):
            delta(ctx, "DC-1", "A", 1, adjust=1)

    threads = [threading.Thread(target=add_ones) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with ctx.sessions() as session:
        assert session.scalar(select(StockPosition.on_hand).where(
            StockPosition.sku == "A", StockPosition.location_id == "DC-1")) == 40
    assert kept(ctx)[("web", "A")] == 40
    assert kept(ctx) == recomputed(ctx)


def test_two_first_deltas_for_a_new_position_both_apply(small_network):
    ctx = small_network
    for location in LOCATIONS:
        for sku in SKUS:
            barrier = threading.Barrier(2)

            def add_one(location=location, sku=sku, barrier=barrier):
                barrier.wait()
                delta(ctx, location, sku, 1, adjust=1)

            threads = [threading.Thread(target=add_one) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    with ctx.sessions() as session:
        counts = {(p.location_id, p.sku): p.on_hand for p in session.scalars(select(StockPosition))}
    assert counts == {(loc, sku): 2 for loc in LOCATIONS for sku in SKUS}
    assert kept(ctx) == recomputed(ctx)
