"""Revoking an API key: `DELETE /v1/keys/{id}` (admin) and `oms keys revoke ID`; the key is
refused from the very next request, in this process and in every other."""

from __future__ import annotations

import pytest

from service.services.access.keys import create_key, list_keys
from tests.processes import call, oms, serve, write_config
from tests.support import T1, snapshot


def key_id(ctx, key: str) -> int:
    found, = [k["id"] for k in list_keys(ctx) if key.startswith(k["prefix"])
              and k["revoked_at"] is None]
    return found


def test_a_revoked_key_is_refused_by_the_next_request(ctx, client, admin):
    key = create_key(ctx, "channel:web")
    sent = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/rulesets", headers=sent).status_code == 200
    response = client.delete(f"/v1/keys/{key_id(ctx, key)}", headers=admin)
    assert response.status_code == 204 and response.data == b""
    refused = client.get("/v1/rulesets", headers=sent)
    assert refused.status_code == 401 and "revoked" in refused.json["detail"]
    assert client.get("/v1/rulesets", headers=admin).status_code == 200


def test_a_revoked_key_is_refused_by_the_next_availability_lookup(small_network, ctx, client,
                                                                   admin):
    key = create_key(ctx, "channel:web")
    sent = {"Authorization": f"Bearer {key}"}
    lookups = ("/v1/availability?channel=web&sku=A", "/v1/availability?channel=web&sku=A&sku=B")
    for path in lookups:  # this process now holds the key's role
        assert client.get(path, headers=sent).status_code == 200
    assert client.post("/v1/availability", headers=sent,
                       json={"channel": "web", "skus": ["A", "B"]}).status_code == 200
    assert client.delete(f"/v1/keys/{key_id(ctx, key)}", headers=admin).status_code == 204
    for path in lookups:
        assert client.get(path, headers=sent).status_code == 401
    assert client.post("/v1/availability", headers=sent,
                       json={"channel": "web", "skus": ["A", "B"]}).status_code == 401
    malformed = client.get("/v1/availability?channel=web", headers=sent)
    assert malformed.status_code == 401  # not 422: the key is refused first
    other_channel = client.get("/v1/availability?channel=app&sku=A", headers=sent)
    assert other_channel.status_code == 401  # not 403
    assert client.get(lookups[0], headers=admin).status_code == 200


def test_a_revoked_key_places_no_order_and_gets_no_replay(small_network, ctx, client, admin):
    assert client.post("/v1/inventory/snapshots", headers=admin, json=snapshot(
        "DC-1", T1, {"A": 50})).status_code == 200
    key = create_key(ctx, "channel:web")
    sent = {"Authorization": f"Bearer {key}"}
    body = {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0},
            "lines": [{"sku": "A", "quantity": 1}]}
    for n in range(2):  # the second takes the key from this process's memory
        placed = client.post("/v1/orders", json=body, headers={**sent, "Idempotency-Key": f"k{n}"})
        assert placed.status_code == 201, placed.json
    assert client.delete(f"/v1/keys/{key_id(ctx, key)}", headers=admin).status_code == 204
    for attempt in ({**sent, "Idempotency-Key": "k2"},   # a new order
                    {**sent, "Idempotency-Key": "k1"}):  # a replay of the second
        assert client.post("/v1/orders", json=body, headers=attempt).status_code == 401
    assert client.post("/v1/orders", data="{", headers={**sent, "Content-Type":
                                                         "application/json"}).status_code == 401
    assert client.post("/v1/orders", json={**body, "channel": "app"},
                       headers=sent).status_code == 401
    with ctx.reading() as uow:
        assert sum(uow.orders.open_lines_per_location().values()) == 2


