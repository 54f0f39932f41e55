"""GET /v1/inventory/journal answers why a position is where it is, page by page, and
GET /v1/inventory/positions/as-of what it was at a time; only for the keys that may see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from service.clock import MovableClock
from tests.support import snapshot

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JOURNAL = "/v1/inventory/journal"
AS_OF = "/v1/inventory/positions/as-of"


@pytest.fixture
def clock():
    return MovableClock(START)


@pytest.fixture
def history(small_network, push, client, admin):
    """DC-1's A counted at 10, then five adjustments of +1, a minute apart; a 3-unit order."""
    clock = small_network.clock
    assert push("snapshots", snapshot("DC-1", START.isoformat(), {"A": 10})).status_code == 200
    for _ in range(5):
        clock.advance(60)
        body = {"items": [{"location": "DC-1", "sku": "A", "adjust": 1}]}
        assert push("deltas", body).status_code == 200
    clock.advance(60)
    order = client.post("/v1/orders", headers=admin, json={
        "channel": "web", "ship_to": {"lat": 39.1, "lon": -84.5},
        "lines": [{"sku": "A", "quantity": 3}]})
    assert order.status_code == 201, order.json
    return order.json


def _get(client, headers, path, **query):
    return client.get(path, headers=headers, query_string=query)


def test_the_journal_says_why_a_position_is_where_it_is_newest_first(client, admin, history):
    response = _get(client, admin, JOURNAL, location="DC-1", sku="A")
    assert response.status_code == 200
    entries = response.json
    assert [e["cause"] for e in entries] == ["order"] + ["delta"] * 5 + ["snapshot"]
    newest = entries[0]
    assert newest["refs"]["order"] == history["id"]
    assert newest["before"] == {"on_hand": 15, "allocated": 0, "reserved": 0}
    assert newest["after"] == {"on_hand": 15, "allocated": 3, "reserved": 0}
    assert entries[-1]["before"]["on_hand"] == 0 and entries[-1]["after"]["on_hand"] == 10
    assert "Link" not in response.headers


def test_a_full_page_links_to_the_next_until_every_change_was_read_once(client, admin,
                                                                        history):
    seen, url = [], f"{JOURNAL}?location=DC-1&sku=A&limit=3&order=oldest"
    while url:
        response = client.get(url, headers=admin)
        assert response.status_code == 200
        seen += response.json
        link = response.headers.get("Link")
        url = None
        if link:
            target = urlsplit(link[1:link.index(">")])
            url = f"{target.path}?{target.query}"
    assert [e["id"] for e in seen] == sorted(e["id"] for e in seen)
    assert len(seen) == len({e["id"] for e in seen}) == 7
    assert [e["cause"] for e in seen][:2] == ["snapshot", "delta"]


def test_since_keeps_the_changes_from_that_time(client, admin, history):
    since = (START + timedelta(minutes=4)).isoformat()
    response = _get(client, admin, JOURNAL, location="DC-1", sku="A", since=since)
    assert [e["cause"] for e in response.json] == ["order", "delta", "delta"]


def test_as_of_answers_what_the_position_was_at_each_time(client, admin, history):
    def at(minutes: float) -> list:
        when = (START + timedelta(minutes=minutes)).isoformat()
        response = _get(client, admin, AS_OF, at=when, sku="A")
        assert response.status_code == 200, response.json
        return response.json["positions"]

    assert at(-1) == []
    assert at(0) == [{"location": "DC-1", "sku": "A", "on_hand": 10, "allocated": 0,
                      "reserved": 0, "available": 10}]
    assert at(2.5)[0]["on_hand"] == 12
    assert at(6)[0] == {"location": "DC-1", "sku": "A", "on_hand": 15, "allocated": 3,
                        "reserved": 0, "available": 12}


def test_a_location_key_reads_its_own_location_only_and_a_channel_key_none(
        client, headers_for, history):
    own, other = headers_for("location:DC-1"), headers_for("location:ST-1")
    channel = headers_for("channel:web")
    assert _get(client, own, JOURNAL, location="DC-1", sku="A").status_code == 200
    assert _get(client, other, JOURNAL, location="DC-1", sku="A").status_code == 403
    assert _get(client, channel, JOURNAL, location="DC-1", sku="A").status_code == 403
    when = START.isoformat()
    mine = _get(client, own, AS_OF, at=when, sku="A")
    assert [p["location"] for p in mine.json["positions"]] == ["DC-1"]
    assert _get(client, other, AS_OF, at=when, sku="A").json["positions"] == []
    assert _get(client, other, AS_OF, at=when, sku="A", location="DC-1").status_code == 403
    assert _get(client, channel, AS_OF, at=when, sku="A").status_code == 403


def test_an_unknown_location_or_sku_is_a_404(client, admin, history):
    assert _get(client, admin, JOURNAL, location="NOPE", sku="A").status_code == 404
    assert _get(client, admin, JOURNAL, location="DC-1", sku="NOPE").status_code == 404
    assert _get(client, admin, AS_OF, at=START.isoformat(), sku="NOPE").status_code == 404


@pytest.mark.parametrize(("path", "query", "pointers"), [
    (JOURNAL, {}, ["/query/location", "/query/sku"]),
    (JOURNAL, {"location": "DC-1", "sku": "A", "limit": "0", "after": "x",
               "order": "sideways", "since": "yesterday"},
     ["/query/since", "/query/limit", "/query/after", "/query/order"]),
    (JOURNAL, {"location": "DC-1", "sku": "A", "since": "2026-03-02T09:00:00"},
     ["/query/since"]),
    (AS_OF, {"sku": "A"}, ["/query/at"]),
    (AS_OF, {"sku": "A", "at": "0001-01-01T00:00:00+01:00"}, ["/query/at"]),
    (AS_OF, {"at": "2026-03-02T09:00:00Z"}, ["/query/sku"]),
    (AS_OF, {"sku": "A", "at": "2026-03-02T09:00:00Z", "location": ""},
     ["/query/location"]),  # empty is not "every location" (found by the fuzzer)
])
def test_bad_parameters_are_a_422_problem_naming_each(client, admin, history, path, query,
                                                      pointers):
    response = _get(client, admin, path, **query)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [p["pointer"] for p in response.json["problems"]] == pointers
