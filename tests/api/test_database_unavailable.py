"""A database that cannot be reached: every request fails cleanly with 503 problem+json."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.exc import DBAPIError, OperationalError

from service.app import create_app
from service.bootstrap import build_context
from service.settings import settings_from_dict
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
])
def test_a_refused_dropped_or_restarting_connection_is_unreachable(error):
    assert unreachable(error)


@pytest.mark.parametrize("error", [
    psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
    psycopg.errors.UniqueViolation("duplicate key"),
    wrapped(psycopg.errors.SerializationFailure("could not serialize")),
    ValueError("not a database error"),
])
def test_a_database_refusing_what_was_asked_is_not_unreachable(error):
    assert not unreachable(error)
