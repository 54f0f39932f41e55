"""A write is seen by the next request of every process: two `oms serve` processes (one
worker each) on one database, a write through one and the next request through the other at
once (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from service.services.access.keys import create_key
from tests.processes import call, serve, write_config
from tests.support import T1, T2


@pytest.fixture
def policy() -> str:
    return "strict@1"


@pytest.fixture
def two_servers(small_network, ctx, db_url, tmp_path):
    config = write_config(tmp_path, db_url)
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    servers = [serve(config, f"serve-{i}", workers=1, **shared) for i in range(2)]
    yield servers
    for served in servers:
        served.process.stop()


def delta(location: str, sku: str, on_hand: int, as_of: str = T2) -> dict:
    return {"as_of": as_of, "items": [{"location": location, "sku": sku, "on_hand": on_hand}]}


def test_deltas_for_a_location_created_through_another_process_apply_at_once(
        two_servers, ctx):
    key = create_key(ctx, "admin")
    writer, reader = (served.base for served in two_servers)
    for n in range(5):
        # the reader's catalog is fresh: it has just applied a delta
        warm = call("POST", reader + "/v1/inventory/deltas", key, delta("DC-1", "A", n, T1))
        assert warm.status == 200 and warm.body["status"] == "ok", warm.body
        created = call("POST", writer + "/v1/locations", key, [
            {"id": f"NEW-{n}", "name": "New", "type": "dc", "lat": 40.0, "lon": -75.0}])
        assert created.status == 200 and created.body["created"] == 1, created.body
        pushed = call("POST", reader + "/v1/inventory/deltas", key, delta(f"NEW-{n}", "A", 7))
        assert pushed.status == 200, pushed.body
        assert (pushed.body["status"], pushed.body["applied"], pushed.body["rejected"]) == (
            "ok", 1, 0), pushed.body


def test_deltas_for_a_product_created_through_another_process_apply_at_once(two_servers, ctx):
    key = create_key(ctx, "admin")
    writer, reader = (served.base for served in two_servers)
    for n in range(3):
        assert call("POST", reader + "/v1/inventory/deltas", key,
                    delta("DC-1", "A", n, T1)).status == 200
        created = call("POST", writer + "/v1/products", key,
                       [{"sku": f"NEW-{n}", "name": "New", "price": 3}])
        assert created.status == 200, created.body
        pushed = call("POST", reader + "/v1/inventory/deltas", key, delta("DC-1", f"NEW-{n}", 2))
        assert (pushed.body["status"], pushed.body["applied"]) == ("ok", 1), pushed.body
