"""/v1/availability answered without Flask's request machinery, for the plain lookup: a
channel and its SKUs (GET: query parameters `channel` and `sku` only; POST, the cart: a JSON
object of `channel` and `skus` only, no query), a Bearer key, every header, parameter and
body ASCII text without NUL.

Why: the lookup is the hottest request, and measured in process on the 1M bench database
Flask's request context, routing, hooks and Response object cost about as much CPU as the
rest of the request (the read, its statement, the log line and metrics): in a closed loop
that is the request's latency, and the p99 with it.

What stays the same: the same use case (reads.read, the same arguments as the view), the same
key check (the process's key cache, confirmed by the lookup's own `keys` version), the
ruleset refresh, the body (jsonify's bytes), the headers (Content-Type, Content-Length,
X-Request-Id), the request metrics and the JSON log line. Anything else (another parameter,
a key this process cannot confirm, a body jsonify would write differently) and any failure
of the read (a 401, 403, 422, 503, or any error) is answered by the Flask app from the start,
as before: the read only reads (an overdue reservation it frees stays freed), so doing it
again there gives the answer the Flask path always gave, with its problem+json.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  # registers the "werkzeug.url_quote" decoding errors handler

from service.api import boundary
from service.api.auth import KEY_ID_LENGTH
from service.api.consistency import TOKEN_HEADER
from service.api.fast_json import flat_body
from service.services.access.keys import KeyVerifier, Verified
from service.services.availability import reads
from service.services.context import Context
from service.services.rulesets import governance

PATH = "/v1/availability"
_PARAMETERS = frozenset({"channel", "sku"})
_HEADER_KEYS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
_TOKEN_ENVIRON = "HTTP_" + TOKEN_HEADER.upper().replace("-", "_")  # as the view reads it
_CART_KEYS = frozenset({"channel", "skus"})
_NUL_OR_ESCAPE = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F])")  # as bodies._may_hold_nul


class _Refused(Exception):
    """The key is not confirmed: the Flask path answers (401)."""


class KeyedFastPath:
    """What a read answered ahead of Flask holds: the context, the process's key cache, the
    request counter; and how it confirms a key by the version its statement read."""

    def __init__(self, ctx: Context, keys: KeyVerifier,
                 count: Callable[[str, str, int, float | None], None]) -> None:
        self._ctx = ctx
        self._keys = keys
        self._count = count
        self.enabled = True  # tests compare the two paths

    def _caller(self, environ: dict[str, Any]) -> tuple[str, Verified] | None:
        """The Bearer key and its verification, when every header is clean and this process
        knows the key (rulesets refreshed first, as the Flask path does); else None."""
        if not _clean_headers(environ):
            return None
        key = _bearer(environ.get("HTTP_AUTHORIZATION", ""))
        if key is None:
            return None
        governance.refresh_if_due(self._ctx)
        try:
            verified = self._keys.verify(key, deferred=True)
        except Exception:  # noqa: BLE001 - the Flask path answers it, as it always did
            return None
        return None if verified is None else (key, verified)

    def _confirmer(self, verified: Verified) -> Callable[[int | None], None]:
        def confirm(version: int | None) -> None:
            if not verified.fresh and not self._keys.confirm(verified, version):
                raise _Refused
        return confirm


class FastAvailability(KeyedFastPath):
    """The plain availability lookup as a WSGI answer (None: let the Flask app answer)."""

    def __init__(self, ctx: Context, keys: KeyVerifier,
                 count: Callable[[str, str, int, float | None], None]) -> None:
        super().__init__(ctx, keys, count)
        self._max_bytes = int(ctx.settings.section("server")["max_request_bytes"])

    def answer(self, environ: dict[str, Any], start_response: Any) -> list[bytes] | None:
        """The answer to a plain lookup, or None (nothing written, nothing counted)."""
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            query = _plain_query(environ)
        elif method == "POST":
            query = _plain_body(environ, self._max_bytes)
        else:
            return None
        caller = None if query is None else self._caller(environ)
        if caller is None:
            return None
        key, verified = caller
        try:
            body = flat_body(reads.read(self._ctx, verified.role, query[0], query[1],
                                        confirm=self._confirmer(verified),
                                        token=environ.get(_TOKEN_ENVIRON)))
        except Exception:  # noqa: BLE001 - the Flask path answers it, as it always did
            return None
        if body is None:
            return None
        found_id = boundary.request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body))),
                                  (boundary.REQUEST_ID_HEADER, found_id)])
        started = environ.get("oms.started")
        self._count(PATH, method, 200, started)
        boundary.write_log_line(method, PATH, 200, started, found_id, key[:KEY_ID_LENGTH])
        return [body]


def _plain_query(environ: dict[str, Any]) -> tuple[str | None, list[str]] | None:
    """(channel, skus) of a query of only `channel` and `sku` parameters, parsed as
    werkzeug parses request.args, all ASCII and without NUL; else None."""
    text = environ.get("QUERY_STRING", "")
    if not text.isascii():
        return None
    channel, skus = None, []
    for name, value in parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"):
        if name not in _PARAMETERS or not value.isascii() or "\x00" in value:
            return None
        if name == "sku":
            skus.append(value)
        elif channel is None:
            channel = value
    return channel, skus


def _plain_body(environ: dict[str, Any], max_bytes: int
                ) -> tuple[str, list[str]] | None:
    """(channel, skus) of a cart body {"channel": text, "skus": [text, ...]} read as the view
    reads it (json.loads), ASCII without NUL (nor JSON's escapes of a NUL or a surrogate),
    with no query string; else None. The body read is put back for the Flask app."""
    length = environ.get("CONTENT_LENGTH", "")
    if (environ.get("QUERY_STRING") or "HTTP_TRANSFER_ENCODING" in environ
            or not length.isdigit() or not 0 < int(length) <= max_bytes):
        return None
    raw = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(raw)  # the Flask app reads it again when it answers
    if not raw.isascii() or _NUL_OR_ESCAPE.search(raw) is not None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if type(data) is not dict or not data.keys() <= _CART_KEYS:
        return None
    channel, skus = data.get("channel"), data.get("skus")
    if type(channel) is not str or type(skus) is not list or not all(
            type(sku) is str for sku in skus):
        return None
    return channel, skus


def _clean_headers(environ: dict[str, Any]) -> bool:
    """Every header value ASCII text without NUL (what boundary's scan lets through)."""
    every = "".join([value for key, value in environ.items()
                     if (key[:5] == "HTTP_" or key in _HEADER_KEYS) and isinstance(value, str)])
    return every.isascii() and "\x00" not in every


def _bearer(header: str) -> str | None:
    scheme, _, key = header.partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None
