"""Every migration upgrades a database in use: orders with lines, fulfilments, returns and
settlements (rows other tables point at) survive 0007 → head with every row and reference
intact (SQLite and PostgreSQL, each on a database of its own). SQLite rebuilds a table to
change it, which a plain rebuild of `orders` under enforced foreign keys refused."""

from sqlalchemy import text

from service.store.db import make_engine
from service.store.migrate import upgrade
from tests.integration.store.test_order_ref_migration import fresh_url  # noqa: F401

T0 = "'2026-01-01 00:00:00'"
ROWS = [
    "INSERT INTO locations (id, name, type, lat, lon, postal_code, country, region, can_ship,"
    " can_pickup, daily_capacity, processing_hours, priority, tags, tags_text, active,"
    f" updated_at) VALUES ('DC-1', 'DC', 'dc', 40.7, -74.0, '10001', 'US', 'NE', TRUE, FALSE,"
    f" 100, 4, 1, '[]', '', TRUE, {T0})",
    "INSERT INTO products (sku, name, category, brand, price, tags, tags_text, attributes,"
    f" updated_at) VALUES ('SKU-1', 'Mug', 'home', 'acme', 9.5, '[]', '', '{{}}', {T0})",
    "INSERT INTO stock_positions (id, location_id, sku, on_hand, as_of, allocated, reserved,"
    f" updated_at) VALUES (1, 'DC-1', 'SKU-1', 10, {T0}, 2, 0, {T0})",
    "INSERT INTO channel_availability (channel, sku, available, ruleset, updated_at)"
    f" VALUES ('web', 'SKU-1', 8, 'default@1', {T0})",
    "INSERT INTO orders (id, channel, order_ref, status, delivery_method, ship_to, attributes,"
    " ruleset, variant, plan, explanation, created_at, updated_at) VALUES ('o-1', 'web',"
    f" 'WEB-1', 'allocated', 'ship', '{{}}', '{{}}', 'default@1', 'A', '{{}}', '{{}}', {T0}, {T0})",
    "INSERT INTO order_lines (id, order_id, line_no, sku, quantity, unit_price,"
    " quantity_cancelled, quantity_backordered) VALUES (1, 'o-1', 1, 'SKU-1', 3, 9.5, 1, 0)",
    "INSERT INTO fulfilments (id, order_id, location_id, status, cost, factors, created_at,"
    f" updated_at) VALUES ('f-1', 'o-1', 'DC-1', 'created', 5.5, '{{}}', {T0}, {T0})",
    "INSERT INTO fulfilment_lines (id, fulfilment_id, order_line_id, sku, quantity,"
    " quantity_shipped, quantity_rejected, quantity_cancelled) VALUES (1, 'f-1', 1, 'SKU-1',"
    " 2, 0, 0, 0)",
    f"INSERT INTO returns (id, order_id, status, created_at) VALUES ('r-1', 'o-1', 'open', {T0})",
    "INSERT INTO return_lines (id, return_id, order_line_id, sku, quantity) VALUES"
    " (1, 'r-1', 1, 'SKU-1', 1)",
    "INSERT INTO settlement_records (id, kind, order_id, order_line_id, sku, quantity, amount,"
    f" created_at) VALUES (1, 'cancelled', 'o-1', 1, 'SKU-1', 1, 9.5, {T0})",
    f"INSERT INTO hold_deadlines (sku, due_at) VALUES ('SKU-1', {T0})",
]
COUNTED = ["locations", "products", "stock_positions", "channel_availability", "orders",
           "order_lines", "fulfilments", "fulfilment_lines", "returns", "return_lines",
           "settlement_records", "reservation_deadlines"]


def test_a_database_holding_orders_and_everything_pointing_at_them_upgrades_to_head(
        fresh_url):  # noqa: F811
    upgrade(fresh_url, "0007")
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        for row in ROWS:
            conn.execute(text(row))
    upgrade(fresh_url)
    with engine.begin() as conn:
        counts = {t: conn.scalar(text(f"SELECT COUNT(*) FROM {t}")) for t in COUNTED}
        assert counts == dict.fromkeys(COUNTED, 1)
        order = conn.execute(text("SELECT order_ref, status FROM orders")).one()
        assert tuple(order) == ("WEB-1", "allocated")
        assert conn.scalar(text("SELECT amount FROM settlement_records")) == 9.5
        assert conn.scalar(text("SELECT available FROM channel_availability")) == 8
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            assert conn.scalar(text("PRAGMA foreign_keys")) == 1
    engine.dispose()
