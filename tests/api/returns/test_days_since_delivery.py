"""`days_since_delivery` is a returns variable: default@2 discards opened items that come back
more than 30 days after delivery (`late-opened-returns-are-discarded`) and restocks them
before. Time moves on the service's clock, never by sleeping."""

from datetime import UTC, datetime

import pytest

from service.clock import MovableClock
from tests.api.returns.conftest import line

START = datetime(2026, 12, 1, 9, tzinfo=UTC)
DAY = 86400


@pytest.fixture
def policy():
    return None  # default@2


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


def delivered_return(client, admin, order, open_return) -> str:
    """An order of 2 A shipped and delivered now; a return of both; its id."""
    placed = order([{"sku": "A", "quantity": 2}])
    for type_ in ("shipped", "delivered"):
        for f in placed.json["fulfilments"]:
            sent = client.post(f"/v1/fulfilments/{f['id']}/events", headers=admin,
                               json={"type": type_})
            assert sent.status_code == 200, sent.json
    return open_return(placed.json["id"], [{"sku": "A", "quantity": 2}]).json["id"]


def test_opened_items_back_after_30_days_are_discarded_and_before_restocked(
        stocked, client, admin, order, open_return, receive, clock):
    early = delivered_return(client, admin, order, open_return)
    late = delivered_return(client, admin, order, open_return)

    clock.advance(30 * DAY)
    on_time = receive(early, "DC-1", [line("A", 2, "opened", "changed mind")]).json
    clock.advance(DAY)
    too_late = receive(late, "DC-1", [line("A", 2, "opened", "changed mind")]).json

    [on_time_line] = on_time["receipts"][0]["lines"]
    [late_line] = too_late["receipts"][0]["lines"]
    assert (on_time_line["disposition"], on_time_line["rule"]) == ("restock", None)
    assert (late_line["disposition"], late_line["rule"]) == (
        "discard", "late-opened-returns-are-discarded")
    assert late_line["ruleset"] == "default@2"
