"""Consistency tokens, with read replicas (database.read_urls): every successful write answers
with the primary's commit position in `OMS-Consistency-Token`, and an availability read that
sends one back is served by a replica that has replayed past it, else by the primary.

Without read replicas no hook is installed and no token is written; a token sent to an
availability read is still checked (a malformed one is a 422, as /openapi.json says) and then
ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Response, request

from service.services.context import Context

TOKEN_HEADER = "OMS-Consistency-Token"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that write nothing: they neither need nor get a token
READS = frozenset({"availability.post_availability", "orders.plan",
                   "rulesets.validate_ruleset"})
log = logging.getLogger(__name__)


def is_write(method: str, endpoint: str | None) -> bool:
    """Whether a request of this method to this endpoint may write (and gets a token)."""
    return method in WRITE_METHODS and endpoint not in READS


def token_hook(ctx: Context) -> Callable[[Response], Response] | None:
    """With read replicas, the after-request step that answers every successful write with
    its consistency token (None without: no step)."""
    replicas = ctx.replicas
    if replicas is None:
        return None

    def _token(response: Response) -> Response:
        if response.status_code < 400 and is_write(request.method, request.endpoint):
            try:  # read after the view's commits: the position is at or past each of them
                response.headers[TOKEN_HEADER] = replicas.position()
            except Exception:  # noqa: BLE001 - no token: the next read goes by its lag
                log.warning("no consistency token: the primary did not answer", exc_info=True)
        return response
    return _token
