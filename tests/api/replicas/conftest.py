"""Read-replica fixtures: a real primary and streaming replica of the session's own (initdb and
pg_basebackup on this machine, never the shared server), and services reading from it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import Engine

from service.app import create_app
from service.bootstrap import build_context
from service.services.access.keys import create_key
from service.services.context import Context
from service.services.masterdata import upserts
from service.services.rulesets import governance
from service.settings import settings_from_dict
from service.store.db import make_engine
from service.store.migrate import upgrade
from service.store.replicas import parse_token
from tests.conftest import SMALL_LOCATIONS, SMALL_PRODUCTS, empty_tables
from tests.replication import Replicated, replicated_postgres, replication_tools
from tests.support import FIXTURES


@pytest.fixture(scope="session")
def pair() -> Iterator[Replicated]:
    """A migrated primary and its streaming replica, for the whole session."""
    if not replication_tools():
        if os.environ.get("OMS_REQUIRE_POSTGRES"):
            pytest.fail("initdb, pg_ctl and pg_basebackup are needed (OMS_REQUIRE_POSTGRES)")
        pytest.skip("initdb, pg_ctl or pg_basebackup is not installed: no streaming replica")
    with replicated_postgres() as replicated:
        upgrade(replicated.primary_url)
        yield replicated


@pytest.fixture(scope="session")
def primary_engine(pair: Replicated) -> Iterator[Engine]:
    engine = make_engine(pair.primary_url)
    yield engine
    engine.dispose()


@dataclass
class Service:
    """A service (its Context and test client) reading from the replica, with an admin key."""

    ctx: Context
    client: FlaskClient
    admin: dict[str, str]

    def push(self, on_hand: int, sku: str = "A") -> str:
        """Set DC-1's count of sku; the write's consistency token."""
        answer = self.client.post("/v1/inventory/deltas", headers=self.admin, json={
            "items": [{"location": "DC-1", "sku": sku, "on_hand": on_hand}]})
        assert answer.status_code == 200 and answer.json["applied"] == 1, answer.json
        return answer.headers["OMS-Consistency-Token"]

    def available(self, token: str | None = None, sku: str = "A") -> int:
        """The web channel's ATS of sku (DC-1 holds nothing back under ledger@1)."""
        headers = self.admin | ({"OMS-Consistency-Token": token} if token else {})
        answer = self.client.get(f"/v1/availability?channel=web&sku={sku}", headers=headers)
        assert answer.status_code == 200, answer.json
        return answer.json["items"][0]["available"]

    def replica(self) -> dict:
        return self.ctx.replicas.report()[0]

    def wait_replayed(self, token: str, timeout: float = 10) -> None:
        """Until the poller has seen the replica replay past token (reads may use it)."""
        position = parse_token(token)
        deadline = time.monotonic() + timeout
        while self.ctx.replicas.choose(position) is None:
            assert time.monotonic() < deadline, self.replica()
            time.sleep(0.001)

    def wait_for(self, status: str, timeout: float = 10) -> None:
        """Until the replica's state is status (the poller's verdict)."""
        deadline = time.monotonic() + timeout
        while self.replica()["status"] != status:
            assert time.monotonic() < deadline, self.replica()
            time.sleep(0.005)


def reads_by(server: str) -> float:
    """The lookups this process's services answered from server ("primary" or a replica)."""
    return REGISTRY.get_sample_value("oms_availability_reads_total", {"server": server}) or 0.0


@pytest.fixture
def service(pair: Replicated, primary_engine: Engine, tmp_path: Path
            ) -> Iterator[Callable[..., Service]]:
    """make(max_lag_ms, poll_ms): a service on the primary listing the replica, on a small
    network (DC-1 and stores, products A B C); tables emptied, replay resumed afterwards."""
    made: list[Context] = []

    def make(max_lag_ms: int = 60_000, poll_ms: int = 10) -> Service:
        settings = settings_from_dict({
            "database_url": pair.primary_url,
            "rulesets": {"directory": str(FIXTURES / "rulesets"), "active": "ledger@1",
                         "reload_seconds": 1},
            "database": {"read_urls": [pair.replica_url], "read_max_lag_ms": max_lag_ms,
                         "read_poll_ms": poll_ms}}, base_dir=tmp_path)
        ctx = build_context(settings, engine=primary_engine)
        made.append(ctx)
        if len(made) == 1:
            upserts.upsert_locations(ctx, SMALL_LOCATIONS)
            upserts.upsert_products(ctx, SMALL_PRODUCTS)
            governance.start(ctx)
        admin = {"Authorization": f"Bearer {create_key(ctx, 'admin')}"}
        return Service(ctx, create_app(ctx=ctx).test_client(), admin)

    yield make
    for ctx in made:
        ctx.replicas.close()
    pair.resume_replay()
    empty_tables(primary_engine)
