"""Migration 0012 on a database already in use (SQLite and PostgreSQL): the cache versions
are seeded and each location's backlog is counted from the fulfilments open at the time."""

from datetime import datetime

from sqlalchemy import insert, text

from service.store.db import make_engine
from service.store.migrate import upgrade
from service.store.models import FulfilmentLineRow, FulfilmentRow, Location, OrderLineRow, Product
from tests.integration.store.test_order_ref_migration import ORDER, fresh_url  # noqa: F401

AT = datetime(2026, 1, 1)


def fulfilment(fid: str, location: str, status: str) -> dict:
    return {"id": fid, "order_id": "o-1", "location_id": location, "status": status,
            "created_at": AT, "updated_at": AT}


def test_an_upgrade_seeds_the_versions_and_counts_the_open_lines_per_location(fresh_url):  # noqa: F811
    upgrade(fresh_url, "0010")
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(insert(Product.__table__), [{"sku": "A", "name": "a", "updated_at": AT}])
        conn.execute(insert(Location.__table__), [
            {"id": loc, "name": loc, "type": "dc", "lat": 1, "lon": 2, "updated_at": AT}
            for loc in ("L1", "L2", "L3")])
        conn.execute(ORDER, {"id": "o-1", "channel": "web", "ref": None})
        conn.execute(insert(OrderLineRow.__table__), [
            {"id": n, "order_id": "o-1", "line_no": n, "sku": "A", "quantity": 1}
            for n in (1, 2, 3)])
        conn.execute(insert(FulfilmentRow.__table__), [
            fulfilment("f-1", "L1", "created"), fulfilment("f-2", "L2", "shipped"),
            fulfilment("f-3", "L2", "packed"), fulfilment("f-4", "L3", "cancelled")])
        conn.execute(insert(FulfilmentLineRow.__table__), [
            {"fulfilment_id": fid, "order_line_id": line, "sku": "A", "quantity": 1}
            for fid, line in (("f-1", 1), ("f-1", 2), ("f-2", 3), ("f-3", 3), ("f-4", 1))])
    upgrade(fresh_url)
    with engine.begin() as conn:
        backlog = dict(conn.execute(text(
            "SELECT location_id, open_lines FROM location_backlog")).all())
        versions = dict(conn.execute(text("SELECT name, version FROM cache_versions")).all())
    assert backlog == {"L1": 2, "L2": 1}
    assert versions == {"catalog": 1, "keys": 1, "experiments": 1}  # (0025 seeds experiments)
    engine.dispose()
