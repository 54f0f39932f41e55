"""The console's availability explorer counts units in transit as the detail read does: a
destination with no position of the SKU has its row, and the figure is the same."""

from datetime import UTC, datetime

import pytest

from service.clock import MovableClock
from service.domain.roles import Role
from service.services.availability import explorer, reads
from tests.api.transfers.test_counted_in_transit import at, shipped_transfer

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def policy() -> str:
    return "transit@1"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


def test_the_explorer_shows_a_destination_with_only_units_in_transit_as_the_detail_read(
        stocked, transfer, report, ctx):
    shipped_transfer(transfer, report, [{"sku": "A", "quantity": 6}], expected_at=at(24))
    for channel in ("web", "marketplace"):
        read = reads.read(ctx, Role("admin"), channel, ["A"], "locations")["items"][0]
        shown = explorer.locations_page(ctx, Role("admin"), channel, "A", 1, 100)
        assert shown["available"] == read["available"]
        assert sorted(shown["page"]["rows"], key=lambda r: r["location"]) == sorted(
            read["locations"], key=lambda r: r["location"])
    web = explorer.locations_page(ctx, Role("admin"), "web", "A", 1, 100)
    st2 = next(r for r in web["page"]["rows"] if r["location"] == "ST-2")
    assert (st2["on_hand"], st2["in_transit"], st2["available"]) == (0, 6, 4)
