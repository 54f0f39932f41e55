"""Per-channel availability: one or many SKUs, per-location detail, pickup at one store."""

from __future__ import annotations

from flask import Blueprint, Response, request

from service.api.auth import authenticated_lookup, confirm_key, current_role
from service.api.bodies import json_object
from service.api.consistency import TOKEN_HEADER
from service.api.current import context
from service.api.fast_json import jsonify_flat
from service.api.openapi import documented
from service.services.availability import reads

bp = Blueprint("availability", __name__, url_prefix="/v1")


@bp.get("/availability")
@authenticated_lookup
@documented("Available-to-sell of SKUs for a channel (?channel=web&sku=A&sku=B"
            "[&detail=locations][&location=ST-1])", response="availability",
            roles=("admin", "channel"), errors=(403, 404, 414, 422),
            query=("channel", "skus", "detail", "pickup_location", "availability_unit"),
            headers=("OMS-Consistency-Token",))
def get_availability() -> Response:
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    args = req.args
    return jsonify_flat(reads.read(context(), current_role(), args.get("channel"),
                                   args.getlist("sku"), args.get("detail"),
                                   args.get("location"), confirm_key,
                                   req.headers.get(TOKEN_HEADER), unit=args.get("unit")))


@bp.post("/availability")
@authenticated_lookup
@documented("Availability for a cart, or pickup at one store (body {channel, skus, location?, "
            "unit?})",
            request="availability_request", response="availability",
            roles=("admin", "channel"), errors=(403, 404), headers=("OMS-Consistency-Token",))
def post_availability() -> Response:
    body, ctx = json_object(), context()
    return jsonify_flat(reads.read(ctx, current_role(), body.get("channel"), body.get("skus"),
                                   body.get("detail"), body.get("location"), confirm_key,
                                   request.headers.get(TOKEN_HEADER), unit=body.get("unit")))
