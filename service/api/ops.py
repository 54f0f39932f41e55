"""Operations endpoints (unversioned): health, metrics, OpenAPI."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from service import metrics
from service.api.current import context
from service.api.openapi import build_spec
from service.services.operations.health import health

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    up, report = health(context())
    return jsonify(report), 200 if up else 503


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(body, content_type=content_type)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec(current_app))
