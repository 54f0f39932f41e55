"""The plain order search (GET /v1/orders) is answered without Flask's request machinery:
the same status, body, headers, metrics and log line as the Flask view, and every other
request (or refusal) still answered by the view."""

import json
import logging

import pytest
from werkzeug.test import EnvironBuilder

from service import metrics
from service.services.access.keys import list_keys, revoke_key


@pytest.fixture
def placed(stocked, order, headers_for):
    """Five orders, oldest first: web A (c-1), web B (c-2), web A+C, marketplace A, web A."""
    market = headers_for("channel:marketplace")
    made = [order([{"sku": "A", "quantity": 1}], order_ref="W-1", customer_id="c-1"),
            order([{"sku": "B", "quantity": 1}], order_ref="W-2", customer_id="c-2"),
            order([{"sku": "A", "quantity": 1}, {"sku": "C", "quantity": 1}], order_ref="W-3"),
            order([{"sku": "A", "quantity": 1}], order_ref="A-1", headers=market,
                  channel="marketplace"),
            order([{"sku": "A", "quantity": 1}], order_ref="W-4")]
    assert [r.status_code for r in made] == [201] * 5
    return [r.json["id"] for r in made]


def _both(app, client, path, headers, method="GET"):
    """(the answer with the plain-search path on, the answer through the Flask view)."""
    fast = app.extensions["oms.fast_search"]
    answers = []
    for enabled in (True, False):
        fast.enabled = enabled
        response = client.open(path, method=method,
                               headers=headers | {"X-Request-Id": "same-id"})
        answers.append((response.status_code, response.get_data(),
                        list(response.headers.items())))
    fast.enabled = True
    return answers


def _answered_without_flask(app, path, headers):
    """Whether the plain-search path answers `path` itself (and then with a 200)."""
    environ = EnvironBuilder(path, headers=headers).get_environ()
    started = []
    answer = app.extensions["oms.fast_search"].answer(
        environ, lambda status, headers: started.append(status))
    assert started == (["200 OK"] if answer is not None else [])
    return answer is not None


PLAIN = [
    "/v1/orders",
    "/v1/orders?channel=web&status=created",
    "/v1/orders?status=created&channel=web",
    "/v1/orders?channel=web&limit=2",  # a full page: a Link to the next
    "/v1/orders?limit=2&status=created&channel=web",
    "/v1/orders?limit=5",  # exactly a full page
    "/v1/orders?limit=500",
    "/v1/orders?limit=2&channel=web&limit=3",  # the first value counts, as request.args'
    "/v1/orders?channel=web&channel=marketplace",
    "/v1/orders?status=shipped",  # an empty page
    "/v1/orders?channel=nowhere",
    "/v1/orders?customer_id=c-2",
    "/v1/orders?order_ref=W-3",
    "/v1/orders?sku=C",
    "/v1/orders?sku=B&location=DC-1",
    "/v1/orders?location=ST-1&channel=web&limit=1",
    "/v1/orders?created_from=2020-01-01T00:00:00Z",
    "/v1/orders?created_to=2020-01-01T00:00:00%2B00:00",
    "/v1/orders?created_from=2020-01-01T00:00:00-05:00&created_to=2099-01-01T00:00:00Z",
    "/v1/orders?channel=web+shop",  # a plus is a space
    "/v1/orders?order_ref=W%2D1",
    "/v1/orders?channel=web&&status=created&",
    "/v1/orders?channel=%E9",  # not UTF-8: the text "%E9", as request.args has it
    "/v1/orders?channel=%ZZ",
    "/v1/orders?channel=web;status=created",  # one parameter: ";" separates none
]
REFUSED = [
    "/v1/orders?limit=0",
    "/v1/orders?limit=501",
    "/v1/orders?limit=abc",
    "/v1/orders?limit=",
    "/v1/orders?limit=%201",
    "/v1/orders?status=bogus",
    "/v1/orders?status=",
    "/v1/orders?channel=",
    "/v1/orders?channel=" + "x" * 129,
    "/v1/orders?channel=web%00",
    "/v1/orders?created_from=2026-01-01T00:00:00",  # no zone
    "/v1/orders?created_to=yesterday",
    "/v1/orders?after=nope",  # an unknown cursor
    "/v1/orders?after",
    "/v1/orders?after=nope&status=shipped&limit=bogus",
]
OTHER = [
    "/v1/orders?other=1",  # an unknown parameter: the view ignores it
    "/v1/orders?channel=web&x",
    "/v1/orders?channel=%C3%A9",  # non-ASCII
    "/v1/orders?CHANNEL=web",
    "/v1/orders?channel%00=web",
]


# The cases below share one set of placed orders (a read changes nothing): each path is
# checked in turn and every one that differs is named, rather than placing the orders again
# for each of the ~50 paths on each database.


def test_every_search_gets_the_same_answer_with_or_without_flask(placed, app, client, admin):
    differing = []
    for path in PLAIN + REFUSED + OTHER + ["/v1/orders/", "/V1/orders"]:
        fast, view = _both(app, client, path, admin)
        if fast != view:
            differing.append((path, fast, view))
    assert differing == []


def test_a_plain_search_is_answered_without_flask(placed, app, admin):
    assert [path for path in PLAIN if not _answered_without_flask(app, path, admin)] == []


def test_a_refusal_or_any_other_search_is_left_to_flask(placed, app, admin):
    assert [path for path in REFUSED + OTHER
            if _answered_without_flask(app, path, admin)] == []


