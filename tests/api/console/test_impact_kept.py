"""A draft's impact is computed once and kept while nothing it was computed from changed: the
draft's text, the active version, the positions' counts, products' and locations' facts and
the orders. Whatever changes, the preview shown is the one a computation now would give."""

from __future__ import annotations

from sqlalchemy import event

from service.services.rulesets import drafts
from tests.support import T1, snapshot

STORE_BUFFER = "actions: [{name: hold_back_units, params: {units: 2}}]"


def _draft_with_bigger_store_buffer(client, admin) -> str:
    made = client.post("/v1/rulesets/default/drafts", json={}, headers=admin).get_json()
    url = f"/v1/rulesets/default/drafts/{made['id']}"
    text = made["text"].replace(STORE_BUFFER, STORE_BUFFER.replace("2", "5"), 1)
    assert client.put(url, json={"text": text}, headers=admin).status_code == 200
    return url


def _computations(monkeypatch) -> list[int]:
    """Count the impact's computations (each reads every position with units)."""
    counted: list[int] = []
    computed = drafts.impact

    def counting(*args, **kwargs):
        counted.append(1)
        return computed(*args, **kwargs)

    monkeypatch.setattr(drafts, "impact", counting)
    return counted


def _web(impact: dict) -> dict:
    return next(c for c in impact["channels"] if c["channel"] == "web")


def test_the_impact_asked_again_is_the_kept_one_until_a_position_changes(
        stocked, client, admin, monkeypatch):
    url = _draft_with_bigger_store_buffer(client, admin)
    counted = _computations(monkeypatch)
    first = client.get(f"{url}/impact", headers=admin).get_json()
    again = client.get(f"{url}/impact", headers=admin).get_json()
    assert again == first and len(counted) == 1
    assert _web(first)["lost"] == 4  # ST-1: A 8 -> 5, C 1 -> 0
    # ST-1's A down to 4: the web sees 2 there now and 0 with the draft
    client.post("/v1/inventory/snapshots", json=snapshot("ST-1", T1, {"A": 4, "C": 3}),
                headers=admin)
    changed = client.get(f"{url}/impact", headers=admin).get_json()
    assert len(counted) == 2
    assert _web(changed)["lost"] == 3


def test_a_new_text_or_a_new_order_computes_the_impact_again(
        stocked, client, admin, monkeypatch):
    url = _draft_with_bigger_store_buffer(client, admin)
    counted = _computations(monkeypatch)
    client.get(f"{url}/impact", headers=admin)
    text = client.get(url, headers=admin).get_json()["text"]
    client.put(url, json={"text": text.replace("units: 5", "units: 6", 1)}, headers=admin)
    assert _web(client.get(f"{url}/impact", headers=admin).get_json())["lost"] == 5
    placed = client.post("/v1/orders", headers=admin, json={
        "channel": "web", "ship_to": {"lat": 40.71, "lon": -74.0}, "order_ref": "kept-1",
        "lines": [{"sku": "B", "quantity": 1}]})
    assert placed.status_code == 201
    replayed = client.get(f"{url}/impact", headers=admin).get_json()["sourcing"]
    assert replayed["replayed"] == 1
    assert len(counted) == 3


def test_a_draft_with_the_active_rules_shows_no_change_without_reading_the_positions(
        stocked, client, admin, ctx):
    made = client.post("/v1/rulesets/default/drafts", json={}, headers=admin).get_json()
    read: list[str] = []

    def seen(conn, cursor, statement, *args):
        read.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", seen)
    try:
        impact = client.get(f"/v1/rulesets/default/drafts/{made['id']}/impact",
                            headers=admin).get_json()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", seen)
    assert all(c["net"] == 0 and c["skus"] == 0 and c["locations"] == 0
               for c in impact["channels"])
    assert impact["largest"] == []
    assert not [s for s in read if "stock_positions" in s]
