"""Ship locations: their work queue, and what they report on each fulfilment."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from service.api.auth import authenticated, current_role
from service.api.bodies import json_object
from service.api.current import context
from service.api.openapi import documented
from service.api.paging import link_next
from service.services.orders import fulfilment, rejecting, work_queue

bp = Blueprint("fulfilments", __name__, url_prefix="/v1")


@bp.get("/locations/<location_id>/fulfilments")
@authenticated
@documented("A location's work queue: its open fulfilments, oldest first (?status= for one "
            "status; ?limit= up to 500, default 100; a full page has a Link to the next)",
            response="fulfilment", response_array=True, roles=("admin", "location"),
            errors=(403, 404, 422), query=("queue_status", "after", "limit"),
            response_headers=("Link",))
def location_queue(location_id: str) -> Response:
    limit = work_queue.page_limit(request.args.get("limit"))
    found = work_queue.queue(context(), current_role(), location_id,
                             request.args.get("status"), request.args.get("after"), limit)
    response = jsonify(found)
    return link_next(response, found[-1]["id"]) if len(found) == limit else response


@bp.post("/fulfilments/<fulfilment_id>/events")
@authenticated
@documented("A location reports on its fulfilment: accepted, picked, packed, shipped "
            "(takes the units off its stock), delivered; or rejected (some or all units, "
            "re-routed to other locations)", request="fulfilment_event", response="fulfilment",
            roles=("admin", "location"), errors=(403, 404, 409))
def report_event(fulfilment_id: str) -> Response:
    body = json_object()
    use_case = rejecting.reject if body.get("type") == "rejected" else fulfilment.report
    return jsonify(use_case(context(), current_role(), fulfilment_id, body))
