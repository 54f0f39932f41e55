"""Stock pushes, reservations and feed runs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from service.api.auth import admin_only, authenticated, current_role
from service.api.bodies import json_object, numbered_rows
from service.api.current import context
from service.api.openapi import documented
from service.api.paging import link_next
from service.errors import ValidationFailed, problem
from service.feeds.readers import Batch
from service.services.feeds import running
from service.services.inventory import journal, pushes, reservations, runs
from service.services.masterdata import listing

bp = Blueprint("inventory", __name__, url_prefix="/v1")


def _envelope_and_rows() -> tuple[dict[str, Any], Batch]:
    """The body's rows (numbered as a feed file's), and location/as_of from query or body."""
    batch = numbered_rows()
    merged = {k: v for k, v in request.args.items() if k in ("location", "as_of")}
    merged.update(batch.envelope)
    return merged, batch


FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _flag(name: str) -> bool:
    """A yes/no query parameter (absent: no), or a 422 naming it."""
    raw = request.args.get(name, "false").lower()
    if raw not in FLAGS:
        raise ValidationFailed(f"{name} is not valid.", [problem(
            f"/query/{name}", "expected true or false")])
    return FLAGS[raw]


@bp.post("/inventory/snapshots")
@authenticated
@documented("Push a full count of one location (JSON {location, as_of, items}, CSV or NDJSON "
            "with ?location=&as_of=)", request="snapshot", response="ingest_report",
            roles=("admin", "location"), errors=(403, 409), text_bodies=True,
            query=("push_location", "push_as_of", "force"))
def push_snapshot() -> Response:
    envelope, rows = _envelope_and_rows()
    force = _flag("force")
    return jsonify(pushes.push_snapshot(context(), current_role(), envelope, rows, force))


@bp.post("/inventory/deltas")
@authenticated
@documented("Push stock changes: absolute on_hand or signed adjust per (location, sku)",
            request="deltas", response="ingest_report", roles=("admin", "location"),
            errors=(403,), text_bodies=True, query=("push_location", "push_as_of"))
def push_deltas() -> Response:
    envelope, rows = _envelope_and_rows()
    return jsonify(pushes.push_deltas(context(), current_role(), envelope, rows))


@bp.post("/reservations")
@authenticated
@documented("Reserve units for a channel for a short time (cart, checkout); the Location "
            "header names it",
            request="reservation_request", response="reservation", status=201,
            roles=("admin", "channel"), errors=(403, 404, 409), response_headers=("Location",),
            links={"ReleaseReservation": {
                "operationId": "release_reservation",
                "parameters": {"reservation_id": "$response.body#/id"}}})
def create_reservation() -> tuple[Response, int]:
    made = reservations.create(context(), current_role(), json_object())
    response = jsonify(made)
    response.headers["Location"] = url_for("inventory.release_reservation",
                                           reservation_id=made["id"])
    return response, 201


@bp.delete("/reservations/<reservation_id>")
@authenticated
@documented("Release a reservation", response="reservation", roles=("admin", "channel"),
            errors=(404, 409))
def release_reservation(reservation_id: str) -> Response:
    return jsonify(reservations.release(context(), current_role(), reservation_id))


@bp.get("/feeds/runs")
@admin_only
@documented("Recent feed runs and pushes: rows read, applied, unchanged, stale, rejected",
            response="feed_run_list", errors=(403, 422), query=("feed", "runs_limit"))
def list_feed_runs() -> Response:
    limit = listing.page_limit(request.args.get("limit"), default=50)
    return jsonify({"runs": runs.recent(context(), request.args.get("feed"), limit)})


@bp.get("/feeds")
@admin_only
@documented("Configured feeds (kind, source, format, schedule) with their last run",
            response="feed_list", errors=(403,))
def list_feeds() -> Response:
    return jsonify({"feeds": running.list_feeds(context())})


@bp.get("/inventory/journal")
@authenticated
@documented("Why a position is where it is: its changes of on_hand, allocated and reserved, "
            "each with its cause (snapshot, delta, order, cancel, rejection, shipment, "
            "return, transfer, hold; unknown for SQL run by hand), the ids behind it and the "
            "counts before and after; newest first (?order=oldest for oldest first), "
            "?since=, ?limit= up to 500, default 100; a full page has a Link to the next",
            response="journal_entry", response_array=True, roles=("admin", "location"),
            errors=(403, 404, 422), response_headers=("Link",),
            query=("journal_location", "journal_sku", "journal_since", "journal_order",
                   "journal_after", "limit"))
def inventory_journal() -> Response:
    found = journal.changes(context(), current_role(), request.args)
    response = jsonify(found)
    limit = journal.page_limit(request.args.get("limit"), [])
    return link_next(response, str(found[-1]["id"])) if len(found) == limit else response


@bp.get("/inventory/positions/as-of")
@authenticated
@documented("Positions as they were at a time (since the journal began): on_hand, "
            "allocated, reserved and the units they left free, per location of each sku "
            "(positions then empty are left out)", response="positions_as_of",
            roles=("admin", "location"), errors=(403, 404, 422),
            query=("as_of_at", "as_of_skus", "as_of_location"))
def positions_as_of() -> Response:
    return jsonify(journal.as_of(context(), current_role(), request.args,
                                 request.args.getlist("sku")))
