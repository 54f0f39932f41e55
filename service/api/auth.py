"""Bearer-key authentication and role checks for the blueprints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from service.domain.roles import Role
from service.errors import Forbidden, Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])
_REFUSED = "The API key is unknown or revoked."
KEY_ID_LENGTH = 10  # the prefix service.services.access.keys keeps (api_keys.prefix)


def current_role(deferred: bool = False) -> Role:
    """The role of the request's key; 401 when the key is missing, unknown or revoked.

    With `deferred` the role may come from this process's cache: the view must then pass
    `confirm_key` to its use case, which confirms it with its first statement.
    """
    role = g.get("role")
    if role is not None:
        return role
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <api key>'.")
    g.key_id = key.strip()[:KEY_ID_LENGTH]
    verified = current_app.extensions["oms.keys"].verify(key.strip(), deferred)
    if verified is None:
        raise Unauthenticated(_REFUSED)
    g.role, g.verified = verified.role, verified
    return verified.role


def confirm_key(version: int | None) -> None:
    """Confirm the request's key against the `keys` cache version a statement read (None:
    read the key now); 401 when it was revoked since this process cached it."""
    verified = g.get("verified")
    if verified is None or verified.fresh:
        return
    if not current_app.extensions["oms.keys"].confirm(verified, version):
        raise Unauthenticated(_REFUSED)
    g.verified = replace(verified, fresh=True)


def authenticated_lookup(view: F) -> F:
    """Any valid key, confirmed by the view's first statement (the hot reads: one round
    trip for the key and the data); the view passes `confirm_key` to its use case."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_role(deferred=True)
        return view(*args, **kwargs)

    wrapper._oms_auth = "any role"  # type: ignore[attr-defined]
    wrapper._oms_auth_deferred = True  # type: ignore[attr-defined]  # boundary: no key read
    return wrapper  # type: ignore[return-value]


def authenticated_read(view: F) -> F:
    """Any valid key, for a read whose one statement also reads the `keys` cache version
    (the view passes `confirm_key` to its use case): a role this process cached serves
    without a round trip of its own. Whatever the view does, the key is confirmed before
    the answer leaves: a revoked key is a 401, never data nor another refusal (nothing is
    written first: the view only reads)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_role(deferred=True)
        try:
            answer = view(*args, **kwargs)
        except Exception:
            confirm_key(None)
            raise
        confirm_key(None)  # nothing to do when the view's statement confirmed it
        return answer

    wrapper._oms_auth = "any role"  # type: ignore[attr-defined]
    wrapper._oms_auth_deferred = True  # type: ignore[attr-defined]  # boundary: no key read
    return wrapper  # type: ignore[return-value]


def key_id() -> str | None:
    """The id of the request's key as logs and activations show it: its first characters,
    as `api_keys.prefix` keeps them and `oms keys list` shows them (never the key itself);
    None when no key was sent."""
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



def admin_or_erp(view: F) -> F:
    """Admin and ERP keys (what leaves for the ERP); channel and location keys get 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        role = current_role()
        if not (role.is_admin or role.kind == "erp"):
            raise Forbidden(f"A {role} key may not do this: admin and erp keys only.")
        return view(*args, **kwargs)

    wrapper._oms_auth = "admin or erp"  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def admin_or_channel(view: F) -> F:
    """Admin and channel keys; a location key gets 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        role = current_role()
        if not (role.is_admin or role.kind == "channel"):
            raise Forbidden(f"A {role} key may not do this: admin and channel keys only.")
        return view(*args, **kwargs)

    wrapper._oms_auth = "admin or channel"  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
