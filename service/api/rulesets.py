"""Ruleset governance: list, show, validate, activate; the rule vocabulary."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from service.api.auth import admin_only, authenticated, current_role
from service.api.bodies import json_object
from service.api.current import context
from service.api.openapi import documented
from service.errors import MalformedBody, problem
from service.services.rulesets import governance

bp = Blueprint("rulesets", __name__, url_prefix="/v1")


@bp.get("/rulesets")
@authenticated
@documented("Loaded ruleset versions, the active one, activations and load errors",
            response="ruleset_list", roles=("any",))
def list_rulesets() -> Response:
    return jsonify(governance.listing(context()))


@bp.get("/rulesets/<name>/<int:version>")
@authenticated
@documented("One ruleset version, normalised", response="ruleset_version", roles=("any",),
            errors=(404,))
def show_ruleset(name: str, version: int) -> Response:
    return jsonify(governance.show(context(), name, version))


@bp.post("/rulesets/validate")
@authenticated
@documented("Validate a rule file's text (YAML or JSON) without loading it: every problem "
            "with its line, column and pointer", request="ruleset_text",
            response="validation_report", roles=("any",), query=("filename",))
def validate_ruleset() -> Response:
    text = request.get_data(cache=False)
    if not text:
        raise MalformedBody("The body is empty.", [problem("", "expected a rule file's text")])
    return jsonify(governance.validate_text(context(), text,
                                            request.args.get("filename", "<request>")))


@bp.post("/rulesets/activate")
@admin_only
@documented("Activate a loaded version (activating the previous one is the rollback)",
            request="activation", response="activation_result", errors=(403, 404, 409))
def activate_ruleset() -> Response:
    activation = governance.activate(context(), json_object(), str(current_role()))
    return jsonify(activation.to_dict())


@bp.get("/rules/vocabulary")
@documented("Variables, operators and actions rule files may use, per context",
            response="vocabulary", public=True)
def vocabulary() -> Response:
    return jsonify(governance.vocabulary())
