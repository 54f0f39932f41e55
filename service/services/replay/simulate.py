"""Replay past orders under a baseline and a candidate ruleset, each against stock as it
was (history.py), and compare them: cost, shipments, km, fill rate, backorders and the
orders whose plan changed. Read-only: planning runs on an in-memory ledger, nothing is
written; the baseline that decided live reproduces the live plans (`same_as_live`)."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from service.domain.replay import Engine, Ledger, Outcome, Position, StartingStock, plan_key
from service.errors import InsufficientStock, NotFound, OmsError, ValidationFailed, problem
from service.feeds.stock_rows import collector_paused
from service.payloads import require
from service.rules.model import Ruleset
from service.services.ats.position import position_ats
from service.services.orders import placing, sourcing
from service.services.replay import history
from service.services.replay.metrics import summary

if TYPE_CHECKING:
    from service.services.context import Context
    from service.services.orders.requests import SourcingRequest
    from service.store.catalog import CatalogSnapshot

MAX_ORDERS = 1_000_000  # the CLI's
API_ORDERS = 1_000
KEPT = ("ruleset", "policy_applied", "total_cost", "shipments", "unfulfilled")


class Progress(Protocol):
    """Told the orders to replay (both rulesets), then each one replayed (a ProgressBar)."""

    total: int | None

    def advance(self, count: int = 1) -> None: ...


@dataclass(frozen=True)
class Ask:
    """What to replay: two ruleset refs and the orders (ids) or the time since."""

    baseline: str
    candidate: str
    since: datetime | None = None
    orders: tuple[str, ...] | None = None
    limit: int = MAX_ORDERS
    stock: list[tuple[str, str, int]] | None = None  # a snapshot file's counts to start from


class AtsMemo:
    """The ATS of positions seen in one simulation (one catalog), by what decides it: the
    channel's rules and what it sells, and the position's counts. Shared by both rulesets'
    runs: a candidate whose channel rules are the baseline's (one that changes sourcing
    only, or nothing) computes no position's ATS again."""

    def __init__(self) -> None:
        self._by_rules: dict[tuple[str, str], dict[tuple[str, str, int, int, int], int]] = {}
        self._of: dict[tuple[int, str], dict[tuple[str, str, int, int, int], int]] = {}

    def table(self, ruleset: Ruleset, channel: str
              ) -> dict[tuple[str, str, int, int, int], int]:
        """The ATS kept for this ruleset's channel (by location, SKU and the three counts)."""
        found = self._of.get((id(ruleset), channel))
        if found is None:
            rules = json.dumps({"sells": ruleset.sells(channel), "rules": [
                rule.to_dict() for rule in ruleset.channels.get(channel, ())]},
                sort_keys=True, default=str)
            found = self._by_rules.setdefault((channel, rules), {})
            self._of[(id(ruleset), channel)] = found  # the rulesets outlive the simulation
        return found


class _LedgerReads:
    """What sourcing reads of a unit of work, answered from the replay's ledger; the ATS of
    a position is memoised by everything it depends on (`AtsMemo`)."""

    def __init__(self, ledger: Ledger, memo: AtsMemo) -> None:
        self.positions = self
        self.orders = self
        self.backlog = self
        self._ledger = ledger
        self._memo = memo
        self._table: tuple[Ruleset, str, dict[tuple[str, str, int, int, int], int]] | None = None

    def at(self, skus: Sequence[str], location_ids: Sequence[str]) -> list[Position]:
        return self._ledger.at(skus, location_ids)

    def ats_of(self, ruleset: Ruleset, catalog: CatalogSnapshot, row: Position,
               channel: str) -> int:
        kept = self._table  # the last table asked for (one ruleset, mostly one channel)
        if kept is None or kept[0] is not ruleset or kept[1] != channel:
            kept = self._table = (ruleset, channel, self._memo.table(ruleset, channel))
        table = kept[2]
        key = (row.location_id, row.sku, row.on_hand, row.allocated, row.reserved)
        units = table.get(key)
        if units is None:
            units = table[key] = position_ats(ruleset, catalog, row, channel)
        return units

    def per_location(self) -> dict[str, int]:
        return self._ledger.open_lines()


