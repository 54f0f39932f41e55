"""Editing an order: quantities up and down, lines added and removed, a new ship-to.

One transaction under the order's row lock: the aggregate checks the whole edit first
(`domain/orders/editing.py`: only units not yet picked move, a conflict names the line), the
units taken away are cancelled and leave their locations' allocation, the units added are
planned as a re-route plans (the order's ruleset version, split policy, the channel's
availability; for the new ship-to) and allocated in the same pass. What the plan leaves short
waits as backordered if the order backorders, else the edit is refused whole (409). A new
ship-to is recorded (the queues show it); fulfilments already planned keep their locations.
An Idempotency-Key makes a retry answer as the first time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain import events
from service.domain.ids import new_id
from service.domain.orders import Order, PlannedShipment, announcing, default_on_short
from service.domain.orders.editing import EditTargets, edit_targets, grow, take_back
from service.domain.roles import Role
from service.errors import IdempotencyMismatch, InsufficientStock, ValidationFailed, problem
from service.payloads import require
from service.services.orders import requests, sourcing
from service.services.orders.allocation import allocate
from service.services.orders.cancelling import release_allocation
from service.services.orders.placing import request_hash
from service.services.orders.reading import visible_order
from service.services.orders.rejecting import with_retries
from service.services.orders.replanning import replan_for_ship_to
from service.services.orders.rerouting import (
    order_ruleset,
    planned,
    rerouted_request,
    within_budget,
)
from service.services.orders.views import order_view
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


def edit(ctx: Context, role: Role, order_id: str, body: dict[str, Any], key: str | None
         ) -> dict[str, Any]:
    """Apply an edit whole, or refuse it (422 bad input, 409 what cannot move); the order."""
    require("order_edit", body)
    fingerprint = request_hash(body)

    def once(uow: UnitOfWork) -> dict[str, Any]:
        order = visible_order(uow, role, order_id, lock=True)
        if _replayed(order, key, fingerprint):
            return order_view(order) | {"idempotent_replay": True}
        apply_edit(ctx, uow, order, body, {"key": key, "request_hash": fingerprint})
        uow.orders.save(order)
        return order_view(order)

    return with_retries(ctx, once)


def _replayed(order: Order, key: str | None, fingerprint: str) -> bool:
    """Whether this key's edit was applied already (another body with it is a 422)."""
    earlier = next((e for e in order.explanation.get("edits", [])
                    if key is not None and e.get("key") == key), None)
    if earlier is not None and earlier.get("request_hash") != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was used with a different edit; use a new key.")
    return earlier is not None


def apply_edit(ctx: Context, uow: UnitOfWork, order: Order, body: dict[str, Any],
               record: dict[str, Any]) -> None:
    """Change the locked order as the body asks, moving stock with it (see the module)."""
    now, before = ctx.clock.now(), order.status
    uow.journal.because("order", order=order.id, edit=True)
    _known_skus(uow, body.get("lines", []))
    targets = edit_targets(order, body.get("lines", []))
    old_ship_to = dict(order.ship_to)
    if "ship_to" in body:
        order.ship_to = requests.address(body["ship_to"])
    freed = take_back(order, targets.taken, now)
    release_allocation(ctx, uow, freed)
    changes: dict[str, Any] = {"lines": targets.changes}
    if order.ship_to != old_ship_to:  # first: the units the edit adds are planned for it
        moved = _coordinates(order.ship_to) != _coordinates(old_ship_to)
        changes["ship_to"] = {"from": old_ship_to, "to": order.ship_to, **(
            replan_for_ship_to(ctx, uow, order, now) if moved
            else {"replanned": False, "why": "the same coordinates"})}
    decision = _add_units(ctx, uow, order, targets, body.get("lines", []), now) \
        if targets.added else {}
    if not targets.changes and "ship_to" not in changes:
        raise ValidationFailed("The edit changes nothing.", [problem(
            "/lines", "every listed quantity is the line's already, and the ship-to is the same")])
    order.explanation = {**order.explanation, "edits": [*order.explanation.get("edits", []), {
        "at": now.isoformat(), **record, **changes, "reason": body.get("reason"), **decision}]}
    order.updated_at = now
    order.events.append(announcing.order_event(
        order, events.ORDER_EDITED, now, **changes, previous_status=before,
        reason=body.get("reason"),
        released=[{"location": loc, "sku": sku, "quantity": q}
                  for (loc, sku), q in sorted(freed.items())],
        fulfilments=[{"fulfilment_id": s["fulfilment"], "location": s["location"]}
                     for s in decision.get("shipments", [])]))
    order.events += announcing.status_changed(order, now)


def _coordinates(ship_to: dict[str, Any]) -> tuple[Any, Any]:
    return ship_to.get("lat"), ship_to.get("lon")


def _known_skus(uow: UnitOfWork, lines: list[dict[str, Any]]) -> None:
    """Refuse (422) a line naming a SKU the catalog lacks."""
    products = uow.catalog().products
    unknown = [problem(f"/lines/{i}/sku", f"unknown sku {line['sku']!r}")
               for i, line in enumerate(lines) if line["sku"] not in products]
    if unknown:
        raise ValidationFailed("Some lines name unknown SKUs.", unknown)


def _add_units(ctx: Context, uow: UnitOfWork, order: Order, targets: EditTargets,
               lines: list[dict[str, Any]], now: Any) -> dict[str, Any]:
    """Plan and allocate the units an edit adds; the plan's decision."""
    active = ctx.rules.active(uow)
    ruleset = within_budget(order, active if order.ruleset == active.ref
                            else order_ruleset(ctx, uow, order))
    on_short = order.on_short or default_on_short(ruleset.sourcing.split.fallback)
    order.lines.extend(targets.new_lines)
    line_nos = {line.sku: line.line_no for line in order.lines}
    req = rerouted_request(order, {line_nos[sku]: q for sku, q in targets.added.items()},
                           "backorder")
    if order.delivery_method == "pickup":
        sourced = sourcing.plan_pickup(uow, ruleset, uow.catalog(), req)
    else:
        sourced = sourcing.plan(ctx, uow, ruleset, uow.catalog(), req,
                                barred={ln.sku: order.rejected_by(ln.line_no) for ln in req.lines})
    short = {ln.sku: ln.quantity for ln in sourced.plan.unfulfilled}
    if short and on_short != "backorder":
        index = {line["sku"]: i for i, line in enumerate(lines)}
        raise InsufficientStock("Not enough stock for the units the edit adds; nothing changed.", [
            problem(f"/lines/{index[sku]}/quantity", f"short by {q} (on_short: {on_short})",
                    sku=sku, short=q) for sku, q in sorted(short.items())])
    allocate(uow, sourced, order.channel, {}, kept_by=active)
    shipments = [PlannedShipment(new_id(), s.location_id, s.cost, s.factors,
                                 tuple((ln.sku, ln.quantity) for ln in s.lines))
                 for s in sourced.plan.shipments]
    grow(order, targets, shipments, short, now)
    return planned(sourced, shipments)
