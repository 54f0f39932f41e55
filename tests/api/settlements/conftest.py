"""Settlement export tests: the orders' stocked network; orders shipped and cancelled over
HTTP leave the settlement records the export writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from service.services.settlements.exporting import ExportConfig
from service.store.models import Event, SettlementExport, SettlementRecord
from tests.api.orders.conftest import NYC, policy, stocked  # noqa: F401 (the same stock)


@pytest.fixture
def settle(client, admin):
    """settle(n): n orders of one A each, shipped (order_ref R-<i>), and one order of B,
    cancelled; returns the order ids. Each leaves one settlement record."""

    def make(count: int, start: int = 0) -> list[str]:
        ids = []
        for i in range(start, start + count):
            placed = client.post("/v1/orders", headers=admin, json={
                "channel": "web", "ship_to": NYC, "order_ref": f"R-{i}",
                "lines": [{"sku": "A", "quantity": 1, "unit_price": 12.5}]})
            assert placed.status_code == 201, placed.json
            [fulfilment] = placed.json["fulfilments"]
            shipped = client.post(f"/v1/fulfilments/{fulfilment['id']}/events",
                                  headers=admin, json={"type": "shipped"})
            assert shipped.status_code == 200, shipped.json
            ids.append(placed.json["id"])
        placed = client.post("/v1/orders", headers=admin, json={
            "channel": "web", "ship_to": NYC, "lines": [{"sku": "B", "quantity": 1}]})
        assert placed.status_code == 201, placed.json
        cancelled = client.post(f"/v1/orders/{placed.json['id']}/cancel", headers=admin,
                                json={})
        assert cancelled.status_code == 200, cancelled.json
        return [*ids, placed.json["id"]]

    return make


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return tmp_path / "erp"


@pytest.fixture
def config(export_dir: Path) -> ExportConfig:
    return ExportConfig(directory=export_dir, format="ndjson", max_records=1000,
                        currency="EUR")


def record_ids(ctx) -> list[int]:
    with ctx.sessions() as session:
        return list(session.scalars(select(SettlementRecord.id).order_by(SettlementRecord.id)))


def batches(ctx) -> list[SettlementExport]:
    with ctx.sessions() as session:
        return list(session.scalars(select(SettlementExport).order_by(SettlementExport.id)))


def exported_events(ctx) -> list[dict]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Event.payload).where(
            Event.type == "settlement.exported").order_by(Event.id)))


def files(directory: Path) -> dict[str, bytes]:
    """Every file in the export folder (hidden temporary ones too), by name."""
    if not directory.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}
