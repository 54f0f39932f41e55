"""Transfer orders: create (allocated at the source), read, report shipped/received/closed,
cancel before shipping."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from service.api.auth import authenticated, current_role
from service.api.bodies import json_object
from service.api.current import context
from service.api.openapi import documented
from service.errors import ValidationFailed, problem
from service.services.transfers import creating, events

bp = Blueprint("transfers", __name__, url_prefix="/v1")
MAX_KEY = 128
_TRANSFER = {"transfer_id": "$response.body#/id"}
TRANSFER_LINKS = {  # from a transfer to what comes next: read it, ship/receive it, cancel it
    "GetTransfer": {"operationId": "get_transfer", "parameters": _TRANSFER},
    "ReportTransferEvent": {"operationId": "report_transfer_event", "parameters": _TRANSFER},
    "CancelTransfer": {"operationId": "cancel_transfer", "parameters": _TRANSFER},
}


@bp.post("/transfers")
@authenticated
@documented("Move units from one location to another: allocated at the source at once "
            "(admin, or the source's location key; Idempotency-Key header); the Location "
            "header names it", request="transfer_request", response="transfer", status=201,
            roles=("admin", "location"), errors=(403, 404, 409), headers=("Idempotency-Key",),
            response_headers=("Location",), links=TRANSFER_LINKS)
def create_transfer() -> tuple[Response, int]:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key.strip()) <= MAX_KEY:
        raise ValidationFailed("The Idempotency-Key header is not valid.", [problem(
            "/headers/Idempotency-Key", f"expected 1 to {MAX_KEY} characters")])
    result = creating.create(context(), current_role(), json_object(),
                             key.strip() if key else None)
    response = jsonify(result)
    response.headers["Location"] = url_for("transfers.get_transfer", transfer_id=result["id"])
    return response, 201


@bp.get("/transfers/<transfer_id>")
@authenticated
@documented("A transfer and where its units are (a location key: its own transfers only)",
            response="transfer", roles=("admin", "location"), errors=(403, 404),
            links=TRANSFER_LINKS)
def get_transfer(transfer_id: str) -> Response:
    return jsonify(events.read(context(), current_role(), transfer_id))


@bp.post("/transfers/<transfer_id>/events")
@authenticated
@documented("The source reports shipped (the units leave its stock and are in transit); the "
            "destination reports received (partial receipts add up) or closed (the rest is "
            "recorded missing)", request="transfer_event", response="transfer",
            roles=("admin", "location"), errors=(403, 404, 409), links=TRANSFER_LINKS)
def report_transfer_event(transfer_id: str) -> Response:
    return jsonify(events.report(context(), current_role(), transfer_id, json_object()))


@bp.post("/transfers/<transfer_id>/cancel")
@authenticated
@documented("Cancel a transfer before it ships (admin or the source): its allocation is "
            "released at once", request="transfer_cancel", response="transfer",
            roles=("admin", "location"), errors=(403, 404, 409), body_optional=True,
            links=TRANSFER_LINKS)
def cancel_transfer(transfer_id: str) -> Response:
    body = json_object() if request.get_data(cache=True).strip() else {}
    return jsonify(events.cancel(context(), current_role(), transfer_id, body))
