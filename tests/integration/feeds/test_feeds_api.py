"""Feed runs and configured feeds over HTTP (admin only)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from service.app import create_app
from service.services.access.keys import create_key
from service.services.feeds.running import run_feed
from tests.integration.feeds.helpers import T1, csv_text


@pytest.fixture
def client(ctx) -> FlaskClient:
    return create_app(ctx=ctx).test_client()


def bearer(ctx, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(ctx, role)}"}


def test_feed_runs_can_be_filtered_by_feed(small_network, drop, client):
    drop("counts", "1.csv", csv_text("sku,on_hand,as_of", f"A,3,{T1}"))
    drop("deltas", "1.ndjson", '{"location": "DC-1", "sku": "B", "adjust": 1}\n')
    run_feed(small_network, "counts")
    run_feed(small_network, "deltas")
    response = client.get("/v1/feeds/runs?feed=deltas", headers=bearer(small_network, "admin"))
    assert response.status_code == 200
    assert [(r["feed"], r["applied"]) for r in response.json["runs"]] == [("deltas", 1)]


def test_configured_feeds_are_listed_with_their_last_run(small_network, drop, client):
    drop("counts", "1.csv", csv_text("sku,on_hand,as_of", f"A,3,{T1}"))
    [run] = run_feed(small_network, "counts")
    response = client.get("/v1/feeds", headers=bearer(small_network, "admin"))
    feeds = {f["name"]: f for f in response.json["feeds"]}
    assert feeds["counts"]["last_run"]["id"] == run["id"]
    assert feeds["counts"]["every_seconds"] == 60 and feeds["deltas"]["cron"] == "*/5 * * * *"
    assert feeds["products"]["last_run"] is None


def test_only_admins_see_feeds(small_network, client):
    response = client.get("/v1/feeds", headers=bearer(small_network, "channel:web"))
    assert response.status_code == 403
