"""Console fixtures: the small network with stock, and a browser-like client signed in."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from service.services.access.keys import create_key
from tests.support import T1, snapshot

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str, action: str | None = None) -> str:
    """The CSRF token of the first form of a page (or of the first form posting to action)."""
    if action is not None:
        html = html[html.index(f'action="{action}"'):]
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, key: str) -> FlaskClient:
    """Sign in through the form (its token, then the key); the client keeps the cookie."""
    form = client.get("/console/sign-in")
    response = client.post("/console/sign-in",
                           data={"key": key, "csrf": csrf_of(form.get_data(as_text=True),
                                                             "/console/sign-in")})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture
def stocked(small_network, client, admin):
    """A: 10 at ST-1 (New York store), 20 at DC-1. B: 5 at DC-1. C: 3 at ST-1 only."""
    for location, counts in {"ST-1": {"A": 10, "C": 3}, "DC-1": {"A": 20, "B": 5}}.items():
        response = client.post("/v1/inventory/snapshots", json=snapshot(location, T1, counts),
                               headers=admin)
        assert response.status_code == 200
    return small_network


@pytest.fixture
def signed_in(app, ctx) -> Callable[[str], FlaskClient]:
    """A new client signed in with a fresh key of the given role."""

    def make(role: str) -> FlaskClient:
        return sign_in(app.test_client(), create_key(ctx, role))

    return make
