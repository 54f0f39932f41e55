"""A database that cannot be reached: every request fails cleanly with 503 problem+json."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from service.app import create_app
from service.bootstrap import build_context
from service.services.access.keys import create_key
from service.settings import settings_from_dict
from service.store import db
from service.store.errors import unreachable
from tests.processes import free_port
from tests.support import FIXTURES


@pytest.fixture
def unreachable_client():
    """The app on a PostgreSQL URL where nothing listens (as when the server is down)."""
    settings = settings_from_dict({
        "database_url": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/oms",
        "rulesets": {"directory": str(FIXTURES / "rulesets"), "active": "strict@1"}})
    ctx = build_context(settings)
    yield create_app(ctx=ctx).test_client()
    ctx.close()


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/v1/availability?channel=web&sku=A", None),
    ("POST", "/v1/orders", {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0},
                            "lines": [{"sku": "A", "quantity": 1}]}),
    ("GET", "/v1/rulesets", None),
    ("GET", "/v1/orders?channel=web&status=created", None),
])
def test_a_request_while_the_database_is_down_is_a_503_problem_with_retry_after(
        unreachable_client, method, path, body):
    response = unreachable_client.open(path, method=method, json=body,
                                       headers={"Authorization": "Bearer oms_some-key"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "database_unavailable"
    assert int(response.headers["Retry-After"]) >= 1


def test_healthz_says_the_database_is_down_with_503(unreachable_client):
    response = unreachable_client.get("/healthz")
    assert response.status_code == 503


def wrapped(orig: Exception, invalidated: bool = False) -> DBAPIError:
    return OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize("error", [
    psycopg.OperationalError("connection refused"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.errors.CannotConnectNow("the database system is starting up"),
    psycopg.errors.TooManyConnections("too many clients"),
    wrapped(psycopg.OperationalError("server closed the connection unexpectedly")),
    wrapped(Exception("any"), invalidated=True),
    wrapped(sqlite3.OperationalError("database is locked")),
])
def test_a_refused_dropped_or_restarting_connection_is_unreachable(error):
    assert unreachable(error)


@pytest.mark.parametrize("error", [
    psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
    psycopg.errors.UniqueViolation("duplicate key"),
    wrapped(psycopg.errors.SerializationFailure("could not serialize")),
    ValueError("not a database error"),
    wrapped(sqlite3.OperationalError("no such table: orders")),
])
def test_a_database_refusing_what_was_asked_is_not_unreachable(error):
    assert not unreachable(error)


@pytest.fixture
def locked_sqlite(ctx, db_url, settings, monkeypatch):
    """(a client on a short busy timeout, an admin key, the lock) with another writer holding
    SQLite's write lock."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the database-wide write lock is SQLite's")
    key = create_key(ctx, "admin")
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.2)
    short = build_context(settings)
    holder = sqlite3.connect(make_url(db_url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield create_app(ctx=short).test_client(), key, holder
    holder.close()
    short.close()


def test_a_writer_kept_waiting_past_the_busy_timeout_gets_503_not_a_locked_database(
        locked_sqlite):
    client, key, holder = locked_sqlite
    headers = {"Authorization": f"Bearer {key}"}
    product = [{"sku": "P-1", "name": "Pan", "category": "home", "price": 9}]
    response = client.post("/v1/products", json=product, headers=headers)
    assert response.status_code == 503 and response.json["code"] == "database_unavailable"
    assert "locked" not in response.get_data(as_text=True)
    holder.execute("ROLLBACK")
    assert client.post("/v1/products", json=product, headers=headers).status_code == 200
