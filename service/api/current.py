"""The process's Context, as the blueprints reach it (the app factory puts it there)."""

from __future__ import annotations

from flask import current_app

from service.services.context import Context


def context() -> Context:
    """The Context the app was created with."""
    return current_app.extensions["oms.ctx"]
