"""Bearer-key authentication and role checks for the blueprints."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from service.domain.roles import Role
from service.errors import Forbidden, Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])


def current_role() -> Role:
    """The role of the request's key; 401 when the key is missing or unknown."""
    role = g.get("role")
    if role is not None:
        return role
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <api key>'.")
    g.key_id = hashlib.sha256(key.strip().encode("utf-8")).hexdigest()[:12]
    role = current_app.extensions["oms.keys"].role_for(key.strip())
    if role is None:
        raise Unauthenticated("The API key is unknown or revoked.")
    g.role = role
    return role


def key_id() -> str | None:
    """An id for the request's key that the logs may show (a prefix of its SHA-256, never the
    key): the same key always has the same id; None when no key was read."""
    return g.get("key_id")


def authenticated(view: F) -> F:
    """Any valid key; the view checks channel or location scope itself."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_role()
        return view(*args, **kwargs)

    wrapper._oms_auth = "any role"  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def admin_only(view: F) -> F:
    """Only admin keys."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_role().is_admin:
            raise Forbidden("Only an admin key may do this.")
        return view(*args, **kwargs)

    wrapper._oms_auth = "admin"  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]

