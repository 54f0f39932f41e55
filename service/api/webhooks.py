"""Webhooks over HTTP (admin): subscriptions (enabled again after a 410 Gone), the deliveries
and their attempts, retrying one delivery and replaying a subscription from an event id."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from service.api.auth import admin_only, key_id
from service.api.bodies import json_object
from service.api.current import context
from service.api.openapi import documented
from service.api.paging import link_next
from service.errors import ValidationFailed, problem
from service.services.masterdata.listing import page_limit
from service.services.notifications import delivery, subscriptions

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")
STATUSES = ("queued", "pending", "in_flight", "delivered", "failed", "dead")


@bp.post("/subscriptions")
@admin_only
@documented("Subscribe a receiver URL to event types (globs such as order.*), optionally only "
            "one location's or channel's; the 201 answer holds its Standard Webhooks signing "
            "secret (whsec_...), shown this once", request="webhook_subscription_request",
            response="webhook_subscription", status=201, roles=("admin",),
            errors=(403, 422))
def create_subscription() -> tuple[Response, int]:
    return jsonify(subscriptions.create(context(), json_object(), key_id())), 201


@bp.get("/subscriptions")
@admin_only
@documented("Every webhook subscription (from the API and from config.yaml), oldest first; "
            "never a secret", response="webhook_subscription_list", roles=("admin",),
            errors=(403,))
def list_subscriptions() -> Response:
    return jsonify({"items": subscriptions.listed(context())})


@bp.delete("/subscriptions/<subscription_id>")
@admin_only
@documented("Delete a subscription: nothing more is sent to it (one declared in config.yaml "
            "is removed there: 409)", status=204, roles=("admin",), errors=(403, 404, 409))
def delete_subscription(subscription_id: str) -> Response:
    subscriptions.delete(context(), subscription_id)
    return Response(status=204)


@bp.post("/subscriptions/<subscription_id>/enable")
@admin_only
@documented("Deliver to a subscription again after its receiver answered 410 Gone (which "
            "disabled it; an active one is answered as it is): its held deliveries are sent "
            "in order; events routed while it was disabled are sent by a replay from the "
            "first one missed", response="webhook_subscription", roles=("admin",),
            errors=(403, 404))
def enable_subscription(subscription_id: str) -> Response:
    return jsonify(subscriptions.enable(context(), subscription_id))


@bp.post("/subscriptions/<subscription_id>/replay")
@admin_only
@documented("Send a subscription again every event it wants from from_event_id on, in "
            "order (delivered ones too, same webhook-id)", request="webhook_replay_request",
            response="webhook_replay", status=202, roles=("admin",), errors=(403, 404, 422))
def replay_subscription(subscription_id: str) -> tuple[Response, int]:
    return jsonify(subscriptions.replay(context(), subscription_id, json_object())), 202


@bp.get("/deliveries")
@admin_only
@documented("Deliveries newest first, each with every attempt (status code, latency, "
            "error); ?status=failed or dead lists what is failing and the dead letters",
            response="webhook_delivery_page", roles=("admin",), errors=(403, 422),
            query=("delivery_status", "after", "limit"), response_headers=("Link",))
def list_deliveries() -> Response:
    status, after = request.args.get("status"), request.args.get("after")
    if status is not None and status not in STATUSES:
        raise ValidationFailed("status is not valid.", [problem(
            "/query/status", f"expected one of {', '.join(STATUSES)}")])
    if after is not None and not (after.isdigit() and 0 < int(after) <= 2**31 - 1):
        raise ValidationFailed("after is not valid.", [problem(
            "/query/after", "expected a delivery id")])
    limit = page_limit(request.args.get("limit"))
    items = delivery.listed(context(), status, int(after) if after else None, limit + 1)
    page = {"items": items[:limit], "next": str(items[limit - 1]["id"])
            if len(items) > limit else None}
    response = jsonify(page)
    return response if page["next"] is None else link_next(response, page["next"])


@bp.post("/deliveries/<int:delivery_id>/retry")
@admin_only
@documented("Send a delivery again now (a failed, dead or delivered one) with a fresh count "
            "of attempts; 409 while it is being sent", response="webhook_delivery",
            status=202, roles=("admin",), errors=(403, 404, 409))
def retry_delivery(delivery_id: int) -> tuple[Response, int]:
    return jsonify(delivery.retry(context(), delivery_id)), 202
