"""The availability explorer's page of locations: the figure and each location exactly as the
API's detail read (GET /v1/availability ... detail=locations) gives them, most available
first, a page at a time."""

from __future__ import annotations

from service.domain.roles import Role
from service.services.availability import explorer, reads
from tests.support import T1, snapshot


def test_every_page_together_is_the_detail_read_most_available_first(stocked, client, admin,
                                                                       ctx):
    client.post("/v1/inventory/snapshots", json=snapshot("ST-2", T1, {"A": 4, "B": 7}),
                headers=admin)
    with ctx.reading() as uow:
        channels = sorted(ctx.rules.active(uow).channels)
    for channel in channels:
        for sku in ("A", "B", "C"):
            read = reads.read(ctx, Role("admin"), channel, [sku], "locations")["items"][0]
            first = explorer.locations_page(ctx, Role("admin"), channel, sku, 1, 2)
            rows = [row for n in range(1, first["page"]["pages"] + 1) for row in
                    explorer.locations_page(ctx, Role("admin"), channel, sku, n, 2)["page"]["rows"]]
            assert first["available"] == read["available"], (channel, sku)
            assert sorted(rows, key=lambda r: r["location"]) == sorted(
                read["locations"], key=lambda r: r["location"]), (channel, sku)
            assert [r["available"] for r in rows] == sorted(
                (r["available"] for r in rows), reverse=True)
            assert first["page"]["count"] == len(read["locations"])