def test_a_revoked_key_a_process_holds_is_a_401_before_a_nul_in_the_request_is_a_422(
        small_network, ctx, client, admin):
    """Orders and lookups take a key from the process's memory (their first statement
    confirms it): a request the boundary refuses still confirms the key first."""
    key = create_key(ctx, "channel:web")
    sent = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/availability?channel=web&sku=A", headers=sent).status_code == 200
    with_nul = {**sent, "X-Note": "a\x00b"}
    assert client.get("/v1/availability?channel=web&sku=A",
                      headers=with_nul).status_code == 422  # a valid key: the NUL's 422
    assert client.delete(f"/v1/keys/{key_id(ctx, key)}", headers=admin).status_code == 204
    assert client.get("/v1/availability?channel=web&sku=A&n=a%00b",
                      headers=sent).status_code == 401
    assert client.post("/v1/orders", json={"channel": "web"},
                       headers={**with_nul, "Idempotency-Key": "k"}).status_code == 401


def test_revoking_twice_keeps_the_first_time_and_an_unknown_id_is_404(ctx, client, admin):
    key = create_key(ctx, "location:ST-1")
    number = key_id(ctx, key)
    assert client.delete(f"/v1/keys/{number}", headers=admin).status_code == 204
    first = [k["revoked_at"] for k in list_keys(ctx) if k["id"] == number]
    assert client.delete(f"/v1/keys/{number}", headers=admin).status_code == 204
    assert [k["revoked_at"] for k in list_keys(ctx) if k["id"] == number] == first != [None]
    missing = client.delete("/v1/keys/999999", headers=admin)
    assert missing.status_code == 404 and missing.json["code"] == "not_found"


def test_only_an_admin_key_may_revoke(ctx, client, headers_for):
    victim = create_key(ctx, "admin")
    response = client.delete(f"/v1/keys/{key_id(ctx, victim)}",
                             headers=headers_for("channel:web"))
    assert response.status_code == 403
    assert client.get("/v1/rulesets",
                      headers={"Authorization": f"Bearer {victim}"}).status_code == 200


@pytest.fixture
def policy() -> str:
    return "strict@1"


def test_a_key_revoked_through_one_process_is_refused_by_another_at_once(small_network, ctx,
                                                                        db_url, tmp_path):
    config = write_config(tmp_path, db_url)
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    servers = [serve(config, f"serve-{i}", workers=1, **shared) for i in range(2)]
    admin = create_key(ctx, "admin")
    try:
        for n, path in enumerate(("/v1/rulesets", "/v1/availability?channel=web&sku=A",
                                  "/v1/availability?channel=web&sku=A&sku=B")):
            key = create_key(ctx, "channel:web", label=f"shop {n}")
            # the other process has just accepted the key
            assert call("GET", servers[1].base + path, key).status == 200
            assert call("GET", servers[1].base + path, key).status == 200
            revoked = call("DELETE", f"{servers[0].base}/v1/keys/{key_id(ctx, key)}", admin)
            assert revoked.status == 204, revoked.body
            refused = call("GET", servers[1].base + path, key)
            assert refused.status == 401, (path, refused.body)
    finally:
        for served in servers:
            served.process.stop()


def test_oms_keys_list_and_revoke(ctx, db_url, tmp_path):
    config = write_config(tmp_path, db_url)
    key = create_key(ctx, "channel:web", label="web shop")
    number = key_id(ctx, key)
    listed = oms(["keys", "list"], config)
    assert listed.returncode == 0, listed.stderr
    line, = [ln for ln in listed.stdout.splitlines() if ln.split()[0] == str(number)]
    assert key[:10] in line and "channel:web" in line and "web shop" in line
    assert "revoked" not in line and key not in listed.stdout
    revoked = oms(["keys", "revoke", str(number)], config)
    assert revoked.returncode == 0 and f"key {number} revoked at" in revoked.stdout
    assert [k["revoked_at"] is not None for k in list_keys(ctx) if k["id"] == number] == [True]
    assert "revoked" in [ln for ln in oms(["keys", "list"], config).stdout.splitlines()
                         if ln.split()[0] == str(number)][0]
    missing = oms(["keys", "revoke", "999999"], config)
    assert missing.returncode == 1 and "No API key 999999" in missing.stderr
