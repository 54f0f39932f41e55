"""Cursor pages: a full page names the next one in a `Link: rel="next"` header."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, request


def link_next(response: Response, after: str, cursor: str = "after") -> Response:
    """Add `Link: <this path?same query&after=...>; rel="next"` to a page's response (the
    cursor parameter named `cursor`: `since` for settlements)."""
    args = request.args.to_dict() | {cursor: after}
    response.headers["Link"] = f'<{request.path}?{urlencode(args)}>; rel="next"'
    return response
