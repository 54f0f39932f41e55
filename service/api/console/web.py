"""The console's blueprint and what every page goes through: the session cookie, the CSRF
check of every form, who may see a page, and errors shown as pages."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from service.api.current import context
from service.api.errors import status_for
from service.domain.roles import Role
from service.errors import Forbidden, OmsError
from service.services.console import sessions

F = TypeVar("F", bound=Callable[..., Any])
COOKIE = "oms_console"
SIGN_IN_CSRF = "oms_console_csrf"

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")


@bp.before_request
def _load_session() -> Response | None:
    """The request's session (its role and key id as the API's request has them), then the
    CSRF token of every POST. Static files need neither."""
    if request.endpoint == "console.static":
        g.console = None
        return None
    g.console = sessions.resume(context(), request.cookies.get(COOKIE))
    if g.console is not None:
        g.role, g.key_id = Role.parse(g.console.role), g.console.key_prefix
    if request.method == "POST" and not _csrf_ok():
        return page("error.html", 403, message="The form is missing its security token "
                    "(or the session ended): nothing was changed. Open the page again.")
    return None


def _csrf_ok() -> bool:
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    if request.endpoint == "console.sign_in":
        expected = request.cookies.get(SIGN_IN_CSRF, "")
    else:
        expected = g.console.csrf_token if g.console is not None else ""
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


@bp.after_request
def _no_store(response: Response) -> Response:
    """Pages show a key's data: never cached, never framed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'")
    return response


@bp.errorhandler(OmsError)
def _error_page(error: OmsError) -> Response:
    status = status_for(error)  # the API's one table of statuses
    if status == 401:
        return redirect(url_for("console.sign_in", next=request.path))  # type: ignore[return-value]
    response = page("error.html", status, message=error.detail, problems=error.problems)
    if status == 503:
        response.headers["Retry-After"] = "2"
    return response


def role() -> Role:
    """The signed-in key's role."""
    return g.role


def who() -> str:
    """Who made a change, as the API records it: role and key id."""
    return f"{g.role}:{g.key_id}"


def key_prefix() -> str:
    """The signed-in key's id (its prefix), as activations record it."""
    return g.key_id


def signed_in(view: F) -> F:
    """A page for any signed-in key; the others are sent to sign in."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.console is None:
            return redirect(url_for("console.sign_in", next=request.path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_page(view: F) -> F:
    """A page for admin keys only: refused (403) to the others, who are not shown it."""

    @signed_in
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not g.role.is_admin:
            raise Forbidden(f"A {g.role} key may not open this page.")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def page(template: str, status: int = 200, **values: Any) -> Response:
    """A rendered page with the session's role, CSRF token and navigation."""
    signed = g.get("console")
    response = Response(render_template(
        f"console/{template}", signed=signed, role=g.get("role") if signed else None,
        csrf=signed.csrf_token if signed else None, **values), status,
        mimetype="text/html")
    return response


def new_sign_in_token() -> str:
    """A token for the sign-in form (double submit: the same value in a cookie)."""
    return secrets.token_urlsafe(32)


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    """A console cookie: HttpOnly, SameSite=Strict, Secure over TLS, for /console only."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Strict",
                        secure=request.is_secure, path="/console")
