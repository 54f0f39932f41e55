"""GET /v1/orders answered without Flask's request machinery, for the plain search: a query
of only the parameters find_orders reads (the filters, `after` and `limit`), a Bearer key,
every header, parameter name and value ASCII text without NUL.

Why: the search is a read the bench runs at 16 connections, and its own work (one statement,
the orjson page) is a fraction of the request's CPU: Flask's request context, routing,
hooks and Response object cost more (issue 14). As for the availability lookup
(service.api.fast_reads), answering it ahead of Flask leaves only the request's own work.

What stays the same: the same use case call (search.find_rows with the key's role, the query
as request.args holds it, each parameter's first value, and the key's confirmation by the
statement's `keys` version), the ruleset refresh, the body (records_response's bytes), the
headers (Content-Type, Content-Length, the Link to the next page when the page is full,
X-Request-Id, in the Flask path's order), the request metrics and the JSON log line. Anything
else (another parameter, another method, a key this process cannot confirm) and any failure
of the search (a 401, 403, 422, 503, or any error) is answered by the Flask app from the
start, as before: the search only reads, so doing it again there gives the answer the Flask
path always gave, with its problem+json.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  # registers the "werkzeug.url_quote" decoding errors handler

from service.api import boundary
from service.api.auth import KEY_ID_LENGTH
from service.api.fast_json import records_body
from service.api.fast_reads import KeyedFastPath
from service.api.paging import next_link
from service.services.orders import search

PATH = "/v1/orders"
# what find_orders reads of request.args: the filters, the cursor and the page size
PARAMETERS = frozenset(search.TEXT_FILTERS + search.TIME_FILTERS + ("after", "limit"))


class FastSearch(KeyedFastPath):
    """The plain order search as a WSGI answer (None: let the Flask app answer)."""

    def answer(self, environ: dict[str, Any], start_response: Any) -> list[bytes] | None:
        """The answer to a plain search, or None (nothing written, nothing counted)."""
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        args = plain_args(environ.get("QUERY_STRING", ""))
        caller = None if args is None else self._caller(environ)
        if caller is None:
            return None
        key, verified = caller
        try:
            rows = search.find_rows(self._ctx, verified.role, args,
                                    self._confirmer(verified))
            body = records_body(search.SUMMARY_FIELDS, rows)
            full = len(rows) == search.page_limit(args.get("limit"))
        except Exception:  # noqa: BLE001 - the Flask path answers it, as it always did
            return None
        found_id = boundary.request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if full:
            headers.append(("Link", next_link(PATH, args, rows[-1][0])))  # the last order
        headers.append((boundary.REQUEST_ID_HEADER, found_id))
        start_response("200 OK", headers)
        started = environ.get("oms.started")
        self._count(PATH, "GET", 200, started)
        boundary.write_log_line("GET", PATH, 200, started, found_id, key[:KEY_ID_LENGTH])
        return [body]


def plain_args(text: str) -> dict[str, str] | None:
    """The query as find_orders reads request.args (each parameter's first value, in the
    order the parameters first came), parsed as werkzeug parses it, when it holds only
    PARAMETERS, all ASCII and without NUL; else None."""
    if not text.isascii():
        return None
    args: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"):
        if name not in PARAMETERS or not value.isascii() or "\x00" in value:
            return None
        args.setdefault(name, value)
    return args
