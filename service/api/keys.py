"""API keys over HTTP: revoking one (keys are created with `oms keys create`)."""

from __future__ import annotations

from flask import Blueprint, Response

from service.api.auth import admin_only
from service.api.current import context
from service.api.openapi import documented
from service.services.access import keys

bp = Blueprint("keys", __name__, url_prefix="/v1")


@bp.delete("/keys/<int:key_id>")
@admin_only
@documented("Revoke an API key (its id as `oms keys list` shows it): the next request with it, "
            "to any process, gets 401; revoking a revoked key changes nothing; 404 for no "
            "such key", status=204, roles=("admin",), errors=(403, 404))
def revoke_key(key_id: int) -> Response:
    keys.revoke_key(context(), key_id)
    return Response(status=204)
