"""Cursor pages: a full page names the next one in a `Link: rel="next"` header."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, request


def link_next(response: Response, after: str, cursor: str = "after") -> Response:
    """Add `Link: <this path?same query&after=...>; rel="next"` to a page's response (the
    cursor parameter named `cursor`: `since` for settlements)."""
    response.headers["Link"] = next_link(request.path, request.args.to_dict(), after, cursor)
    return response


def next_link(path: str, args: dict[str, str], after: str, cursor: str = "after") -> str:
    """The Link header's value: `path` with the query `args` (the first value of each
    parameter, in the order they came) and the cursor set to `after`."""
    return f'<{path}?{urlencode(args | {cursor: after})}>; rel="next"'
