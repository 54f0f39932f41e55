"""Ship locations: their work queue, and what they report on each fulfilment."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request

from service.api.auth import authenticated, current_role
from service.api.bodies import json_object
from service.api.openapi import documented
from service.errors import ValidationFailed, problem
from service.services import fulfilment_events

bp = Blueprint("fulfilments", __name__, url_prefix="/v1")


def _ctx():
    return current_app.extensions["oms.ctx"]


@bp.get("/locations/<location_id>/fulfilments")
@authenticated
@documented("A location's work queue: its open fulfilments, oldest first (?status= for one "
            "status; ?limit= up to 500, default 100; a full page has a Link to the next)",
            response="fulfilment", array=True)
def location_queue(location_id: str) -> Response:
    limit = _limit(request.args.get("limit"))
    found = fulfilment_events.queue(_ctx(), current_role(), location_id,
                                    request.args.get("status"), request.args.get("after"),
                                    limit)
    response = jsonify(found)
    if len(found) == limit:
        args = request.args.to_dict() | {"after": found[-1]["id"]}
        response.headers["Link"] = f'<{request.path}?{urlencode(args)}>; rel="next"'
    return response


def _limit(raw: str | None) -> int:
    if raw is None:
        return fulfilment_events.QUEUE_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= fulfilment_events.QUEUE_MAX_LIMIT:
        raise ValidationFailed("limit is not valid.", [problem(
            "/query/limit", f"expected 1 to {fulfilment_events.QUEUE_MAX_LIMIT}")])
    return int(raw)


@bp.post("/fulfilments/<fulfilment_id>/events")
@authenticated
@documented("A location reports on its fulfilment: accepted, picked, packed, shipped "
            "(takes the units off its stock), delivered", request="fulfilment_event",
            response="fulfilment")
def report_event(fulfilment_id: str) -> Response:
    return jsonify(fulfilment_events.report(_ctx(), current_role(), fulfilment_id,
                                            json_object()))
