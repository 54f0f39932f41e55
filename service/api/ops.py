"""Operations endpoints (unversioned): health, metrics, OpenAPI."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from service import metrics
from service.api.current import context
from service.api.openapi import build_spec, documented
from service.services.operations.health import health

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@documented("Health: the database reachable (503 when not); degraded when rule files fail to "
            "load", response="health", public=True, errors=(503,))
def healthz() -> tuple[Response, int]:
    up, report = health(context())
    return jsonify(report), 200 if up else 503


@bp.get("/metrics")
@documented("Prometheus metrics, summed over every worker", response="metrics", public=True)
def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(body, content_type=content_type)


@bp.get("/openapi.json")
@documented("This document", response="openapi", public=True)
def openapi() -> Response:
    return jsonify(build_spec(current_app))
