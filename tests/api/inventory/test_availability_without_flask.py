"""The plain availability lookup is answered without Flask's request machinery: the same
status, body, headers, metrics and log line as the Flask view, and every other request (or
refusal) still answered by the view."""

import json
import logging

import pytest
from werkzeug.test import EnvironBuilder

from service import metrics
from tests.support import T1, T2, snapshot

PLAIN = "/v1/availability?channel=web&sku=A&sku=NOPE&sku=A"


@pytest.fixture
def stocked(small_network, push):
    push("snapshots", snapshot("ST-1", T1, {"A": 10}))
    push("snapshots", snapshot("DC-1", T1, {"A": 40, "B": 10}))
    return small_network


def _both(app, client, path, headers, **post):
    """(the answer through the plain-lookup path, the answer through the Flask view); a POST
    when `post` gives its body (data= or json=)."""
    fast = app.extensions["oms.fast_reads"]
    answers = []
    for enabled in (True, False):
        fast.enabled = enabled
        send = client.post if post else client.get
        response = send(path, headers=headers | {"X-Request-Id": "same-id"}, **post)
        answers.append((response.status_code, response.get_data(),
                        sorted(response.headers.items())))
    fast.enabled = True
    return answers


# The cases of each kind share one stocked network (a read changes nothing): each is checked
# in turn and every one that differs is named, rather than stocking again for each case.
LOOKUPS = [
    PLAIN,
    "/v1/availability?channel=web&sku=B",
    "/v1/availability?channel=nowhere&sku=A",  # 404: unknown channel
    "/v1/availability?channel=web",  # 422: no sku
    "/v1/availability?sku=A",  # 422: no channel
    "/v1/availability?channel=web&sku=" + "x" * 65,  # 422: too long
    "/v1/availability?channel=web&sku=A%00",  # 422: NUL
    "/v1/availability?channel=web&sku=%C3%A9",  # non-ASCII sku
    "/v1/availability?channel=web&sku=A&detail=locations",  # detail: the view's
    "/v1/availability?channel=web&sku=A&unit=u-1",
    "/v1/availability?channel=web&sku=A&other=1",
]
CARTS = [
    {"channel": "web", "skus": ["A", "NOPE", "B", "A"]},
    {"channel": "web", "skus": ["B"]},
    {"channel": "nowhere", "skus": ["A"]},
    {"channel": "web", "skus": []},
    {"channel": "web", "skus": "A"},
    {"channel": "web"},
    {"channel": 7, "skus": ["A"]},
    {"channel": "web", "skus": ["A\u0000"]},
    {"channel": "web", "skus": ["\u00e9"]},
    {"channel": "web", "skus": ["A"], "detail": "locations"},
    {"channel": "web", "skus": ["A"], "location": "ST-1"},
    {"channel": "web", "skus": ["A"], "other": 1},
    ["web", "A"],
    "not an object",
]
MALFORMED = [b"", b"{", b'{"channel": "web", "skus": ["A"]', b"\x00",
             b'{"channel": "web", "skus": [NaN]}',
             b'{"channel": "web", "skus": ["A"], "skus": ["B"]}']


def test_every_lookup_gets_the_same_answer_with_or_without_flask(stocked, app, client, admin):
    differing = [(path, answers) for path in LOOKUPS
                 if (answers := _both(app, client, path, admin))[0] != answers[1]]
    assert differing == []


def test_every_cart_gets_the_same_answer_with_or_without_flask(stocked, app, client, admin):
    differing = [(body, answers) for body in CARTS
                 if (answers := _both(app, client, "/v1/availability", admin, json=body))[0]
                 != answers[1]]
    assert differing == []


def test_a_malformed_cart_body_gets_the_same_answer_with_or_without_flask(stocked, app, client,
                                                                          admin):
    differing = [(raw, answers) for raw in MALFORMED
                 if (answers := _both(app, client, "/v1/availability", admin, data=raw,
                                      content_type="application/json"))[0] != answers[1]]
    assert differing == []


def test_a_cart_with_a_query_string_gets_the_same_answer(stocked, app, client, admin):
    fast, view = _both(app, client, "/v1/availability?x=1", admin,
                       json={"channel": "web", "skus": ["A"]})
    assert fast == view


@pytest.mark.parametrize("token", ["pg:0/1", "not a token"])
def test_a_consistency_token_is_read_as_the_view_reads_it(stocked, app, client, admin, token):
    sent = admin | {"OMS-Consistency-Token": token}
    assert _both(app, client, PLAIN, sent)[0] == _both(app, client, PLAIN, sent)[1]
    fast, view = _both(app, client, "/v1/availability", sent,
                       json={"channel": "web", "skus": ["A"]})
    assert fast == view and fast[0] == (200 if token == "pg:0/1" else 422)


@pytest.mark.parametrize("role", ["channel:web", "channel:marketplace", "location:ST-1"])
def test_each_role_gets_the_same_answer_with_or_without_flask(stocked, app, client,
                                                               headers_for, role):
    fast, view = _both(app, client, PLAIN, headers_for(role))
    assert fast == view


@pytest.mark.parametrize("authorization", ["", "Bearer", "Basic abc", "Bearer nope"])
def test_a_missing_or_unknown_key_gets_the_same_401(stocked, app, client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    fast, view = _both(app, client, PLAIN, headers)
    assert fast == view and fast[0] == 401


def test_the_plain_lookup_is_counted_and_logged_as_the_view_would(stocked, app, client,
                                                                 admin, caplog):
    series = metrics.REQUESTS.labels("/v1/availability", "GET", "200")
    before = series._value.get()
    caplog.set_level(logging.INFO, logger="oms.requests")
    response = client.get(PLAIN, headers=admin | {"X-Request-Id": "r-7"})
    assert response.status_code == 200 and response.headers["X-Request-Id"] == "r-7"
    assert series._value.get() == before + 1
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "oms.requests"]
    key = admin["Authorization"].split()[1]
    assert line == {"method": "GET", "path": "/v1/availability", "status": 200,
                    "duration_ms": line["duration_ms"], "request_id": "r-7",
                    "key_id": key[:10]}
    assert line["duration_ms"] >= 0


def test_a_pushed_delta_is_visible_to_the_next_plain_lookup(stocked, client, admin, push):
    first = client.get("/v1/availability?channel=web&sku=B", headers=admin).json
    push("snapshots", snapshot("DC-1", T2, {"A": 40, "B": 3}))
    second = client.get("/v1/availability?channel=web&sku=B", headers=admin).json
    assert first["items"][0]["available"] != second["items"][0]["available"]


@pytest.mark.parametrize(("path", "body", "answered"), [
    (PLAIN, None, True),
    ("/v1/availability", {"channel": "web", "skus": ["A", "B"]}, True),
    ("/v1/availability?channel=web&sku=A&detail=locations", None, False),
    ("/v1/availability?channel=nowhere&sku=A", None, False),
    ("/v1/availability", {"channel": "web", "skus": ["A"], "location": "ST-1"}, False),
])
def test_only_a_plain_lookup_that_succeeds_is_answered_without_flask(stocked, app, admin,
                                                                     path, body, answered):
    fast = app.extensions["oms.fast_reads"]
    environ = EnvironBuilder(path, headers=admin, method="GET" if body is None else "POST",
                             json=body).get_environ()
    started = []
    answer = fast.answer(environ, lambda status, headers: started.append(status))
    assert (answer is not None) == answered and started == (["200 OK"] if answered else [])
