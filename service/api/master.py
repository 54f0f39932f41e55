"""Master data endpoints (admin only): bulk upsert and paged, searchable lists of products
and locations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from service.api.auth import admin_only
from service.api.bodies import master_rows
from service.api.current import context
from service.api.openapi import documented
from service.api.paging import link_next
from service.services.masterdata import listing, upserts

bp = Blueprint("master", __name__, url_prefix="/v1")


def _is_text_body() -> bool:
    return request.mimetype == "text/csv"


@bp.post("/products")
@admin_only
@documented("Insert or update products (JSON array, CSV or NDJSON)", request="product",
            response="batch", array=True, errors=(403,), text_bodies=True)
def upsert_products() -> Response:
    rows, lines = master_rows()
    return jsonify(upserts.upsert_products(context(), rows, _is_text_body(), lines))


@bp.post("/locations")
@admin_only
@documented("Insert or update locations (JSON array, CSV or NDJSON)", request="location",
            response="batch", array=True, errors=(403,), text_bodies=True)
def upsert_locations() -> Response:
    rows, lines = master_rows()
    return jsonify(upserts.upsert_locations(context(), rows, _is_text_body(), lines))


@bp.get("/products")
@admin_only
@documented("Products by sku, a page at a time (?q= finds a text in the sku or name; "
            "?after= the previous page's next; ?limit= up to 500, default 100)",
            response="product_page", errors=(403, 422), query=("search", "after", "limit"),
            response_headers=("Link",))
def list_products() -> Response:
    return _paged(listing.products)


@bp.get("/locations")
@admin_only
@documented("Locations by id, a page at a time (?q= finds a text in the id or name; "
            "?after= the previous page's next; ?limit= up to 500, default 100)",
            response="location_page", errors=(403, 422), query=("search", "after", "limit"),
            response_headers=("Link",))
def list_locations() -> Response:
    return _paged(listing.locations)


def _paged(read: Callable[..., dict[str, Any]]) -> Response:
    args = request.args
    found = read(context(), args.get("q") or None, args.get("after"),
                 listing.page_limit(args.get("limit")))
    response = jsonify(found)
    return response if found["next"] is None else link_next(response, found["next"])
