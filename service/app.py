"""create_app(settings): the Flask application factory."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, request
from sqlalchemy.exc import OperationalError

from service import metrics
from service.api import (
    availability,
    boundary,
    consistency,
    errors,
    experiments,
    fulfilments,
    inventory,
    keys,
    master,
    ops,
    orders,
    returns,
    rulesets,
    settlements,
    transfers,
    webhooks,
)
from service.api import console as console_pages
from service.api import drafts as ruleset_drafts
from service.bootstrap import build_context
from service.errors import OmsError, Unavailable
from service.services.access.keys import KeyVerifier
from service.services.context import Context
from service.services.notifications import subscriptions
from service.services.rulesets import governance
from service.settings import Settings, load_settings

BLUEPRINTS = (ops.bp, master.bp, availability.bp, inventory.bp, rulesets.bp, orders.bp,
              fulfilments.bp, transfers.bp, keys.bp, returns.bp, experiments.bp,
              settlements.bp, webhooks.bp)
BLUEPRINTS += (ruleset_drafts.bp, console_pages.bp)  # the business users' console (HTML), /console


def create_app(settings: Settings | None = None, ctx: Context | None = None) -> Flask:
    """Build the app from settings (default: config.yaml and the environment)."""
    if ctx is None:
        ctx = build_context(settings or load_settings())
    app = Flask(__name__)
    app.url_map.converters["int"] = boundary.IntegerConverter  # before any route uses it
    app.config["MAX_CONTENT_LENGTH"] = ctx.settings.section("server")["max_request_bytes"]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["oms.ctx"] = ctx
    app.extensions["oms.keys"] = KeyVerifier(ctx)
    _activate_configured_ruleset(ctx)
    _sync_webhook_subscriptions(ctx)
    app.before_request(lambda: governance.refresh_if_due(ctx))
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    errors.register_error_handlers(app)
    boundary.install(app)
    consistency.install(app, ctx)  # read replicas only: tokens on writes
    _install_request_metrics(app)
    logging.basicConfig(level=ctx.settings.section("logging")["level"])
    return app


def _activate_configured_ruleset(ctx: Context) -> None:
    """Import the rule files; on a fresh database, make config's ruleset active (and compute
    every channel's ATS). Requests then reload at most every rulesets.reload_seconds."""
    try:
        governance.start(ctx)
    except (OperationalError, Unavailable):  # the workers start; requests get 503 until it is up
        logging.getLogger(__name__).warning("database unreachable at start", exc_info=True)


def _sync_webhook_subscriptions(ctx: Context) -> None:
    """The webhook subscriptions config.yaml declares, into the database."""
    try:
        subscriptions.sync_config(ctx)
    except (OperationalError, Unavailable):
        logging.getLogger(__name__).warning("webhook subscriptions not synced: database "
                                            "unreachable at start", exc_info=True)
    except OmsError as exc:  # e.g. a secret_env that is not set: said, and the API serves
        logging.getLogger(__name__).error("webhook subscriptions not synced: %s", exc)


def _install_request_metrics(app: Flask) -> None:
    """Count and time every request. The clock starts in the WSGI call (no before-request
    hook), and each label set's series is looked up once, not on every request."""
    series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
    handle = app.wsgi_app

    def timed(environ: dict[str, Any], start_response: Any) -> Any:
        environ["oms.started"] = time.perf_counter()
        return handle(environ, start_response)

    app.wsgi_app = timed  # type: ignore[method-assign]

    @app.after_request
    def _record(response: Response) -> Response:
        rule = request.url_rule
        endpoint = rule.rule if rule is not None else "unmatched"
        key = (endpoint, request.method, response.status_code)
        found = series.get(key)
        if found is None:
            found = series[key] = (metrics.REQUESTS.labels(endpoint, key[1], str(key[2])),
                                   metrics.LATENCY.labels(endpoint))
        found[0].inc()
        started = request.environ.get("oms.started")
        if started is not None:
            found[1].observe(time.perf_counter() - started)
        return response
