"""The console's sign-in and forms: CSRF on every form, no session fixation, idle expiry,
revoked keys, roles refused by the server, bad input shown and nothing changed."""

from __future__ import annotations

import pytest

from service.clock import MovableClock
from service.services.access.keys import create_key, list_keys, revoke_key
from service.services.rulesets import listing
from tests.api.console.conftest import csrf_of, sign_in

NYC = {"lat": 40.71, "lon": -74.0}


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def _cookie(client):
    found = client.get_cookie("oms_console", path="/console")
    return found.value if found else None


def _drafts(ctx):
    from service.domain.roles import Role
    from service.services.rulesets import drafts
    return drafts.listed(ctx, Role("admin"))


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
        stocked, signed_in, ctx):
    client = signed_in("admin")
    response = client.post("/console/rules/default/2/drafts")
    assert response.status_code == 403
    assert "security token" in response.get_data(as_text=True)
    wrong = client.post("/console/rules/default/2/drafts", data={"csrf": "forged"})
    assert wrong.status_code == 403
    assert _drafts(ctx) == []
    token = csrf_of(client.get("/console/rules").get_data(as_text=True))
    assert client.post("/console/rules/default/2/drafts", data={"csrf": token}).status_code == 303
    assert len(_drafts(ctx)) == 1


def test_signing_in_without_the_forms_token_is_refused(stocked, client, ctx):
    key = create_key(ctx, "admin")
    response = client.post("/console/sign-in", data={"key": key})
    assert response.status_code == 403
    assert _cookie(client) is None


def test_a_session_id_planted_before_sign_in_is_never_the_signed_in_one(stocked, app, ctx):
    client = app.test_client()
    client.set_cookie("oms_console", "planted-by-an-attacker", path="/console")
    sign_in(client, create_key(ctx, "admin"))
    first = _cookie(client)
    assert first and first != "planted-by-an-attacker"
    attacker = app.test_client()
    attacker.set_cookie("oms_console", "planted-by-an-attacker", path="/console")
    assert attacker.get("/console/rules").status_code == 302
    sign_in(client, create_key(ctx, "admin"))  # signing in again: a new id, the old one ends
    assert _cookie(client) != first
    stale = app.test_client()
    stale.set_cookie("oms_console", first, path="/console")
    assert stale.get("/console/rules").status_code == 302


def test_the_cookie_is_http_only_strict_and_secure_over_tls(stocked, app, ctx):
    client = app.test_client()
    form = client.get("/console/sign-in", base_url="https://localhost")
    response = client.post("/console/sign-in", base_url="https://localhost", data={
        "key": create_key(ctx, "admin"), "csrf": csrf_of(form.get_data(as_text=True))})
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("oms_console="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    plain = app.test_client()
    form = plain.get("/console/sign-in")
    response = plain.post("/console/sign-in", data={
        "key": create_key(ctx, "admin"), "csrf": csrf_of(form.get_data(as_text=True))})
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("oms_console="))
    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_a_wrong_key_shows_a_message_and_opens_no_session(stocked, client):
    form = client.get("/console/sign-in")
    response = client.post("/console/sign-in", data={
        "key": "oms_not-a-key", "csrf": csrf_of(form.get_data(as_text=True))})
    assert response.status_code == 401
    assert "unknown or revoked" in response.get_data(as_text=True)
    assert _cookie(client) is None


def test_an_idle_session_expires_and_signing_out_ends_it(stocked, signed_in, clock):
    client = signed_in("admin")
    assert client.get("/console/rules").status_code == 200
    clock.advance(29 * 60)
    assert client.get("/console/rules").status_code == 200  # each page moves the expiry on
    clock.advance(31 * 60)
    assert client.get("/console/rules").status_code == 302
    client = signed_in("admin")
    token = csrf_of(client.get("/console/").get_data(as_text=True))
    assert client.post("/console/sign-out", data={"csrf": token}).status_code == 303
    assert client.get("/console/rules").status_code == 302


def test_a_revoked_keys_session_ends_with_it(stocked, app, ctx):
    key = create_key(ctx, "admin")
    client = sign_in(app.test_client(), key)
    assert client.get("/console/rules").status_code == 200
    revoke_key(ctx, next(k["id"] for k in list_keys(ctx) if key.startswith(k["prefix"])))
    assert client.get("/console/rules").status_code == 302


def test_a_channel_key_is_not_shown_the_editor_and_the_server_refuses_it(stocked, signed_in,
                                                                          ctx):
    client = signed_in("channel:web")
    rules = client.get("/console/rules").get_data(as_text=True)
    assert "Draft from" not in rules and "Activate" not in rules
    token = csrf_of(rules)
    assert client.post("/console/rules/default/2/drafts", data={"csrf": token}).status_code == 403
    assert client.post("/console/rules/activate", data={
        "csrf": token, "ruleset": "default@1"}).status_code == 403
    assert client.get("/console/operations").status_code == 403
    assert _drafts(ctx) == []
    with ctx.reading() as uow:
        assert ctx.rules.active(uow).ref == "default@2"


