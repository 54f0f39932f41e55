"""Orders by month: PostgreSQL stores each order in its month's partition of `orders` (by its
time-ordered id), an order of a month without one in `orders_default`, and the months ahead
are created without moving a row; SQLite keeps one table, and both behave the same."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from service.clock import MovableClock
from service.domain.ids import id_prefix, time_ordered_id
from service.domain.roles import Role
from service.services.orders import placing
from service.store.models import OrderKeyRow, OrderRow
from service.store.order_partitions import ensure_order_partitions, month_bounds, months
from tests.integration.orders.test_concurrent_orders import concurrently, scarce  # noqa: F401

ADMIN = Role.parse("admin")
BODY = {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0},
        "lines": [{"sku": "A", "quantity": 1}]}


@pytest.fixture
def policy() -> str:
    return "ledger@1"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def partition_of(ctx, order_id: str) -> str | None:
    """The partition holding the order (None on SQLite: one table)."""
    if ctx.engine.dialect.name != "postgresql":
        return None
    with ctx.engine.connect() as conn:
        return conn.scalar(text("SELECT tableoid::regclass::text FROM orders WHERE id = :id"),
                           {"id": order_id})


def move_to(clock: MovableClock, when: datetime) -> None:
    clock.advance((when - clock.now()).total_seconds())


def place_at(ctx, clock: MovableClock, when: datetime, key: str | None = None) -> dict:
    move_to(clock, when)
    return placing.place(ctx, ADMIN, BODY, key)


def test_order_ids_sort_by_time_and_name_their_millisecond():
    early, late = datetime(2026, 12, 31, 23, 59, 59, 999000, UTC), datetime(2027, 1, 1, tzinfo=UTC)
    first, second = time_ordered_id(early), time_ordered_id(late)
    assert len(first) == 32 and int(first, 16) >= 0 and first < second
    assert first.startswith(id_prefix(early)) and second.startswith(id_prefix(late))
    assert month_bounds(datetime(2026, 12, 1, tzinfo=UTC)) == (id_prefix(datetime(
        2026, 12, 1, tzinfo=UTC)), id_prefix(late))


def test_a_new_order_lands_in_its_months_partition(scarce, clock):  # noqa: F811
    now = datetime.now(UTC)
    placed = place_at(scarce, clock, now)
    assert placed["id"].startswith(id_prefix(now)[:8])
    expected = {"postgresql": f"orders_p{now:%Y_%m}", "sqlite": None}
    assert partition_of(scarce, placed["id"]) == expected[scarce.engine.dialect.name]


@pytest.mark.parametrize("when", [datetime(1999, 1, 2, tzinfo=UTC),
                                  datetime(2041, 6, 7, tzinfo=UTC)])
def test_an_order_far_in_the_past_or_future_is_placed_and_read_back(scarce, clock, when):  # noqa: F811
    placed = place_at(scarce, clock, when, key="far")
    with scarce.sessions() as session:
        stored = session.get(OrderRow, placed["id"])
        assert stored is not None and stored.created_at == when
    expected = {"postgresql": "orders_default", "sqlite": None}
    assert partition_of(scarce, placed["id"]) == expected[scarce.engine.dialect.name]
    again = place_at(scarce, clock, datetime.now(UTC), key="far")  # a retry, much later
    assert again["id"] == placed["id"] and again["idempotent_replay"] is True


def test_concurrent_retries_of_one_key_make_one_order_with_one_key_row(scarce, clock):  # noqa: F811
    results = concurrently(6, lambda _n: [placing.place(scarce, ADMIN, BODY, "k1")["id"]])
    assert len(set(results)) == 1
    with scarce.sessions() as session:
        orders = session.scalars(select(OrderRow.id).where(OrderRow.idempotency_key == "k1"))
        keys = session.scalars(select(OrderKeyRow.order_id)).all()
    assert list(orders) == results[:1]
    # PostgreSQL keeps the unique key beside the partitioned orders; SQLite on orders itself
    assert keys == (results[:1] if scarce.engine.dialect.name == "postgresql" else [])


def test_months_ahead_are_created_around_orders_the_default_partition_holds(scarce, clock):  # noqa: F811
    if scarce.engine.dialect.name != "postgresql":
        with scarce.engine.begin() as conn:
            assert ensure_order_partitions(conn, datetime.now(UTC)) == []
        return
    month = datetime(2038, 3, 1, tzinfo=UTC)
    early = place_at(scarce, clock, datetime(2038, 3, 10, tzinfo=UTC))["id"]
    with scarce.engine.begin() as conn:
        created = ensure_order_partitions(conn, month, months_ahead=1)
        assert ensure_order_partitions(conn, month, months_ahead=1) == []
    try:
        assert created == ["orders_p2038_03", "orders_p2038_03_1", "orders_p2038_04"]
        assert partition_of(scarce, early) == "orders_default"
        before = place_at(scarce, clock, datetime(2038, 3, 2, tzinfo=UTC))["id"]
        after = place_at(scarce, clock, datetime(2038, 3, 20, tzinfo=UTC))["id"]
        assert partition_of(scarce, before) == "orders_p2038_03"
        assert partition_of(scarce, after) == "orders_p2038_03_1"
    finally:
        with scarce.engine.begin() as conn:
            conn.execute(text("DELETE FROM order_keys"))
            for table in ("settlement_records", "events", "fulfilment_lines", "fulfilments",
                          "order_lines"):
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(text("DELETE FROM orders"))
            for name in created:
                conn.execute(text(f"ALTER TABLE orders DETACH PARTITION {name}"))
                conn.execute(text(f"DROP TABLE {name}"))


def test_months_count_across_years():
    now = datetime(2026, 12, 6, tzinfo=UTC)
    assert [m.strftime("%Y-%m") for m in months(now, -1, 2)] == [
        "2026-11", "2026-12", "2027-01", "2027-02"]
