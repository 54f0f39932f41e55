"""Returns: open one for shipped units of an order, read it, receive it at a location."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from service.api.auth import authenticated, current_role
from service.api.bodies import json_object
from service.api.current import context
from service.api.openapi import documented
from service.errors import ValidationFailed, problem
from service.services.returns import opening, receiving

bp = Blueprint("returns", __name__, url_prefix="/v1")
MAX_KEY = 128
_RETURN = {"return_id": "$response.body#/id"}
RETURN_LINKS = {  # from a return to what comes next: read it, receive it
    "GetReturn": {"operationId": "get_return", "parameters": _RETURN},
    "ReceiveReturn": {"operationId": "receive_return", "parameters": _RETURN},
}


@bp.post("/orders/<order_id>/returns")
@authenticated
@documented("Open a return (RMA) for shipped units of an order (admin, or the order's "
            "channel; Idempotency-Key header): each line at most the units shipped less "
            "those already in returns, else 409 over_return naming the line; the Location "
            "header names it", request="return_request", response="return", status=201,
            roles=("admin", "channel"), errors=(404, 409), headers=("Idempotency-Key",),
            response_headers=("Location",), links=RETURN_LINKS)
def open_return(order_id: str) -> tuple[Response, int]:
    key = _idempotency_key()
    result = opening.open_for_order(context(), current_role(), order_id, json_object(), key)
    response = jsonify(result)
    response.headers["Location"] = url_for("returns.get_return", return_id=result["id"])
    return response, 201


@bp.get("/returns/<return_id>")
@authenticated
@documented("A return, its lines and receipts: each received line's disposition, the rule "
            "that decided it and the ruleset name@version (a channel key: its channel's "
            "returns; a location key: those it received, and open ones if it takes returns)",
            response="return", roles=("admin", "channel", "location"), errors=(404,),
            links=RETURN_LINKS)
def get_return(return_id: str) -> Response:
    return jsonify(receiving.read(context(), current_role(), return_id))


@bp.post("/returns/<return_id>/receipts")
@authenticated
@documented("Receive some or all of a return's units at a location (any active store or "
            "DC; a location key: its own only) with each line's condition and reason: the "
            "active ruleset's returns rules decide each line's disposition (restock: into "
            "that location's stock and availability at once); never more than is open "
            "(409 over_receipt naming the line); Idempotency-Key header: a retry replays the "
            "first answer", request="return_receipt", response="return",
            roles=("admin", "location"), errors=(403, 404, 409), headers=("Idempotency-Key",),
            links=RETURN_LINKS)
def receive_return(return_id: str) -> Response:
    key = _idempotency_key()
    return jsonify(receiving.receive_return(context(), current_role(), return_id,
                                            json_object(), key))


def _idempotency_key() -> str | None:
    """The request's Idempotency-Key header, checked (None when it has none)."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key.strip()) <= MAX_KEY:
        raise ValidationFailed("The Idempotency-Key header is not valid.", [problem(
            "/headers/Idempotency-Key", f"expected 1 to {MAX_KEY} characters")])
    return key.strip() if key else None
