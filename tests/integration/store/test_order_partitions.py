"""Orders by month: PostgreSQL stores each order in its month's partition of `orders` (by its
time-ordered id), an order of a month without one in `orders_default`, and the months ahead
are created without moving a row; SQLite keeps one table, and both behave the same."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from service.clock import MovableClock
from service.domain.ids import id_prefix, time_ordered_id
from service.domain.roles import Role
from service.services.orders import placing
from service.store.db import make_engine
from service.store.migrate import upgrade
from service.store.models import OrderKeyRow, OrderRow
from service.store.order_partitions import ensure_order_partitions, month_bounds, months
from tests.integration.orders.test_concurrent_orders import concurrently, scarce  # noqa: F401
from tests.integration.store.test_order_ref_migration import fresh_url  # noqa: F401
from tests.integration.store.test_upgrade_populated import COUNTED, ROWS

ADMIN = Role.parse("admin")
ORDER_ROWS = [row for row in ROWS if "hold_deadlines" not in row]  # gone by 0025
TABLES = [table for table in COUNTED if table != "reservation_deadlines"]
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


def test_migration_0027_keeps_every_order_its_keys_and_every_reference(fresh_url):  # noqa: F811
    upgrade(fresh_url, "0025")
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        for row in ORDER_ROWS:  # 0007's rows; a return as 0025 has it
            conn.execute(text(row.replace("(id, order_id, status, created_at) VALUES ('r-1',"
                                          " 'o-1',", "(id, order_id, channel, status, created_at,"
                                          " updated_at) VALUES ('r-1', 'o-1', 'web',")
                              .replace("'open', '2026-01-01 00:00:00')",
                                       "'opened', '2026-01-01 00:00:00', '2026-01-01 00:00:00')")))
        conn.execute(text("UPDATE orders SET idempotency_key = 'k-1'"))
        before = {t: conn.scalar(text(f"SELECT COUNT(*) FROM {t}")) for t in TABLES}
        references = _references(conn)
    upgrade(fresh_url, "0031")  # (0032 then drops two of them: the lines' and fulfilments')
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        assert {t: conn.scalar(text(f"SELECT COUNT(*) FROM {t}")) for t in TABLES} == before
        assert _references(conn) == references
        keys = conn.execute(text("SELECT order_id, channel, idempotency_key, order_ref "
                                 "FROM order_keys")).all()
        assert [tuple(k) for k in keys] == ([("o-1", "web", "k-1", "WEB-1")] if postgresql
                                            else [])
        if postgresql:
            assert conn.scalar(text("SELECT tableoid::regclass::text FROM orders")) == (
                "orders_legacy")
    with pytest.raises(IntegrityError), engine.begin() as conn:  # a line needs its order
        conn.execute(text(
            "INSERT INTO order_lines (id, order_id, line_no, sku, quantity, unit_price,"
            " quantity_cancelled, quantity_backordered) VALUES (2, 'nope', 1, 'SKU-1', 1, 1,"
            " 0, 0)"))
    engine.dispose()


def _references(conn) -> list[tuple[str, str]]:
    """(table, foreign key) of every foreign key to orders (PostgreSQL; SQLite: by pragma)."""
    if conn.dialect.name == "sqlite":
        return sorted((table, str(fk[3])) for table in ("order_lines", "fulfilments", "returns",
                                                       "settlement_records")
                      for fk in conn.execute(text(f"PRAGMA foreign_key_list({table})"))
                      if fk[2] == "orders")
    return sorted(tuple(r) for r in conn.execute(text(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
        "AND confrelid = 'orders'::regclass AND conparentid = 0")))  # not partitions' copies
