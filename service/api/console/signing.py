"""Signing in (an API key for a session cookie), signing out, and the home page."""

from __future__ import annotations

from flask import Response, g, redirect, request, url_for

from service.api.console.web import (
    COOKIE,
    SIGN_IN_CSRF,
    bp,
    new_sign_in_token,
    page,
    set_cookie,
    signed_in,
)
from service.api.current import context
from service.errors import Unauthenticated
from service.services.console import sessions


def _next_path() -> str:
    """Where to go after signing in: a console path only (never another site)."""
    target = request.values.get("next") or ""
    if target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return url_for("console.home")


def _form(status: int = 200, message: str | None = None) -> Response:
    token = new_sign_in_token()
    response = page("sign_in.html", status, form_token=token, next=_next_path(),
                    message=message)
    set_cookie(response, SIGN_IN_CSRF, token, max_age=3600)
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response:
    """The sign-in form; a valid key opens a new session (new id: no fixation)."""
    if request.method == "GET":
        return _form()
    sessions.sign_out(context(), request.cookies.get(COOKIE))  # any older session ends
    try:
        token, signed = sessions.sign_in(context(), request.form.get("key", ""))
    except Unauthenticated as refused:
        g.console = None
        response = _form(401, refused.detail)
        response.delete_cookie(COOKIE, path="/console")
        return response
    response = redirect(_next_path(), 303)
    set_cookie(response, COOKIE, token)
    response.delete_cookie(SIGN_IN_CSRF, path="/console")
    return response  # type: ignore[return-value]


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session and forget the cookie."""
    sessions.sign_out(context(), request.cookies.get(COOKIE))
    response = redirect(url_for("console.sign_in"), 303)
    response.delete_cookie(COOKIE, path="/console")
    return response  # type: ignore[return-value]


@bp.get("/")
@signed_in
def home() -> Response:
    """What this key may do here."""
    return page("home.html")
