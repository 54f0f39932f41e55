"""Webhook fixtures: settings with fast retries, a real receiver, orders that make events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.domain.roles import Role
from service.feeds.stock_rows import StockRow
from service.services.context import Context
from service.services.inventory import deltas
from service.services.notifications import delivery
from service.services.notifications.sending import Sender
from service.services.orders import fulfilment, placing
from service.settings import Settings, settings_from_dict
from service.store.models import Event, FulfilmentRow
from tests.webhook_receiver import Receiver

ADMIN = Role.parse("admin")
FAST = {"timeout_seconds": 0.3, "concurrency": 8, "batch": 50, "max_attempts": 6,
        "backoff_base_seconds": 0.05, "backoff_factor": 2, "backoff_max_seconds": 1,
        "poll_seconds": 0.05}


@pytest.fixture
def policy() -> str:
    return "ledger@1"


@pytest.fixture
def webhooks_config() -> dict[str, Any]:
    """The webhooks section of the test's settings."""
    return dict(FAST)


@pytest.fixture
def settings(db_url: str, tmp_path: Path, rulesets_dir: Path, active_ruleset: str,
             webhooks_config: dict[str, Any]) -> Settings:
    return settings_from_dict(
        {"database_url": db_url,
         "rulesets": {"directory": str(rulesets_dir), "active": active_ruleset,
                      "reload_seconds": 1},
         "webhooks": webhooks_config},
        base_dir=tmp_path)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def stocked(small_network: Context) -> Context:
    """Plenty of A, B and C at DC-1 and ST-2."""
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [StockRow(i, loc, sku, t0, on_hand=500)
            for i, (loc, sku) in enumerate((where, s) for where in ("DC-1", "ST-2") for s in "ABC")]
    with small_network.transaction() as uow:
        deltas.apply_deltas(small_network, uow, rows, [], len(rows))
    return small_network


def place_orders(ctx: Context, count: int, accept: bool = True) -> list[str]:
    """Place orders (order and fulfilment events); accept every other one's fulfilments."""
    ids = []
    for i in range(count):
        body = {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0},
                "order_ref": f"wh{i}-{time.monotonic_ns()}",
                "lines": [{"sku": "ABC"[i % 3], "quantity": 1 + i % 2}]}
        ids.append(placing.place(ctx, ADMIN, body, None)["id"])
    if accept:
        with ctx.reading() as uow:
            fids = uow.session.scalars(select(FulfilmentRow.id)
                                       .where(FulfilmentRow.order_id.in_(ids[::2]))).all()
        for fid in fids:
            fulfilment.report(ctx, ADMIN, fid, {"type": "accepted"})
    return ids


def outbox(ctx: Context) -> list[Event]:
    """Every event in the outbox, oldest first."""
    with ctx.reading() as uow:
        return list(uow.session.scalars(select(Event).order_by(Event.id)))


def pump(ctx: Context, until: Callable[[], bool], seconds: float = 30) -> bool:
    """Route and deliver, as the job does, until the test's condition holds."""
    config = delivery.DeliveryConfig.of(ctx)
    sender = Sender(config.concurrency, config.timeout_seconds)
    deadline = time.monotonic() + seconds
    try:
        while not until():
            if time.monotonic() > deadline:
                return False
            routed = delivery.route(ctx)
            if not delivery.deliver_due(ctx, config, sender) and not routed:
                time.sleep(0.02)
        return True
    finally:
        sender.close()
