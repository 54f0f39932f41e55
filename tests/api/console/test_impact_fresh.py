"""The impact preview is computed afresh from the process's columnar copy of the positions:
a stock change or a draft edit between two views is in the second, which equals the full
SQL comparison of every position; the re-plan of the latest orders is kept while only the
stock changes, and says when it was planned."""

from __future__ import annotations

from service.domain.roles import Role
from service.services.console import impact as console_impact
from service.services.rulesets import drafts, impact_columns
from tests.support import T2

STORE_BUFFER = "actions: [{name: hold_back_units, params: {units: 2}}]"


def _draft(client, admin, units: int = 5) -> str:
    made = client.post("/v1/rulesets/default/drafts", json={}, headers=admin).get_json()
    url = f"/v1/rulesets/default/drafts/{made['id']}"
    text = made["text"].replace(STORE_BUFFER, STORE_BUFFER.replace("2", str(units)), 1)
    assert client.put(url, json={"text": text}, headers=admin).status_code == 200
    return url


def _full(ctx, monkeypatch, url: str) -> dict:
    """The same preview's figures from the SQL comparison of every position."""
    draft_id = int(url.rsplit("/", 1)[1])
    with monkeypatch.context() as patched:
        patched.setattr(impact_columns, "impact_rows",
                        lambda _ctx, uow, old, new: uow.ats_impact(old, new))
        return drafts.impact(ctx, Role("admin"), "default", draft_id)


def _figures(shown: dict) -> dict:
    return {k: shown[k] for k in ("active", "ruleset", "channels", "largest")}


def test_a_stock_change_between_two_views_is_in_the_second_as_a_full_computation_gives(
        stocked, ctx, client, admin, monkeypatch):
    url = _draft(client, admin)
    first = client.get(f"{url}/impact", headers=admin).get_json()
    assert _figures(first) == _figures(_full(ctx, monkeypatch, url))
    pushed = client.post("/v1/inventory/deltas", headers=admin, json={
        "location": "ST-1", "as_of": T2, "items": [{"sku": "A", "adjust": -6},
                                                   {"sku": "B", "on_hand": 9}]})
    assert pushed.status_code == 200, pushed.get_data(as_text=True)
    second = client.get(f"{url}/impact", headers=admin).get_json()
    assert _figures(second) != _figures(first)
    assert _figures(second) == _figures(_full(ctx, monkeypatch, url))


def test_an_edit_of_the_draft_between_two_views_is_in_the_second(
        stocked, ctx, client, admin, monkeypatch):
    url = _draft(client, admin, units=5)
    before = client.get(f"{url}/impact", headers=admin).get_json()
    text = client.get(url, headers=admin).get_json()["text"]
    client.put(url, json={"text": text.replace("units: 5", "units: 9", 1)}, headers=admin)
    after = client.get(f"{url}/impact", headers=admin).get_json()
    web = [next(c for c in shown["channels"] if c["channel"] == "web")
           for shown in (before, after)]
    assert web[0]["lost"] < web[1]["lost"]
    assert _figures(after) == _figures(_full(ctx, monkeypatch, url))


def test_the_replay_is_kept_while_only_stock_changes_and_planned_again_after_an_edit(
        stocked, client, admin, monkeypatch):
    url = _draft(client, admin)
    planned: list[int] = []
    replayed = console_impact.replay.replay

    def counting(*args, **kwargs):
        planned.append(1)
        return replayed(*args, **kwargs)

    monkeypatch.setattr(console_impact.replay, "replay", counting)
    first = client.get(f"{url}/impact", headers=admin).get_json()["sourcing"]
    assert first["latest"] == console_impact.REPLAYED and "planned_at" in first
    client.post("/v1/inventory/deltas", headers=admin,
                json={"location": "DC-1", "as_of": T2, "items": [{"sku": "A", "adjust": 1}]})
    client.get(f"{url}/impact", headers=admin)
    assert len(planned) == 1
    text = client.get(url, headers=admin).get_json()["text"]
    client.put(url, json={"text": text.replace("units: 5", "units: 7", 1)}, headers=admin)
    client.get(f"{url}/impact", headers=admin)
    assert len(planned) == 2


def test_the_console_page_says_how_many_orders_it_planned_again_and_when(
        stocked, signed_in, client, admin):
    url = _draft(client, admin)
    draft_id = url.rsplit("/", 1)[1]
    page = signed_in("admin").get(f"/console/rules/default/drafts/{draft_id}/impact")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"Of the latest {console_impact.REPLAYED} orders" in html
    assert "a change of stock alone does not" in html


def test_the_console_page_shows_the_previous_replan_while_it_plans_again_in_the_background(
        stocked, signed_in, client, admin):
    url = _draft(client, admin)
    page = f"/console/rules/default/drafts/{url.rsplit('/', 1)[1]}/impact"
    console = signed_in("admin")
    waiting = "they are being planned again now"
    assert waiting not in console.get(page).get_data(as_text=True)  # the first: planned now
    text = client.get(url, headers=admin).get_json()["text"]
    client.put(url, json={"text": text.replace("units: 5", "units: 8", 1)}, headers=admin)
    assert waiting in console.get(page).get_data(as_text=True)
    assert console_impact.replans_done()
    assert waiting not in console.get(page).get_data(as_text=True)
    api = client.get(f"{url}/impact", headers=admin).get_json()["sourcing"]
    assert api["current"] is True
