"""API fixtures: the Flask app on the test database, and keys for each role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from service.services.access.keys import create_key
from service.services.context import Context


@pytest.fixture
def app(ctx: Context) -> Flask:
    return create_app(ctx=ctx)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def headers_for(ctx: Context) -> Callable[[str], dict[str, str]]:
    """Authorization headers for a fresh key with the given role."""

    def make(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_key(ctx, role)}"}

    return make


@pytest.fixture
def admin(headers_for: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return headers_for("admin")
