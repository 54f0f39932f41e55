"""A store's work queue (accept, reject with a reason, pick, pack, ship with tracking) and
operations (feed runs with their rejected rows)."""

from __future__ import annotations

from flask import Response, redirect, request, url_for

from service.api.console.web import admin_page, bp, page, role, signed_in
from service.api.current import context
from service.domain.roles import authorize
from service.errors import ValidationFailed, problem
from service.services.inventory import runs
from service.services.orders import fulfilment, rejecting, work_queue

NEXT_STEP = {"created": ("accepted", "Accept"), "accepted": ("picked", "Picked"),
             "picked": ("packed", "Packed"), "packed": ("shipped", "Ship")}


@bp.get("/queue")
@signed_in
def open_queue() -> Response:
    """A location's queue by its id (the home page's form)."""
    location = request.args.get("location", "").strip()
    if not location:
        raise ValidationFailed("Which location?", [problem("/location", "enter its id")])
    return redirect(url_for("console.queue", location_id=location), 303)  # type: ignore[return-value]


@bp.get("/locations/<location_id>/queue")
@signed_in
def queue(location_id: str) -> Response:
    """A location's open fulfilments, oldest first, with the next step of each."""
    found = work_queue.queue(context(), role(), location_id, None, None, 100)
    return page("queue.html", location_id=location_id, items=found, steps=NEXT_STEP,
                message=request.args.get("done"))


@bp.post("/fulfilments/<fulfilment_id>/events")
@signed_in
def fulfilment_event(fulfilment_id: str) -> Response:
    """Report a step of a fulfilment (the API's use cases; the role is checked there)."""
    form, location = request.form, request.form.get("location", "")
    authorize(role(), location=location, unseen=f"No location {location!r} for this key.")
    kind = form.get("type", "")
    body: dict[str, object] = {"type": kind}
    if kind == "rejected":
        if not form.get("reason", "").strip():
            raise ValidationFailed("Say why the fulfilment is rejected.",
                                   [problem("/reason", "a reason is required")])
        body["reason"] = form["reason"].strip()
        rejecting.reject(context(), role(), fulfilment_id, body)
    elif kind in {"accepted", "picked", "packed", "shipped"}:
        if kind == "shipped" and form.get("tracking", "").strip():
            body["tracking"] = form["tracking"].strip()
        fulfilment.report(context(), role(), fulfilment_id, body)
    else:
        raise ValidationFailed("Unknown step.", [problem("/type", "expected a known step")])
    return redirect(url_for("console.queue", location_id=location,  # type: ignore[return-value]
                            done=f"{fulfilment_id}: {kind}"), 303)


@bp.get("/operations")
@admin_page
def operations() -> Response:
    """The newest feed runs and pushes, with their rejected rows and reasons."""
    return page("operations.html", runs=runs.recent(context(), None, 50))
