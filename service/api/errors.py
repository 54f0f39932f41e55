"""One table from error to HTTP status; every error leaves as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from service import errors
from service.api.boundary import request_id

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://oms.example/problems/"

STATUS_BY_ERROR: list[tuple[type[errors.OmsError], int]] = [
    (errors.MalformedBody, 400),
    (errors.ValidationFailed, 422),
    (errors.Unprocessable, 422),
    (errors.NotFound, 404),
    (errors.IdempotencyMismatch, 422),
    (errors.Conflict, 409),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.Unavailable, 503),
]
RETRY_AFTER_SECONDS = 2  # what a 503 (the database cannot be reached) asks clients to wait


def problem_response(
    status: int, code: str, title: str, detail: str = "", **extra: Any
) -> Response:
    """A problem+json response with a stable type and code."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "instance": request.path if request else None,
        "request_id": request_id() if request else None,
    }
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    body = {k: v for k, v in body.items() if v is not None}
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="oms"'
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def status_for(error: errors.OmsError) -> int:
    """The HTTP status of a service error."""
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 400


def _handle_oms_error(error: errors.OmsError) -> Response:
    return problem_response(
        status_for(error),
        error.code,
        error.title,
        error.detail,
        problems=error.problems or None,
        **error.extra,
    )


def _handle_http_error(error: HTTPException) -> Response:
    if isinstance(error, MethodNotAllowed) and not _path_taken(error.valid_methods or []):
        error = NotFound()
    code = (error.name or "http_error").lower().replace(" ", "_")
    response = problem_response(error.code or 500, code, error.name, error.description or "")
    for name in ("Allow", "Retry-After"):  # 405 names the methods the path takes (RFC 9110)
        value = dict(error.get_headers()).get(name)
        if value:
            response.headers[name] = value
    return response


def _path_taken(methods: list[str]) -> bool:
    """Whether some route takes this path under one of `methods`. Werkzeug answers 405 when a
    route of another method matched the path's shape although its converter refused the
    value (an id past 2^31-1): no method takes that path, so it is a 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in methods:
        try:
            adapter.match(method=method)
        except HTTPException:
            continue
        return True
    return False


def _handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(
        500,
        "internal_error",
        "Internal error",
        "The service failed; the error was logged. Nothing was half-written.",
    )


def register_error_handlers(app: Flask) -> None:
    """Install the handlers: domain errors, HTTP errors, and anything unexpected."""
    app.register_error_handler(errors.OmsError, _handle_oms_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)