def test_the_cursor_pages_are_the_same_with_or_without_flask(placed, app, client, admin):
    for enabled in (True, False):
        app.extensions["oms.fast_search"].enabled = enabled
        seen, url, links = [], "/v1/orders?limit=2&channel=web&after=" + placed[4], []
        while url:
            response = client.get(url, headers=admin)
            seen += [o["id"] for o in response.json]
            link = response.headers.get("Link")
            links.append(link)
            url = link[1:link.index(">")] if link else None
        assert seen == [placed[2], placed[1], placed[0]]
        assert links[0] == (f'</v1/orders?limit=2&channel=web&after={placed[1]}>; '
                            'rel="next"')
        if enabled:
            pages = links
        else:
            assert links == pages
    assert _answered_without_flask(app, "/v1/orders?after=" + placed[4], admin)


@pytest.mark.parametrize(("role", "query", "answered"), [
    ("admin", "", True),
    ("channel:web", "", True),
    ("channel:web", "?channel=web&limit=2", True),
    ("channel:web", "?channel=marketplace", False),  # 403
    ("channel:marketplace", "?status=created", True),
    ("location:ST-1", "", False),  # 403: a location key may not search
    ("erp", "", False),  # 403
])
def test_each_role_gets_the_same_answer_with_or_without_flask(placed, app, client,
                                                               headers_for, role, query,
                                                               answered):
    headers = headers_for(role)
    fast, view = _both(app, client, "/v1/orders" + query, headers)
    assert fast == view
    assert (fast[0] == 200) == answered
    assert _answered_without_flask(app, "/v1/orders" + query, headers) == answered


def test_a_channel_key_sees_its_own_channel_only(placed, app, client, headers_for):
    fast, view = _both(app, client, "/v1/orders", headers_for("channel:marketplace"))
    assert fast == view and [o["id"] for o in json.loads(fast[1])] == [placed[3]]


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer ", "Basic abc",
                                           "Bearer nope", "bearer nope"])
def test_a_missing_or_unknown_key_gets_the_same_401(placed, app, client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    fast, view = _both(app, client, "/v1/orders", headers)
    assert fast == view and fast[0] == 401
    assert json.loads(fast[1])["status"] == 401


def test_a_key_revoked_since_this_process_cached_it_gets_the_same_401(placed, app, client,
                                                                     ctx, headers_for):
    headers = headers_for("channel:web")
    assert client.get("/v1/orders", headers=headers).status_code == 200  # cached
    key = headers["Authorization"].split()[1]
    [number] = [k["id"] for k in list_keys(ctx) if key.startswith(k["prefix"])]
    revoke_key(ctx, number)
    fast, view = _both(app, client, "/v1/orders", headers)
    assert fast == view and fast[0] == 401


@pytest.mark.parametrize("extra", [
    {"X-Note": "caf\u00e9"},  # a non-ASCII header
    {"X-Note": "a\x00b"},  # a NUL in a header
    {"X-Request-Id": "not a sane id!"},
])
def test_an_odd_header_gets_the_same_answer_with_or_without_flask(placed, app, client, admin,
                                                                  extra):
    fast, view = _both(app, client, "/v1/orders?limit=2", admin | extra)
    if "X-Request-Id" in extra:  # a new id each time: all else the same
        fast, view = ([(k, v) for k, v in a[2] if k != "X-Request-Id"] for a in (fast, view))
    assert fast == view


@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "OPTIONS"])
def test_another_method_gets_the_same_answer_with_or_without_flask(placed, app, client, admin,
                                                                   method):
    fast, view = _both(app, client, "/v1/orders?limit=2", admin, method=method)
    if method == "POST":  # a 422 for the missing body, counted alike
        assert fast[0] == view[0] and fast[1] == view[1]
    else:
        assert fast == view


def test_the_plain_search_is_counted_and_logged_as_the_view_would(placed, app, client,
                                                                 admin, caplog):
    series = metrics.REQUESTS.labels("/v1/orders", "GET", "200")
    caplog.set_level(logging.INFO, logger="oms.requests")
    lines = []
    for enabled in (True, False):
        app.extensions["oms.fast_search"].enabled = enabled
        before = series._value.get()
        caplog.clear()
        response = client.get("/v1/orders?limit=2", headers=admin | {"X-Request-Id": "r-7"})
        assert response.status_code == 200 and response.headers["X-Request-Id"] == "r-7"
        assert series._value.get() == before + 1
        [line] = [json.loads(r.getMessage()) for r in caplog.records
                  if r.name == "oms.requests"]
        assert line["duration_ms"] >= 0
        lines.append(line | {"duration_ms": None})
    key = admin["Authorization"].split()[1]
    assert lines[0] == lines[1] == {"method": "GET", "path": "/v1/orders", "status": 200,
                                    "duration_ms": None, "request_id": "r-7",
                                    "key_id": key[:10]}
    app.extensions["oms.fast_search"].enabled = True


def test_a_new_order_is_found_by_the_next_plain_search(placed, client, admin, order):
    first = client.get("/v1/orders?limit=1", headers=admin).json
    made = order([{"sku": "A", "quantity": 1}], order_ref="W-5")
    second = client.get("/v1/orders?limit=1", headers=admin).json
    assert first[0]["id"] != second[0]["id"] == made.json["id"]
