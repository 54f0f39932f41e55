"""Fixtures: every SQL test runs on SQLite and on PostgreSQL (OMS_TEST_DATABASE_URL).

The PostgreSQL leg gets its own schema per test session, so concurrent runs cannot collide;
without OMS_TEST_DATABASE_URL it is skipped, visibly, with the reason in the summary.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from service.bootstrap import build_context
from service.clock import Clock, SystemClock
from service.services.context import Context
from service.settings import Settings, settings_from_dict
from service.store.db import make_engine
from service.store.migrate import upgrade
from service.store.models import Base
from tests.support import FIXTURES

PG_ENV = "OMS_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"]


def _postgres_url(schema: str) -> str:
    url = make_url(os.environ[PG_ENV])
    # A session time zone other than UTC: SQL that sent aware timestamps to naive columns
    # would store and compare them shifted, and the tests would see it.
    options = f"-csearch_path={schema} -ctimezone=America/New_York"
    return url.update_query_dict({"options": options}).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database URL for the session: SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'oms.db'}"
        upgrade(url)
        yield url
        return
    if not os.environ.get(PG_ENV):
        if os.environ.get("OMS_REQUIRE_POSTGRES"):
            pytest.fail(f"{PG_ENV} is not set but OMS_REQUIRE_POSTGRES asks for PostgreSQL")
        pytest.skip(f"PostgreSQL leg skipped: set {PG_ENV} to run it")
    schema = f"oms_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(os.environ[PG_ENV])
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _postgres_url(schema)
    upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on the session's database (tables are emptied after each test using it)."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def policy() -> str | None:
    """A test ruleset from tests/fixtures/rulesets ("ledger@1"); None runs default@2 there (a
    copy of a shipped version: tests never read rulesets/, which may gain versions)."""
    return None


@pytest.fixture
def rulesets_dir(policy: str | None) -> Path:
    """The rule files the test runs with."""
    return FIXTURES / "rulesets"


@pytest.fixture
def active_ruleset(policy: str | None) -> str:
    return policy or "default@2"


@pytest.fixture
def settings(db_url: str, tmp_path: Path, rulesets_dir: Path, active_ruleset: str) -> Settings:
    """Settings on the test database and the chosen rulesets."""
    return settings_from_dict(
        {"database_url": db_url,
         "rulesets": {"directory": str(rulesets_dir), "active": active_ruleset,
                      "reload_seconds": 1}},
        base_dir=tmp_path,
    )


@pytest.fixture
def clock() -> Clock:
    """The clock the service reads; a test that moves time overrides this with a
    MovableClock (never a sleep)."""
    return SystemClock()


@pytest.fixture
def ctx(settings: Settings, db_engine: Engine, clock: Clock) -> Iterator[Context]:
    """A service context on the test database; every table is emptied afterwards."""
    context = build_context(settings, engine=db_engine, clock=clock)
    yield context
    empty_tables(db_engine)


def empty_tables(engine: Engine) -> None:
    """Delete every row, children first."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


SMALL_LOCATIONS = [
    {"id": "ST-1", "name": "Store one", "type": "store", "lat": 40.75, "lon": -73.99,
     "can_pickup": True, "can_ship": True, "daily_capacity": 50, "processing_hours": 4},
    {"id": "ST-2", "name": "Store two", "type": "store", "lat": 41.88, "lon": -87.63,
     "can_pickup": False, "can_ship": True, "daily_capacity": 50, "processing_hours": 4},
    {"id": "DC-1", "name": "DC", "type": "dc", "lat": 39.1, "lon": -84.5,
     "daily_capacity": 5000, "processing_hours": 12, "priority": 1},
    {"id": "DS-1", "name": "Dropshipper", "type": "dropship", "lat": 34.05, "lon": -118.24,
     "daily_capacity": 100, "processing_hours": 48},
]
SMALL_PRODUCTS = [
    {"sku": "A", "name": "Alpha", "category": "home", "price": 10},
    {"sku": "B", "name": "Beta", "category": "toys", "price": 20, "tags": ["clearance"]},
    {"sku": "C", "name": "Gamma", "category": "toys", "price": 5},
]


@pytest.fixture
def small_network(ctx: Context) -> Context:
    """Four locations (two stores, a DC, a drop-shipper) and three products, no stock."""
    from service.services.masterdata import upserts
    from service.services.rulesets import governance

    upserts.upsert_locations(ctx, SMALL_LOCATIONS)
    upserts.upsert_products(ctx, SMALL_PRODUCTS)
    governance.start(ctx)
    return ctx
