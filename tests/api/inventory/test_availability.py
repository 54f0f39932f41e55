"""Per-channel availability shaped by rules, on SQLite and PostgreSQL."""

import pytest

from tests.support import T1, T2, snapshot


@pytest.fixture
def stocked(small_network, push):
    """A: 10 at each store, 40 at the DC, 7 at the drop-shipper. B (clearance): 10 at the DC."""
    push("snapshots", snapshot("ST-1", T1, {"A": 10}))
    push("snapshots", snapshot("ST-2", T1, {"A": 10}))
    push("snapshots", snapshot("DC-1", T1, {"A": 40, "B": 10}))
    push("snapshots", snapshot("DS-1", T1, {"A": 7}))
    return small_network


def test_stores_keep_a_buffer_and_dropship_is_excluded_on_web(stocked, ats):
    assert ats("web", "A") == (10 - 2) + (10 - 2) + 40


def test_a_percent_hold_back_rounds_up(stocked, ats):
    # 20% of 10 → 2, of 40 → 8, of 7 → 1.4 rounds up to 2
    assert ats("marketplace", "A") == 8 + 8 + 32 + 5


def test_the_largest_hold_back_wins_when_several_rules_match(stocked, ats):
    # B at the DC: 20% of 10 = 2 units, clearance keeps 3 → 3 held back, not 5
    assert ats("marketplace", "B") == 7


def test_a_marketplace_sees_less_than_the_web_shop(stocked, ats):
    assert ats("marketplace", "B") < ats("web", "B") == 10


def test_detail_explains_each_location_with_the_rules_that_matched(stocked, client, admin):
    response = client.get("/v1/availability?channel=web&sku=A&detail=locations", headers=admin)
    item = response.json["items"][0]
    by_location = {loc["location"]: loc for loc in item["locations"]}
    assert by_location["ST-1"]["hold_back"] == 2 and by_location["ST-1"]["available"] == 8
    assert by_location["ST-1"]["rules"][0]["rule"] == "stores-keep-two"
    assert by_location["DS-1"]["excluded"] is True and by_location["DS-1"]["available"] == 0
    assert item["available"] == 56 and response.json["ruleset"] == "ledger@1"


def test_pickup_availability_is_for_one_store(stocked, client, admin):
    response = client.post("/v1/availability", headers=admin,
                           json={"channel": "store_pickup", "skus": ["A"], "location": "ST-1"})
    assert response.status_code == 200
    assert response.json["items"][0]["available"] == 9 and response.json["can_pickup"] is True
    other = client.post("/v1/availability", headers=admin,
                        json={"channel": "store_pickup", "skus": ["A"], "location": "ST-2"})
    assert other.json["items"][0]["available"] == 0  # no pickup counter there


def test_a_cart_reads_many_skus_at_once_and_names_unknown_ones(stocked, client, admin):
    response = client.post("/v1/availability", headers=admin,
                           json={"channel": "web", "skus": ["A", "B", "NOPE"]})
    assert [i["available"] for i in response.json["items"]] == [56, 10, 0]
    assert response.json["unknown_skus"] == ["NOPE"]


def test_one_sku_reads_the_same_ats_alone_as_in_a_cart(stocked, client, admin, ats):
    cart = client.post("/v1/availability", headers=admin,
                       json={"channel": "web", "skus": ["A", "B"]}).json["items"]
    assert [ats("web", "A"), ats("web", "B")] == [i["available"] for i in cart]
    alone = client.get("/v1/availability?channel=web&sku=NOPE", headers=admin).json
    assert alone["items"] == [{"sku": "NOPE", "available": 0}]
    assert alone["unknown_skus"] == ["NOPE"]


def test_every_response_names_the_ruleset(stocked, client, admin):
    response = client.get("/v1/availability?channel=web&sku=A", headers=admin)
    assert response.json["ruleset"] == "ledger@1"


def test_a_channel_key_reads_only_its_channel(stocked, client, headers_for):
    key = headers_for("channel:web")
    assert client.get("/v1/availability?channel=web&sku=A", headers=key).status_code == 200
    assert client.get("/v1/availability?channel=marketplace&sku=A",
                      headers=key).status_code == 403


def test_an_unknown_channel_is_a_404_naming_the_known_ones(stocked, client, admin):
    response = client.get("/v1/availability?channel=tv&sku=A", headers=admin)
    assert response.status_code == 404 and "marketplace" in response.json["detail"]


def test_a_request_without_skus_names_the_problem(stocked, client, admin):
    response = client.get("/v1/availability?channel=web", headers=admin)
    assert response.status_code == 422 and response.json["problems"][0]["pointer"] == "/skus"


def test_switching_the_ruleset_recomputes_every_channels_ats(stocked, client, admin, ats):
    response = client.post("/v1/rulesets/activate", headers=admin,
                           json={"name": "ledger", "version": 2})
    assert response.status_code == 200 and response.json["previous"] == "ledger@1"
    assert ats("web", "A") == 40 + 7  # v2: no stores on web; drop-ship allowed again
    assert ats("marketplace", "A") == 67
    client.post("/v1/rulesets/activate", headers=admin, json={"name": "ledger", "version": 1})
    assert ats("web", "A") == 56  # the rollback


def test_master_data_changes_move_the_ats(stocked, client, admin, ats):
    client.post("/v1/locations", headers=admin, json=[
        {"id": "ST-1", "name": "Store one", "type": "store", "lat": 40.75, "lon": -73.99,
         "active": False}])
    assert ats("web", "A") == 8 + 40


def test_a_later_snapshot_moves_the_channels_ats(stocked, push, ats):
    push("snapshots", snapshot("DC-1", T2, {"A": 20, "B": 10}))
    assert ats("web", "A") == 8 + 8 + 20


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_lookup_on_a_connection_the_database_dropped_is_answered_on_a_fresh_one(
        stocked, ctx, ats):
    from sqlalchemy import text

    from service.store import kept_connections

    before = ats("web", "A")  # the lookup keeps a connection for this thread
    pid = kept_connections.run(ctx.engine, lambda conn: conn.info.backend_pid)
    with ctx.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    assert ats("web", "A") == before
    assert kept_connections.run(ctx.engine, lambda conn: conn.info.backend_pid) != pid
