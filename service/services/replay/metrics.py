"""The comparison of two replays: per ruleset cost, shipments per order, km, fill rate,
backorders, refusals and plans equal to live; between them the orders whose plan changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.replay import Outcome, plan_key

if TYPE_CHECKING:
    from service.rules.model import Ruleset
    from service.services.replay.history import History

EXAMPLES = 20


def figures(outcomes: list[Outcome], diverged: int) -> dict[str, Any]:
    """One replay's figures."""
    orders = len(outcomes) or 1
    plans = [o.replayed for o in outcomes]
    shipments = [s for p in plans for s in p["shipments"]]
    shipped = sum(ln["quantity"] for s in shipments for ln in s["lines"])
    short = sum(ln["quantity"] for p in plans for ln in p["unfulfilled"])
    km = sum(float(s.get("factors", {}).get("raw", {}).get("distance_km", 0.0))
             for s in shipments)
    cost = sum(float(p["total_cost"]) for p in plans)
    return {
        "orders": len(outcomes), "total_cost": round(cost, 4),
        "cost_per_order": round(cost / orders, 4),
        "shipments_per_order": round(len(shipments) / orders, 4),
        "km": round(km, 3), "km_per_shipment": round(km / (len(shipments) or 1), 3),
        "fill_rate": round(shipped / ((shipped + short) or 1), 4),
        "backorders": sum(1 for p in plans if p["unfulfilled"] and not p.get("refused")),
        "refused": sum(1 for p in plans if p.get("refused")),
        "same_as_live": sum(1 for o in outcomes if o.same),
        "diverged_events": diverged,
    }


def summary(rulesets: dict[str, Ruleset], runs: dict[str, tuple[list[Outcome], int]],
            past: History) -> dict[str, Any]:
    """Both replays' figures, and the orders whose plan the candidate changes."""
    base, cand = runs["baseline"][0], runs["candidate"][0]
    moved = [(b, c) for b, c in zip(base, cand, strict=True)
             if plan_key(b.replayed) != plan_key(c.replayed)]
    return {
        "baseline": {"ruleset": rulesets["baseline"].ref, **figures(*runs["baseline"])},
        "candidate": {"ruleset": rulesets["candidate"].ref, **figures(*runs["candidate"])},
        "orders": past.orders, "skipped": past.skipped,
        "changed": len(moved),
        "examples": [{"order": b.order_id, "baseline": _where(b.replayed),
                      "candidate": _where(c.replayed),
                      "cost_change": round(float(c.replayed["total_cost"])
                                           - float(b.replayed["total_cost"]), 4)}
                     for b, c in moved[:EXAMPLES]],
        "plans": [{"order": b.order_id, "live": _brief(b.live),
                   "baseline": _brief(b.replayed), "candidate": _brief(c.replayed),
                   "baseline_same_as_live": b.same}
                  for b, c in zip(base, cand, strict=True)],
    }


def _where(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"location": s["location"], "lines": s["lines"]} for s in plan["shipments"]]


def _brief(plan: dict[str, Any]) -> dict[str, Any]:
    return {"shipments": _where(plan), "unfulfilled": plan["unfulfilled"],
            "total_cost": plan["total_cost"]}
