"""Experiments: the list, a unit's assignment, an experiment's results."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from service.api.auth import admin_or_channel, current_role
from service.api.current import context
from service.api.openapi import documented
from service.errors import ValidationFailed, problem
from service.services.experiments import reading, results

bp = Blueprint("experiments", __name__, url_prefix="/v1")
MAX_UNIT = 128


@bp.get("/experiments")
@admin_or_channel
@documented("The experiments in force (rulesets/experiments.yaml as last accepted): status, "
            "variants with their rulesets and weights, channels, coverage (admin; a channel "
            "key sees those touching its channel)", response="experiment_list",
            roles=("admin", "channel"), errors=(403,))
def list_experiments() -> Response:
    return jsonify(reading.listing(context(), current_role()))


@bp.get("/experiments/<key>/assignment")
@admin_or_channel
@documented("A unit's variant and ruleset now (GrowthBook v2 hashing): in_experiment false, "
            "with the active ruleset and the reason, for a unit outside coverage, no unit, an "
            "experiment not running or outside its window, or another channel",
            response="experiment_assignment", roles=("admin", "channel"),
            errors=(403, 404, 422), query=("experiment_unit", "experiment_channel"))
def experiment_assignment(key: str) -> Response:
    unit = request.args.get("unit")
    channel = request.args.get("channel")
    problems = [problem(f"/query/{name}", f"expected 1 to {MAX_UNIT} characters")
                for name, value in (("unit", unit), ("channel", channel))
                if value is not None and not 0 < len(value) <= MAX_UNIT]
    if problems:
        raise ValidationFailed("The assignment request is not valid.", problems)
    return jsonify(reading.assignment(context(), current_role(), key, unit, channel))


@bp.get("/experiments/<key>/results")
@admin_or_channel
@documented("An experiment's results from its orders: per variant units, orders, fulfilment "
            "cost, shipments and km, split, backorder, rejection, re-route and cancellation "
            "rates; each treatment against control with always-valid (sequential) and "
            "fixed-horizon intervals; the sample-ratio-mismatch check",
            response="experiment_results", roles=("admin", "channel"), errors=(403, 404))
def experiment_results(key: str) -> Response:
    return jsonify(results.results(context(), current_role(), key))