def test_a_location_key_cannot_open_another_locations_queue(stocked, signed_in):
    client = signed_in("location:ST-1")
    assert client.get("/console/locations/ST-1/queue").status_code == 200
    assert client.get("/console/locations/DC-1/queue").status_code == 404
    assert client.get("/console/rules").status_code == 403


def test_an_activation_in_the_console_is_recorded_with_its_key(stocked, app, ctx):
    key = create_key(ctx, "admin")
    client = sign_in(app.test_client(), key)
    token = csrf_of(client.get("/console/rules").get_data(as_text=True))
    bad = client.post("/console/rules/activate", data={"csrf": token, "ruleset": "default"})
    assert bad.status_code == 422 and "name@version" in bad.get_data(as_text=True)
    done = client.post("/console/rules/activate", data={"csrf": token, "ruleset": "default@1"})
    assert done.status_code == 303
    from service.domain.roles import Role
    latest = listing.listing(ctx, Role("admin"))["activations"][0]
    assert latest["ruleset"] == "default@1" and latest["key_id"] == key[:10]
    rolled = client.post("/console/rules/activate", data={"csrf": token,
                                                          "ruleset": "default@2"})
    assert rolled.status_code == 303
    assert listing.listing(ctx, Role("admin"))["active"] == "default@2"


def test_a_store_accepts_picks_packs_and_ships_and_a_reject_needs_a_reason(
        stocked, client, admin, signed_in):
    placed = client.post("/v1/orders", headers=admin, json={
        "channel": "web", "ship_to": NYC, "order_ref": "console-1",
        "lines": [{"sku": "C", "quantity": 1}]})
    assert placed.status_code == 201, placed.get_json()
    fulfilment = placed.get_json()["fulfilments"][0]
    assert fulfilment["location"] == "ST-1"
    store = signed_in("location:ST-1")
    token = csrf_of(store.get("/console/locations/ST-1/queue").get_data(as_text=True))
    url = f"/console/fulfilments/{fulfilment['id']}/events"
    no_reason = store.post(url, data={"csrf": token, "location": "ST-1", "type": "rejected"})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_data(as_text=True)
    other = signed_in("location:DC-1")
    other_token = csrf_of(other.get("/console/locations/DC-1/queue").get_data(as_text=True))
    assert other.post(url, data={"csrf": other_token, "location": "ST-1",
                                 "type": "accepted"}).status_code == 404
    for step in ("accepted", "picked", "packed"):
        assert store.post(url, data={"csrf": token, "location": "ST-1",
                                     "type": step}).status_code == 303
    shipped = store.post(url, data={"csrf": token, "location": "ST-1", "type": "shipped",
                                    "tracking": "1Z999"}, follow_redirects=True)
    assert "Done: " in shipped.get_data(as_text=True)
    order = client.get(f"/v1/orders/{placed.get_json()['id']}", headers=admin).get_json()
    assert order["fulfilments"][0]["status"] == "shipped"
    assert order["fulfilments"][0]["tracking"] == "1Z999"


def test_a_bad_cart_shows_a_message_and_plans_nothing(stocked, signed_in):
    client = signed_in("admin")
    token = csrf_of(client.get("/console/sourcing").get_data(as_text=True))
    response = client.post("/console/sourcing", data={
        "csrf": token, "channel": "web", "lat": "40.7", "lon": "-74", "cart": "A two"})
    assert response.status_code == 422
    assert "line 1: expected a SKU and a quantity" in response.get_data(as_text=True)


def test_values_change_without_yaml_and_a_bad_number_changes_nothing(stocked, signed_in):
    client = signed_in("admin")
    token = csrf_of(client.get("/console/rules").get_data(as_text=True))
    made = client.post("/console/rules/default/2/drafts", data={"csrf": token})
    url = made.headers["Location"]
    pointer = "value:/channels/web/rules/0/actions/0/params/units"
    bad = client.post(url + "/values", data={"csrf": token, pointer: "five"})
    assert bad.status_code == 422 and "expected a number" in bad.get_data(as_text=True)
    assert "units: 2 → 5" not in client.get(url).get_data(as_text=True)
    assert "no change in meaning" in client.get(url).get_data(as_text=True)
    good = client.post(url + "/values", data={"csrf": token, pointer: "5"})
    assert good.status_code == 200
    assert "units: 2 → 5" in good.get_data(as_text=True)
