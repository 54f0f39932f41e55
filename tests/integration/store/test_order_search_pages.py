"""The order search's page statement: each page size gives exactly that many of the newest
orders, and on PostgreSQL the statement keeps its generic plan (the page size is in its text,
not bound), so a page is not planned again over every partition of `orders`."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, text

from service.store import kept_connections, order_search
from service.store.models import OrderRow
from service.store.order_search import OrderFilters

START = datetime(2026, 12, 1, 9, 0, 0)
WEB_SHIPPED = OrderFilters(channel="web", status="shipped")


def _write_orders(engine, count: int) -> list[str]:
    """`count` orders, a second apart, every other one web and shipped; their ids, newest
    first, of those that are web and shipped."""
    rows = [{"id": f"0search{i:06d}", "channel": "web" if i % 2 else "app",
             "status": "shipped", "delivery_method": "ship", "ruleset": "default@2",
             "ship_to": {}, "attributes": {}, "plan": {}, "explanation": {},
             "created_at": START + timedelta(seconds=i),
             "updated_at": START + timedelta(seconds=i, microseconds=120 * i)}
            for i in range(count)]
    with engine.begin() as conn:
        conn.execute(insert(OrderRow), rows)
    return [row["id"] for row in reversed(rows) if row["channel"] == "web"]


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_a_page_of_each_size_holds_that_many_of_the_newest_matching_orders(ctx, limit):
    newest_first = _write_orders(ctx.engine, 20)
    first = order_search.find_page(ctx.engine, WEB_SHIPPED, None, limit)
    assert [row[0] for row in first.rows] == newest_first[:limit]
    following = order_search.find_page(ctx.engine, WEB_SHIPPED, first.rows[-1][0], limit)
    assert [row[0] for row in following.rows] == newest_first[limit:2 * limit]


def test_pages_of_two_sizes_in_turn_each_get_their_own_size(ctx):
    newest_first = _write_orders(ctx.engine, 12)
    for limit in (2, 5, 2, 5, 100):
        page = order_search.find_page(ctx.engine, WEB_SHIPPED, None, limit)
        assert [row[0] for row in page.rows] == newest_first[:limit]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_page_statement_keeps_its_generic_plan_on_postgresql(ctx):
    with ctx.engine.begin() as conn:  # enough orders that a tenth of them is a dear guess
        conn.execute(text(
            "INSERT INTO orders (id, channel, status, delivery_method, ship_to, attributes,"
            " ruleset, plan, explanation, created_at, updated_at)"
            " SELECT '0plan' || lpad(i::text, 6, '0'), 'web', 'shipped', 'ship', '{}', '{}',"
            " 'default@2', '{}', '{}', :start + i * INTERVAL '1 second',"
            " :start + i * INTERVAL '1 second' FROM generate_series(1, 20000) AS i"),
            {"start": START})
        conn.execute(text("ANALYZE orders"))
    # a kept connection of its own: none of the search statements earlier tests prepared
    kept_connections.close(ctx.engine)
    for _ in range(12):  # psycopg prepares it on the 5th; PostgreSQL weighs plans on the 6th
        order_search.find_page(ctx.engine, WEB_SHIPPED, None, 100)
    plans = kept_connections.run(ctx.engine, lambda conn: conn.execute(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement LIKE '%FROM orders%ORDER BY orders.created_at DESC%'").fetchall())
    assert len(plans) == 1
    generic, custom = plans[0]
    assert generic > 0 and custom <= 5


def test_pages_after_a_cursor_go_on_through_orders_of_the_same_time_by_id(ctx):
    """Orders created in the same microsecond: the cursor (created_at, id) pages through
    them by id, newest first, none skipped or repeated."""
    rows = [{"id": f"0tie{i:03d}", "channel": "web", "status": "shipped",
             "delivery_method": "ship", "ruleset": "default@2", "ship_to": {},
             "attributes": {}, "plan": {}, "explanation": {},
             "created_at": START + timedelta(seconds=i // 3), "updated_at": START}
            for i in range(10)]
    with ctx.engine.begin() as conn:
        conn.execute(insert(OrderRow), rows)
    expected = sorted((row["id"] for row in rows), key=lambda i: (int(i[4:]) // 3, i),
                      reverse=True)
    seen, after = [], None
    while True:
        page = order_search.find_page(ctx.engine, WEB_SHIPPED, after, 2)
        seen += [row[0] for row in page.rows]
        if len(page.rows) < 2:
            break
        after = page.rows[-1][0]
    assert seen == expected
    assert order_search.find_page(ctx.engine, WEB_SHIPPED, "0nothing", 2) is None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_cursor_bounds_the_index_scan_on_postgresql(ctx):
    """The cursor is an index condition, not a filter over every newer order."""
    _write_orders(ctx.engine, 20)
    sql, defaults = order_search._pg_text(ctx.engine.dialect, frozenset({"channel", "status"}),
                                          True, 5)
    values = defaults | {"channel": "web", "status": "shipped", "after": "0search000011"}
    with ctx.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, values))
    assert "Index Cond" in plan and "ROW(created_at" in plan.replace("orders.", "")
