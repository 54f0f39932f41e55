"""Per-channel availability: one or many SKUs, per-location detail, pickup at one store."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from service.api.auth import require_channel
from service.api.bodies import json_object
from service.api.openapi import documented
from service.services import availability

bp = Blueprint("availability", __name__, url_prefix="/v1")


@bp.get("/availability")
@documented("Available-to-sell of SKUs for a channel (?channel=web&sku=A&sku=B"
            "[&detail=locations][&location=ST-1])", response="availability")
def get_availability() -> Response:
    channel, skus = availability.check_request(request.args.get("channel"),
                                               request.args.getlist("sku"))
    require_channel(channel)
    detail = request.args.get("detail") == "locations"
    return jsonify(availability.read(current_app.extensions["oms.ctx"], channel, skus, detail,
                                     request.args.get("location")))


@bp.post("/availability")
@documented("Availability for a cart, or pickup at one store (body {channel, skus, location?})",
            request="availability_request", response="availability")
def post_availability() -> Response:
    body = json_object()
    channel, skus = availability.check_request(body.get("channel"), body.get("skus"))
    require_channel(channel)
    detail = body.get("detail") == "locations"
    return jsonify(availability.read(current_app.extensions["oms.ctx"], channel, skus, detail,
                                     body.get("location")))
