"""create_app(settings): the Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import OperationalError

from service.api import (
    availability,
    boundary,
    errors,
    experiments,
    fulfilments,
    hooks,
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
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    errors.register_error_handlers(app)
    hooks.install(app, ctx)  # ruleset refresh, boundary, metrics, token, request log
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
