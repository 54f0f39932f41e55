"""Ruleset drafts over the API: create from a published version, read, replace the text,
preview the impact, publish as the next version (admin keys; the console uses the same)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from service.api.auth import admin_only, current_role, key_id
from service.api.bodies import json_object
from service.api.current import context
from service.api.openapi import documented
from service.services.console import impact
from service.services.rulesets import drafts

bp = Blueprint("drafts", __name__, url_prefix="/v1")


def _who() -> str:
    return f"{current_role()}:{key_id()}"


@bp.post("/rulesets/<name>/drafts")
@admin_only
@documented("Start a draft from a published version ({\"from_version\"}, default the latest), "
            "its text numbered as the next version; 201 with the draft, its validation and "
            "its diff against the active version", request="draft_request", response="draft",
            status=201, body_optional=True, response_headers=("Location",),
            errors=(403, 404))
def create_draft(name: str) -> tuple[Response, int]:
    body = json_object() if request.get_data(cache=True) else {}
    made = drafts.create(context(), current_role(), name, body, _who())
    response = jsonify(made)
    response.headers["Location"] = url_for("drafts.get_draft", name=name, draft_id=made["id"])
    return response, 201


@bp.get("/rulesets/<name>/drafts/<int:draft_id>")
@admin_only
@documented("A draft: its text, every problem (line, column) from the validator `oms rules "
            "validate` uses, and the change in meaning against the active version (old → new)",
            response="draft", errors=(403, 404))
def get_draft(name: str, draft_id: int) -> Response:
    return jsonify(drafts.show(context(), current_role(), name, draft_id))


@bp.put("/rulesets/<name>/drafts/<int:draft_id>")
@admin_only
@documented("Replace a draft's text ({\"text\"}); kept even while not valid (the validation "
            "says why); 409 once the draft is published", request="draft_text",
            response="draft", errors=(403, 404, 409))
def put_draft(name: str, draft_id: int) -> Response:
    text = json_object().get("text")
    return jsonify(drafts.save(context(), current_role(), name, draft_id, text, _who()))


@bp.get("/rulesets/<name>/drafts/<int:draft_id>/impact")
@admin_only
@documented("What activating the draft would change now, computed read-only from the current "
            "positions: per channel the units gained and lost, on how many SKUs and "
            "locations, and the ten largest changes; and the latest orders planned again "
            "under it (how many would ship from elsewhere, units short, cost); 422 while the "
            "draft is not valid",
            response="draft_impact", errors=(403, 404, 422))
def draft_impact(name: str, draft_id: int) -> Response:
    return jsonify(impact.impact(context(), current_role(), name, draft_id))


@bp.post("/rulesets/<name>/drafts/<int:draft_id>/publish")
@admin_only
@documented("Publish a valid draft as its version through POST /v1/rulesets's path (never "
            "activates: POST /v1/rulesets/activate does); 422 with every problem when it is "
            "not valid, 409 when it is published already", response="draft_published",
            status=201, errors=(403, 404, 409, 422))
def publish_draft(name: str, draft_id: int) -> tuple[Response, int]:
    return jsonify(drafts.publish(context(), current_role(), name, draft_id, _who())), 201
