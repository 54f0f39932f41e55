"""Available-to-sell reads: lookups of the kept ATS, detail and pickup computed live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.roles import Role, authorize
from service.errors import Forbidden, NotFound, ValidationFailed, problem
from service.rules.model import Ruleset
from service.services.access.keys import Confirm
from service.services.ats.position import PositionStock, explain_position
from service.services.experiments import live
from service.services.inventory import reservations
from service.services.rulesets.active import known_channel
from service.services.transfers.in_transit import add_in_transit, in_transit_to
from service.store import ats_lookup, replicas
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

MAX_SKUS = 200
MAX_ID = 64  # the longest sku, channel or location id
NOT_IN_EXPERIMENT = {"experiment": None, "variant": None}


def check_request(channel: Any, skus: Any, detail: Any = None,
                  location: Any = None, unit: Any = None) -> tuple[str, list[str]]:
    """A channel name and 1..200 distinct skus (each id 1 to 64 characters), detail none or
    "locations", an optional unit (an id), or a 422 naming each problem."""
    problems = [problem(f"/{name}", f"expected 1 to {MAX_ID} characters")
                for name, value in (("channel", channel), ("location", location),
                                    ("unit", unit))
                if (name == "channel" or value is not None) and not _an_id(value)]
    if not isinstance(skus, list) or not skus:
        problems.append(problem("/skus", "at least one sku is required"))
    elif len(skus) > MAX_SKUS:
        problems.append(problem("/skus", f"at most {MAX_SKUS} skus per request"))
    else:
        problems += [problem(f"/skus/{i}", f"expected 1 to {MAX_ID} characters")
                     for i, s in enumerate(skus) if not _an_id(s)]
    if detail not in (None, "locations"):
        problems.append(problem("/detail", "expected 'locations' (or nothing)"))
    if problems:
        raise ValidationFailed("The availability request is not valid.", problems)
    return channel, list(dict.fromkeys(skus))


def _an_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID


def read(ctx: Context, role: Role, channel: Any, skus: Any, detail: Any = None,
         location: Any = None, confirm: Confirm | None = None,
         token: str | None = None, unit: Any = None) -> dict[str, Any]:
    """ATS of skus for channel; per-location detail ("locations"), or one location's ATS
    (pickup). A `unit` in a running experiment of the channel reads its variant's ruleset's
    figures (kept like the active ruleset's: the same lookup).

    `confirm` (from the API) confirms a key the caller took from its cache: the lookup
    confirms it with the `keys` version it reads with the ATS; every other way, first.
    `token`: the caller's consistency token (read replicas: the lookup reads a replica that
    has replayed past it, else the primary); detail and pickup always read the primary.
    """
    try:
        channel, skus = check_request(channel, skus, detail, location, unit)
        authorize(role, channel=channel)
        position = None if token is None else _position(token)
    except (ValidationFailed, Forbidden):
        if confirm is not None:
            confirm(None)  # a revoked key is a 401, whatever else is wrong
        raise
    if location is None and detail is None:
        found = live.assigned(ctx, channel, unit)
        kept = None if found is None else _lookup(ctx, channel, skus, confirm, position,
                                                  found.ruleset)
        if found is not None and kept is not None:
            return kept | {"experiment": found.experiment, "variant": found.variant}
        # in no experiment, or its variant keeps no rows (it stopped a second ago)
        return (_lookup(ctx, channel, skus, confirm, position) or {}) | NOT_IN_EXPERIMENT
    if confirm is not None:
        confirm(None)
    with ctx.reading() as uow:
        if uow.reservations.any_due(skus, ctx.clock.now()):  # as the lookup does
            uow.rollback()
            reservations.expire(ctx, skus)
        choice = live.choose(ctx, uow, channel, unit)  # the active one: no cache
        known_channel(choice.ruleset, channel)
        return _live(uow, choice.ruleset, channel, skus, location  # type: ignore[arg-type]
                     ) | choice.names()


def _lookup_ruleset(ctx: Context, channel: str) -> Ruleset:
    """The active ruleset as last checked (a second ago at most), else checked now."""
    ruleset = ctx.rules.cached()
    if ruleset is None:  # autocommit: on SQLite no BEGIN IMMEDIATE, so no queueing
        with ctx.reading(autocommit=True) as uow:
            ruleset = ctx.rules.active_cached(uow)
    known_channel(ruleset, channel)
    return ruleset


def _lookup(ctx: Context, channel: str, skus: list[str], confirm: Confirm | None,
            position: int | None = None, variant: str | None = None
            ) -> dict[str, Any] | None:
    """The kept ATS (a variant ruleset's, when given: None when it keeps none of these SKUs
    for the channel, as after the experiment stopped a second ago): one autocommit
    statement, no ORM session (the hot path); the key's `keys` version comes with it."""
    if ctx.replicas is None:  # no read replica: the only work this path adds is this test
        rows, due, keys = ats_lookup.lookup(ctx.engine, channel, skus, ctx.clock.now(),
                                            variant)
    else:
        rows, due, keys = ctx.replicas.run(lambda engine: ats_lookup.lookup(
            engine, channel, skus, ctx.clock.now(), variant), position)
    if confirm is not None:
        confirm(keys)
    if due:  # reads never count an expired reservation: free them, then read again (primary)
        reservations.expire(ctx, skus)
        rows, _, _ = ats_lookup.lookup(ctx.engine, channel, skus, ctx.clock.now(), variant)
    # The kept ATS names the ruleset that computed it (one, as a switch recomputes all of it
    # in one transaction): that is the answer's ruleset, not this process's cached one.
    if variant is not None and not rows:
        return None
    ref = rows[0][2] if rows else _lookup_ruleset(ctx, channel).ref
    found = {r[0]: r[1] for r in rows}
    items = [{"sku": sku, "available": found.get(sku, 0)} for sku in skus]
    result: dict[str, Any] = {"channel": channel, "ruleset": ref, "items": items}
    unknown = [sku for sku in skus if sku not in found]
    if unknown:
        result["unknown_skus"] = unknown
    return result


TOKEN_POINTER = "/headers/OMS-Consistency-Token"


def _position(token: str | None) -> int | None:
    """The WAL position of the caller's consistency token, or a 422 naming it."""
    if token is None:
        return None
    position = replicas.parse_token(token)
    if position is None:
        raise ValidationFailed("The consistency token is not valid.", [problem(
            TOKEN_POINTER, "expected a token of a write's OMS-Consistency-Token header "
            "(pg:<hex>/<hex>)")])
    return position


def _live(uow: UnitOfWork, ruleset: Ruleset, channel: str, skus: list[str],
          location: str | None) -> dict[str, Any]:
    catalog = uow.catalog()
    if location is not None and location not in catalog.locations:
        raise NotFound(f"Unknown location {location!r}.")
    per_sku: dict[str, list[dict[str, Any]]] = {sku: [] for sku in skus}
    transit = in_transit_to(uow, ruleset, skus, location)
    for r in uow.positions.of_skus(skus, location):
        per_sku[r[1]].append(explain_position(ruleset, catalog, PositionStock(*r), channel,
                                              transit.of((r[0], r[1])), transit.now))
    add_in_transit(ruleset, catalog, channel, per_sku, transit)
    items = [{"sku": sku, "available": sum(loc["available"] for loc in per_sku[sku]),
              "locations": per_sku[sku]} for sku in skus]
    result = {"channel": channel, "ruleset": ruleset.ref, "items": items}
    if location is not None:
        result["location"] = location
        result["can_pickup"] = catalog.locations[location]["can_pickup"]
    return result
