"""Why a plan looks the way it does: ranked candidates per line, policy, unfulfilled reasons."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from service.domain.sourcing.model import Candidate, SourcingLine, SplitPolicy

if TYPE_CHECKING:
    from service.domain.sourcing.deciding import Decision
    from service.domain.sourcing.pool import Scored

TOP_N = 5
OBJECTIVE = "sum over shipments of (location cost + shipment_penalty); each ships >= 1 unit"


def explain_plan(
    order: tuple[SourcingLine, ...],
    scored: Scored,
    chosen: list[int],
    unfulfilled: tuple[SourcingLine, ...],
    label: str,
    policy: SplitPolicy,
    decision: Decision,
    total_candidates: int,
    factors_of: Callable[[Candidate], dict[str, Any]],
) -> dict[str, Any]:
    """The explanation dict returned with a plan (JSON-ready)."""
    top = _top_holders(scored, len(order))
    counts = (scored.caps > 0).sum(axis=0).tolist()
    short = {line.sku: line.quantity for line in unfulfilled}
    return {
        "objective": OBJECTIVE,
        "policy": {
            "mode": policy.mode,
            "max_shipments": policy.max_shipments,
            "shipment_penalty": policy.shipment_penalty,
            "fallback": policy.fallback,
        },
        "policy_applied": label,
        "candidates": {"total": total_candidates, "holding_any_line": len(scored)},
        "search": {"nodes": decision.result.nodes,
                   **decision.proof.to_dict(decision.result, decision.full)},
        "lines": [
            _explain_line(
                i, line, scored, top[i], counts[i], set(chosen), short, label, policy, factors_of
            )
            for i, line in enumerate(order)
        ],
    }


def _explain_line(
    i: int,
    line: SourcingLine,
    scored: Scored,
    holders: list[int],
    considered: int,
    chosen: set[int],
    short: dict[str, int],
    label: str,
    policy: SplitPolicy,
    factors_of: Callable[[Candidate], dict[str, Any]],
) -> dict[str, Any]:
    ranked = []
    for r, n in enumerate(holders):
        candidate = scored.candidate(n)  # one array look-up per holder, not three
        ranked.append({
            "rank": r + 1,
            "location": candidate.location_id,
            "cost": round(scored.cost_of(n) + policy.shipment_penalty, 6),
            "available": candidate.available.get(line.sku, 0),
            "covers_line": int(scored.caps[n, i]) >= line.quantity,
            "chosen": n in chosen,
            "factors": {**factors_of(candidate), "shipment_penalty": policy.shipment_penalty},
        })
    entry: dict[str, Any] = {
        "sku": line.sku,
        "quantity": line.quantity,
        "candidates_considered": considered,
        "ranked": ranked,
    }
    if line.sku in short:
        entry["unfulfilled"] = short[line.sku]
        entry["reason"] = _reason(i, line, scored, considered, label, policy)
    return entry


def _top_holders(scored: Scored, n_lines: int) -> list[list[int]]:
    """The TOP_N cheapest candidates holding each line (ties in the cost ranking's order)."""
    held = scored.caps[scored.ranking] > 0
    return [scored.ranking[held[:, i]][:TOP_N].tolist() for i in range(n_lines)]


def _reason(
    i: int, line: SourcingLine, scored: Scored, considered: int, label: str, policy: SplitPolicy
) -> str:
    if not considered:
        return "no candidate location has this SKU available"
    total = int(scored.caps[:, i].sum())
    if total < line.quantity:
        return f"only {total} of {line.quantity} units available across candidate locations"
    if label == "fallback:reject":
        return f"no plan satisfies {policy.mode} and the fallback is reject"
    limit = (
        1
        if policy.mode == "ship_complete" and policy.fallback == "backorder"
        else (policy.max_shipments)
    )
    return f"cannot be shipped together with the other lines within {limit} shipment(s)"
