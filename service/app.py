"""create_app(settings): the Flask application factory."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from service import metrics
from service.api import errors, master, ops
from service.context import Context, build_context
from service.services.keys import KeyVerifier
from service.settings import Settings, load_settings

BLUEPRINTS = (ops.bp, master.bp)


def create_app(settings: Settings | None = None, ctx: Context | None = None) -> Flask:
    """Build the app from settings (default: config.yaml and the environment)."""
    if ctx is None:
        ctx = build_context(settings or load_settings())
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = ctx.settings.section("server")["max_request_bytes"]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["oms.ctx"] = ctx
    app.extensions["oms.keys"] = KeyVerifier(ctx)
    for hook in ctx.extras.get("app_hooks", []):
        hook(app, ctx)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    errors.register_error_handlers(app)
    _install_request_metrics(app)
    logging.basicConfig(level=ctx.settings.section("logging")["level"])
    return app


def _install_request_metrics(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        started = g.get("started")
        if started is not None:
            metrics.LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response
