"""Settlement records for the ERP (admin and erp keys): a page at a time, in id order."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from service.api.auth import admin_or_erp
from service.api.current import context
from service.api.openapi import documented
from service.api.paging import link_next
from service.services.settlements import listing

bp = Blueprint("settlements", __name__, url_prefix="/v1")


@bp.get("/settlements")
@admin_or_erp
@documented("Settlement records (shipped, cancelled and returned lines) in id order, each "
            "with the export file that carried it to the ERP (null until exported): "
            "?since= a record id, the list starts after it; ?limit= up to 500, default 100",
            response="settlement_page", roles=("admin", "erp"), errors=(403, 422),
            query=("settlements_since", "limit"), response_headers=("Link",))
def list_settlements() -> Response:
    args = request.args
    found = listing.page(context(), listing.since_id(args.get("since")),
                         listing.page_limit(args.get("limit")))
    response = jsonify(found)
    return response if found["next"] is None else link_next(response, found["next"], "since")
