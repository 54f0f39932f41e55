"""Ruleset governance: list, show, validate, publish, activate; the rule vocabulary."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from service.api.auth import admin_only, admin_or_channel, current_role, key_id
from service.api.bodies import json_object
from service.api.current import context
from service.api.openapi import documented
from service.errors import MalformedBody, problem
from service.services.replay.simulate import simulate_request
from service.services.rulesets import governance, library, listing

bp = Blueprint("rulesets", __name__, url_prefix="/v1")


@bp.get("/rulesets")
@admin_or_channel
@documented("Published ruleset versions and the active one (admin and channel keys; "
            "location keys get 403); for admins also the activation history (who, which "
            "key) and the rule-file load problems every process reported",
            response="ruleset_list", roles=("admin", "channel"), errors=(403,))
def list_rulesets() -> Response:
    return jsonify(listing.listing(context(), current_role()))


@bp.post("/rulesets")
@admin_only
@documented("Publish a new version from a rule file's text (YAML or JSON; ?filename=v3.yaml "
            "checks the name against the version): 201 when published, 200 when this exact "
            "text is already that version, 422 with every problem (line, column, pointer) "
            "when the text is invalid or says something new for a published version. "
            "Publishing never activates", request="ruleset_text",
            response="ruleset_published", status=201, also=(200,), query=("filename",),
            response_headers=("Location",), errors=(403,))
def publish_ruleset() -> tuple[Response, int]:
    created, published = library.publish(
        context(), request.get_data(cache=False), request.args.get("filename", "<request>"),
        f"{current_role()}:{key_id()}")
    response = jsonify(published)
    if created:
        name, _, version = published["ruleset"].partition("@")
        response.headers["Location"] = f"/v1/rulesets/{name}/{version}"
    return response, 201 if created else 200


@bp.get("/rulesets/<name>/<int:version>")
@admin_or_channel
@documented("One published version, normalised, with its text (admin and channel keys)",
            response="ruleset_version", roles=("admin", "channel"), errors=(403, 404))
def show_ruleset(name: str, version: int) -> Response:
    return jsonify(listing.show(context(), current_role(), name, version))


@bp.post("/rulesets/validate")
@admin_or_channel
@documented("Validate a rule file's text (YAML or JSON) without publishing it: every problem "
            "with its line, column and pointer; its file name (?filename=v3.yaml) against "
            "its version, and against the published versions (admin and channel keys)",
            request="ruleset_text", response="validation_report", roles=("admin", "channel"),
            errors=(403,), query=("filename",))
def validate_ruleset() -> Response:
    text = request.get_data(cache=False)
    if not text:
        raise MalformedBody("The body is empty.", [problem("", "expected a rule file's text")])
    return jsonify(listing.validate_text(context(), current_role(), text,
                                         request.args.get("filename", "<request>")))


@bp.post("/rulesets/activate")
@admin_only
@documented("Activate a published version, from any process (activating the previous one "
            "is the rollback); the activation records the key that made it",
            request="activation", response="activation_result", errors=(403, 404, 409))
def activate_ruleset() -> Response:
    activation = governance.activate(context(), json_object(), str(current_role()), key_id())
    return jsonify(activation.to_dict())


@bp.get("/rules/vocabulary")
@documented("Variables, operators and actions rule files may use, per context",
            response="vocabulary", public=True)
def vocabulary() -> Response:
    return jsonify(listing.vocabulary())


@bp.post("/rulesets/simulate")
@admin_only
@documented("Replay up to 1,000 past orders (ids, or those placed since a time) in time order "
            "against stock as it was (the inventory journal), under a baseline and a "
            "candidate ruleset, and compare cost, shipments, km, fill rate and backorders; "
            "the ruleset that decided live reproduces the live plans. Nothing is written; "
            "422 names each bad field (unknown ruleset or order, since in the future, more "
            "than 1,000 orders)", request="ruleset_simulation_request",
            response="ruleset_simulation", errors=(403,))
def simulate_rulesets() -> Response:
    return jsonify(simulate_request(context(), json_object()))
