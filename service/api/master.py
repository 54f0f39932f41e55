"""Master data endpoints: bulk upsert of products and locations (admin only)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from service.api.auth import admin_only
from service.api.bodies import row_list
from service.api.current import context
from service.api.openapi import documented
from service.services.masterdata import upserts

bp = Blueprint("master", __name__, url_prefix="/v1")


def _is_text_body() -> bool:
    return request.mimetype == "text/csv"


@bp.post("/products")
@admin_only
@documented("Insert or update products (JSON array, CSV or NDJSON)", request="product",
            response="batch", array=True)
def upsert_products() -> Response:
    rows, _ = row_list()
    return jsonify(upserts.upsert_products(context(), rows, from_text=_is_text_body()))


@bp.post("/locations")
@admin_only
@documented("Insert or update locations (JSON array, CSV or NDJSON)", request="location",
            response="batch", array=True)
def upsert_locations() -> Response:
    rows, _ = row_list()
    return jsonify(upserts.upsert_locations(context(), rows, from_text=_is_text_body()))