def planner(ctx: Context, ruleset: Ruleset, catalog: CatalogSnapshot,
            memo: AtsMemo | None = None
            ) -> Callable[[SourcingRequest, Ledger], dict[str, Any]]:
    """Plans as placing does (the same sourcing code), on the ledger; a plan the order
    would have been refused for (short under its on_short) allocates nothing. `memo`: the
    simulation's, when several planners share one catalog."""
    readers: dict[int, _LedgerReads] = {}
    memo = memo or AtsMemo()

    def plan(req: SourcingRequest, ledger: Ledger) -> dict[str, Any]:
        reads: Any = readers.get(id(ledger))
        if reads is None or reads._ledger is not ledger:  # noqa: SLF001
            reads = readers[id(ledger)] = _LedgerReads(ledger, memo)
        try:
            # the replay keeps no explanation (KEPT): it is not built
            sourced = sourcing.source(ctx, reads, ruleset, catalog, req, explain=False)
            placing._refuse_if_short(req, sourced)  # noqa: SLF001 (the live rule, reused)
        except (InsufficientStock, ValidationFailed):
            return {"ruleset": ruleset.ref, "policy_applied": "refused", "total_cost": 0.0,
                    "shipments": [], "refused": True,
                    "unfulfilled": [{"sku": ln.sku, "quantity": ln.quantity}
                                    for ln in req.lines]}
        found = sourcing.to_dict(sourced)
        return {k: found[k] for k in KEPT}
    return plan


def simulate(ctx: Context, ask: Ask, progress: Progress | None = None) -> dict[str, Any]:
    """Both replays and their comparison (422 naming the field for bad input)."""
    with collector_paused():  # a million positions read and indexed: no cycles, no sweeps
        rulesets, past, catalog = _read(ctx, ask)
        start = StartingStock(past.positions)  # once: each run's ledger keeps what it moves
    if progress is not None:
        progress.total = past.orders * len(rulesets)
    gc.freeze()  # the history is read once and kept: collections need not walk it again
    try:
        memo = AtsMemo()
        runs = {role: _run(planner(ctx, ruleset, catalog, memo), past, start, progress)
                for role, ruleset in rulesets.items()}
    finally:
        gc.unfreeze()
    return summary(rulesets, runs, past)


def _run(plan: Callable[[SourcingRequest, Ledger], dict[str, Any]], past: history.History,
         start: StartingStock, progress: Progress | None) -> tuple[list[Outcome], int]:
    engine = Engine(Ledger(start, past.backlog), plan)
    outcomes = []
    for outcome in engine.run(past.events):
        outcomes.append(outcome)
        if progress is not None:
            progress.advance()
    return outcomes, engine.diverged


def _read(ctx: Context, ask: Ask
          ) -> tuple[dict[str, Ruleset], history.History, CatalogSnapshot]:
    problems: list[dict[str, Any]] = []
    if ask.since is not None and ask.since > ctx.clock.now():
        problems.append(problem("/since", "since is in the future"))
    max_lines = ctx.settings.section("sourcing")["max_order_lines"]
    with ctx.reading() as uow:
        rulesets = {role: _ruleset(ctx, uow, ref, role, problems)
                    for role, ref in (("baseline", ask.baseline), ("candidate", ask.candidate))}
        ids = list(ask.orders or ())
        if ask.orders is None and ask.since is not None:
            ids = uow.replay_history.order_ids_since(ask.since, ask.limit + 1)
            if len(ids) > ask.limit:
                problems.append(problem("/since", f"more than {ask.limit} orders were placed "
                                        "since then; replay a later time or fewer orders"))
        known = uow.replay_history.existing_orders(ids)
        problems += [problem(f"/orders/{i}", f"no order {oid!r}")
                     for i, oid in enumerate(ids) if oid not in known][:20]
        if not ids and not problems:
            problems.append(problem("/since" if ask.orders is None else "/orders",
                                    "no orders to replay"))
        if problems:
            raise ValidationFailed(f"{len(problems)} problem(s) in the request.", problems)
        past = history.load(uow, ids, max_lines, ask.stock)
        return rulesets, past, uow.catalog()  # type: ignore[return-value]


def _ruleset(ctx: Context, uow: Any, ref: str, role: str, problems: list[dict[str, Any]]
             ) -> Ruleset | None:
    try:
        return ctx.rules.resolve(uow, ref)
    except (NotFound, OmsError, ValueError) as exc:
        problems.append(problem(f"/{role}", f"no published ruleset {ref!r}: {exc}"))
        return None


def simulate_request(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/rulesets/simulate: at most API_ORDERS orders, every bad field named."""
    require("ruleset_simulation_request", body)
    if ("since" in body) == ("orders" in body):
        raise ValidationFailed("Give since or orders.", [
            problem("/since", "give exactly one of since and orders")])
    since = None
    if "since" in body:
        try:
            since = parse_since(body["since"])
        except ValueError:
            raise ValidationFailed("1 problem(s) in the request.", [problem(
                "/since", "expected an ISO 8601 date or time, e.g. 2026-12-01")]) from None
    orders = tuple(body["orders"]) if "orders" in body else None
    ask = Ask(body["baseline"], body["candidate"], since, orders, API_ORDERS)
    return simulate(ctx, ask)


def parse_since(raw: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 time (UTC when it names no zone)."""
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def changed(baseline: Outcome, candidate: Outcome) -> bool:
    return plan_key(baseline.replayed) != plan_key(candidate.replayed)
