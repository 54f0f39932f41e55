"""Ruleset governance: list, show, validate, activate; the rule vocabulary."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from service.api.auth import admin_only, authenticated, current_role
from service.api.bodies import json_object
from service.api.openapi import documented
from service.rules.loader import load_text
from service.rules.vocabulary import export_vocabulary
from service.services import rulesets

bp = Blueprint("rulesets", __name__, url_prefix="/v1")


def _ctx():
    return current_app.extensions["oms.ctx"]


@bp.get("/rulesets")
@authenticated
@documented("Loaded ruleset versions, the active one, activations and load errors")
def list_rulesets() -> Response:
    return jsonify(rulesets.listing(_ctx()))


@bp.get("/rulesets/<name>/<int:version>")
@authenticated
@documented("One ruleset version, normalised")
def show_ruleset(name: str, version: int) -> Response:
    ruleset = _ctx().rules.resolve(f"{name}@{version}")
    return jsonify({"ref": ruleset.ref, "content_hash": ruleset.content_hash,
                    "path": ruleset.path, "document": ruleset.to_dict()})


@bp.post("/rulesets/validate")
@authenticated
@documented("Validate a rule file's text (YAML or JSON) without loading it")
def validate_ruleset() -> Response:
    max_bytes = _ctx().settings.section("rulesets")["max_file_bytes"]
    name = request.args.get("filename", "<request>")
    result = load_text(request.get_data(cache=False), name, max_bytes)
    problems = [p.to_dict() for p in result.problems]
    return jsonify({"valid": result.ok, "ruleset": result.ruleset.ref if result.ok else None,
                    "errors": [p for p in problems if p["severity"] == "error"],
                    "warnings": [p for p in problems if p["severity"] == "warning"]})


@bp.post("/rulesets/activate")
@admin_only
@documented("Activate a loaded version (activating the previous one is the rollback)",
            request="activation")
def activate_ruleset() -> Response:
    name, version = rulesets.parse_activation_body(json_object())
    ctx = _ctx()
    with ctx.sessions.begin() as session:
        activation = rulesets.activate(ctx.rules, session, name, version, str(current_role()))
    return jsonify(activation.to_dict())


@bp.get("/rules/vocabulary")
@documented("Variables, operators and actions rule files may use, per context")
def vocabulary() -> Response:
    return jsonify(export_vocabulary())
