"""What every request goes through: its request id, authentication before anything is read,
no NUL character in a path id or query parameter, and one JSON log line when it is answered."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Any

from flask import Request, Response, current_app, g, request
from werkzeug import routing

from service.api.auth import confirm_key, current_role, key_id
from service.errors import Forbidden, ValidationFailed, problem

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,128}$")
log = logging.getLogger("oms.requests")
# json.dumps builds a new encoder on every call that passes options; this one is built once
# (the same text: ", " and ": " separators, non-ASCII as is)
_LOG_LINE = json.JSONEncoder(ensure_ascii=False)
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))  # uuid.UUID(version=4)'s bits, as it sets them
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
INT32_MAX = 2**31 - 1


class IntegerConverter(routing.IntegerConverter):
    """A path integer as the 32-bit columns hold it (1 to 2^31-1, as /openapi.json says): a
    larger one matches no route, so it is a 404 instead of a database error (a 500 on
    PostgreSQL)."""

    def __init__(self, url_map: routing.Map, fixed_digits: int = 0, min: int | None = 1,
                 max: int | None = INT32_MAX, signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


def request_id() -> str:
    """The request's id: the caller's X-Request-Id when it is sane, else a new one."""
    found = g.get("request_id")
    if found is None:
        found = g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))
    return found


def request_id_for(sent: str) -> str:
    """The caller's X-Request-Id when it is sane, else a new one."""
    return sent if _SANE_REQUEST_ID.match(sent) else new_request_id()


def new_request_id() -> str:
    """uuid.uuid4().hex, the same 32 hex digits (random, version 4, RFC 4122 variant), without
    building a UUID object (a sixth of the cost, on every request that sends no id)."""
    number = int.from_bytes(os.urandom(16), "big") & _UUID4_CLEAR | _UUID4_SET
    return f"{number:032x}"


def refuse_nul(texts: list[tuple[str, Any, int | None]]) -> None:
    """A 422 naming every field (a JSON pointer, and the line of a CSV or NDJSON body) whose
    text no database stores: a NUL character (PostgreSQL refuses it in text) or half of a
    UTF-16 surrogate pair (a JSON escape such as \\ud800 alone, which is no character)."""
    found = []
    for pointer, value, line in texts:
        reason = _unstorable(value) if isinstance(value, str) else None
        if reason:
            where = {"line": line} if line else {}
            found.append(problem(pointer.encode("utf-8", "backslashreplace").decode()
                                 .replace("\x00", "\\u0000"),
                                 reason + (f" (line {line})" if line else ""), **where))
    if found:
        raise ValidationFailed("Some text cannot be stored.", found)


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain the NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (a lone UTF-16 surrogate)"
    return None


def check_request() -> None:
    """Before any view: the request id, 401/403 from the view's auth, no NUL character."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    request_id()
    view = current_app.view_functions.get(req.endpoint or "")
    needs = getattr(view, "_oms_auth", None)
    deferred = getattr(view, "_oms_auth_deferred", False)
    if needs:  # 401, then an admin-only 403, before any other answer about the request
        role = current_role(deferred=deferred)  # a lookup's view confirms a cached key
        if needs == "admin" and not role.is_admin:
            raise Forbidden("Only an admin key may do this.")
    try:
        _refuse_nul_anywhere(req)
    except ValidationFailed:
        if deferred and needs:
            confirm_key(None)  # a key taken from this process's cache: 401 first when revoked
        raise


_HEADER_KEYS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


def _refuse_nul_anywhere(req: Request) -> None:
    view_args = req.view_args or {}
    # the usual request: one scan of all its text (path ids, query, every header's value as
    # the WSGI environ holds it; request.headers reads the same values)
    texts = [v for v in view_args.values() if isinstance(v, str)]
    for name, values in req.args.lists():
        texts.append(name)
        texts += values
    texts += [value for key, value in req.environ.items()
              if (key[:5] == "HTTP_" or key in _HEADER_KEYS) and isinstance(value, str)]
    every = "".join(texts)
    if "\x00" not in every and (every.isascii() or _unstorable(every) is None):
        return  # ASCII text holds no lone surrogate: no UTF-8 encoding to try
    refuse_nul([(f"/path/{name}", value, None) for name, value in view_args.items()]
               + [(f"/query/{name}", name + value, None)
                  for name, value in req.args.items(multi=True)]
               + [(f"/headers/{name}", value, None) for name, value in req.headers.items()])


def answered(response: Response) -> Response:
    """After the view: the X-Request-Id header, and the request's JSON log line."""
    found = request_id()
    response.headers[REQUEST_ID_HEADER] = found
    if log.isEnabledFor(logging.INFO):  # the line is built only when it is written
        req = request._get_current_object()  # type: ignore[attr-defined]
        started = req.environ.get("oms.started")
        write_log_line(req.method, req.path, response.status_code, started, found, key_id())
    return response


def write_log_line(method: str, path: str, status: int, started: float | None,
                   found_id: str, key: str | None) -> None:
    """The request's JSON log line (when the log takes INFO lines)."""
    if not log.isEnabledFor(logging.INFO):
        return
    _write_line(_LOG_LINE.encode({
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        "request_id": found_id,
        "key_id": key,
    }))


def _write_line(line: str) -> None:
    """log.info(line), without looking up the caller's file and line in the stack (the
    format prints only the message; the lookup was a third of the line's cost). While the
    log is as install_log set it (its one handler, which prints the message alone, no
    filter, no propagation), the line is written to that handler's stream directly, as its
    emit writes it (the line and the terminator, then a flush, under the handler's lock):
    the record, its filters and the formatting cost as much as the write."""
    handler = _HANDLER[0]
    if handler is None or not _as_installed(handler):
        log.handle(_record(line))
        return
    handler.acquire()
    try:
        handler.stream.write(line + handler.terminator)
        handler.flush()
    except RecursionError:
        raise
    except Exception:  # noqa: BLE001 - as StreamHandler.emit: reported, never raised
        handler.handleError(_record(line))
    finally:
        handler.release()


def _record(line: str) -> logging.LogRecord:
    return log.makeRecord(log.name, logging.INFO, "", 0, line, (), None, "answered")


def _as_installed(handler: logging.StreamHandler) -> bool:  # type: ignore[type-arg]
    handlers = log.handlers
    return (len(handlers) == 1 and handlers[0] is handler and not log.propagate
            and not log.disabled and not log.filters and not handler.filters
            and handler.level <= logging.INFO and handler.formatter is _FORMAT[0])


# the handler and formatter install_log made (None until then)
_HANDLER: list[logging.StreamHandler | None] = [None]  # type: ignore[type-arg]
_FORMAT: list[logging.Formatter | None] = [None]


def install_log() -> None:
    """The request log's handler (one JSON line, to stderr); the app factory installs
    `check_request` and `answered` as its hooks."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        _HANDLER[0], _FORMAT[0] = handler, handler.formatter
        log.propagate = False
        log.setLevel(logging.INFO)
