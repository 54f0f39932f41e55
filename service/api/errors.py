"""One table from error to HTTP status; every error leaves as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

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
    code = (error.name or "http_error").lower().replace(" ", "_")
    response = problem_response(error.code or 500, code, error.name, error.description or "")
    for name in ("Allow", "Retry-After"):  # 405 names the methods the path takes (RFC 9110)
        value = dict(error.get_headers()).get(name)
        if value:
            response.headers[name] = value
    return response


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
