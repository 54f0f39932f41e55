"""Sourcing plans (dry run) and orders: place, read, cancel."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from service.api.auth import (
    authenticated,
    authenticated_lookup,
    authenticated_read,
    confirm_key,
    current_role,
)
from service.api.bodies import json_object
from service.api.current import context
from service.api.fast_json import document_response, records_response
from service.api.openapi import documented
from service.api.paging import link_next
from service.errors import OmsError, ValidationFailed, problem
from service.services.orders import cancelling, editing, placing, planning, reading, search

bp = Blueprint("orders", __name__, url_prefix="/v1")
MAX_KEY = 128
_ORDER = {"order_id": "$response.body#/id"}
ORDER_LINKS = {  # from an order to what comes next: read it, its timeline, cancel it, ship it
    "GetOrder": {"operationId": "get_order", "parameters": _ORDER},
    "OrderTimeline": {"operationId": "order_timeline", "parameters": _ORDER},
    "CancelOrder": {"operationId": "cancel_order", "parameters": _ORDER},
    "ReportFulfilmentEvent": {"operationId": "report_event", "parameters": {
        "fulfilment_id": "$response.body#/fulfilments/0/id"}},
    "LocationQueue": {"operationId": "location_queue", "parameters": {
        "location_id": "$response.body#/fulfilments/0/location"}},
}


@bp.post("/sourcing/plan")
@authenticated
@documented("Dry run: which locations would fulfil these lines, at what cost, and why",
            request="plan_request", response="plan", roles=("admin", "channel"),
            errors=(403, 404))
def plan() -> Response:
    return jsonify(planning.plan(context(), current_role(), json_object()))


@bp.post("/orders")
@authenticated_lookup
@documented("Place an order: plan and allocate in one transaction (Idempotency-Key header); "
            "the Location header names it",
            request="plan_request", response="order", status=201, roles=("admin", "channel"),
            errors=(403, 404, 409), headers=("Idempotency-Key",),
            response_headers=("Location",), links=ORDER_LINKS)
def place_order() -> tuple[Response, int]:
    try:
        key = _idempotency_key()
        body = json_object()
    except OmsError:
        confirm_key(None)  # a revoked key is a 401, whatever else is wrong
        raise
    result = placing.place(context(), current_role(), body, key, confirm_key)
    response = document_response(result)
    response.headers["Location"] = url_for("orders.get_order", order_id=result["id"])
    return response, 201


@bp.get("/orders")
@authenticated_read
@documented("Find orders, newest first: ?status=, channel, customer_id, order_ref, sku, "
            "location, created_from, created_to (ISO 8601 with a zone); ?limit= up to 500, "
            "default 100; a full page has a Link to the next. A channel key finds its "
            "channel's orders only; a location key may not search", response="order_summary",
            response_array=True, roles=("admin", "channel"), errors=(403, 422),
            query=("order_status", "order_channel", "customer_id", "order_ref", "order_sku",
                   "order_location", "created_from", "created_to", "order_after", "limit"),
            response_headers=("Link",),
            links={"GetOrder": {"operationId": "get_order",
                                "parameters": {"order_id": "$response.body#/0/id"}},
                   "OrderTimeline": {"operationId": "order_timeline",
                                     "parameters": {"order_id": "$response.body#/0/id"}}})
def find_orders() -> Response:
    rows = search.find_rows(context(), current_role(deferred=True), request.args, confirm_key)
    response = records_response(search.SUMMARY_FIELDS, rows)
    if len(rows) == search.page_limit(request.args.get("limit")):
        return link_next(response, rows[-1][0])  # the last order's id
    return response


@bp.get("/orders/<order_id>/events")
@authenticated
@documented("The order's timeline: every event of the order and of its fulfilments (placed, "
            "each fulfilment step, cancelled...), oldest first", response="timeline_entry",
            response_array=True, roles=("admin", "channel"), errors=(404,))
def order_timeline(order_id: str) -> Response:
    return jsonify(search.timeline(context(), current_role(), order_id))


@bp.get("/orders/<order_id>")
@authenticated
@documented("An order, its lines and fulfilments, with its plan and explanation",
            response="order", roles=("admin", "channel"), errors=(404,),
            links=ORDER_LINKS)
def get_order(order_id: str) -> Response:
    return jsonify(reading.read(context(), current_role(), order_id))


@bp.post("/orders/<order_id>/cancel")
@authenticated
@documented("Cancel an order, or some lines; releases their allocation at once",
            request="cancel_request", response="order", roles=("admin", "channel"),
            errors=(404, 409), body_optional=True)
def cancel_order(order_id: str) -> Response:
    body = json_object() if request.get_data(cache=True).strip() else {}
    return jsonify(cancelling.cancel(context(), current_role(), order_id, body))


@bp.post("/orders/<order_id>/edits")
@authenticated
@documented("Edit an order (Idempotency-Key header): the wanted quantity of each listed SKU "
            "(0 removes it, a new SKU adds it) and/or a new ship-to; only units not yet "
            "picked move, all or nothing (409 names what could not be done)",
            request="order_edit", response="order", roles=("admin", "channel"),
            errors=(404, 409), headers=("Idempotency-Key",))
def edit_order(order_id: str) -> Response:
    return jsonify(editing.edit(context(), current_role(), order_id, json_object(),
                                _idempotency_key()))


def _idempotency_key() -> str | None:
    """The request's Idempotency-Key header, checked (None when it has none)."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (key.strip() and len(key) <= MAX_KEY):
        raise ValidationFailed("The Idempotency-Key header is not valid.", [problem(
            "/headers/Idempotency-Key", f"expected 1 to {MAX_KEY} characters")])
    return key.strip() if key else None
