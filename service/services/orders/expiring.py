"""The acceptance SLA: a fulfilment not accepted in time is rejected (sla_expired), re-routed.

The limit is config's `fulfilment.accept_within_minutes`, or the active ruleset's for the
location's type. Each overdue fulfilment is expired in a transaction of its own, under its
order's row lock, and only if it is still `created` and overdue once the lock is held: with
several scheduler processes (or a pass racing the location's own accept) each fulfilment is
expired once, whatever the job lease does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from service.domain.orders import SLA_EXPIRED
from service.domain.roles import Role
from service.errors import OmsError
from service.services.orders.fulfilment import load_fulfilment
from service.services.orders.rejecting import reject_and_reroute, with_retries
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

log = logging.getLogger(__name__)
BATCH = 200
SYSTEM = Role("admin")


@dataclass(frozen=True)
class AcceptLimits:
    """Minutes to accept a fulfilment: per location type, else the default."""

    default: int
    by_type: Mapping[str, int]

    def minutes(self, location_type: str | None) -> int:
        """The limit of a location of this type."""
        return self.by_type.get(location_type or "", self.default)

    def deadline(self, created_at: datetime, location_type: str | None) -> datetime:
        """When a fulfilment created at `created_at` there must be accepted by."""
        return created_at + timedelta(minutes=self.minutes(location_type))


def limits(ctx: Context, uow: UnitOfWork) -> AcceptLimits:
    """Config's limit, and the active ruleset's per location type."""
    ruleset = ctx.rules.active(uow)
    return AcceptLimits(ctx.settings.section("fulfilment")["accept_within_minutes"],
                        dict(ruleset.fulfilment.accept_within_minutes))


def expire_unaccepted(ctx: Context) -> list[str]:
    """Reject and re-route every fulfilment past its acceptance SLA; the ids it expired."""
    now = ctx.clock.now()
    with ctx.reading() as uow:
        accept = limits(ctx, uow)
        soonest = min([accept.default, *accept.by_type.values()])
        found = uow.orders.unaccepted_before(now - timedelta(minutes=soonest), BATCH)
        types = {loc: facts.get("location_type")
                 for loc, facts in uow.catalog().locations.items()}
    expired = []
    for fulfilment_id, location_id, created_at in found:
        if accept.deadline(created_at, types.get(location_id)) <= now and \
                expire(ctx, fulfilment_id, accept, now):
            expired.append(fulfilment_id)
    return expired


def expire(ctx: Context, fulfilment_id: str, accept: AcceptLimits, now: datetime) -> bool:
    """Expire one fulfilment if, under its order's lock, it is still unaccepted and overdue."""

    def once(uow: UnitOfWork) -> bool:
        order, fulfilment = load_fulfilment(uow, SYSTEM, fulfilment_id)
        location_type = uow.catalog().locations.get(fulfilment.location_id, {}).get(
            "location_type")
        if fulfilment.status != "created" or \
                accept.deadline(fulfilment.created_at, location_type) > now:
            return False  # accepted, cancelled or expired by another process meanwhile
        reject_and_reroute(ctx, uow, order, fulfilment, None, SLA_EXPIRED, now)
        uow.orders.save(order)
        return True

    try:
        return with_retries(ctx, once)
    except OmsError as exc:  # its stock was taken on every attempt: the next pass tries again
        log.warning("fulfilment %s not expired yet: %s", fulfilment_id, exc.detail)
        return False
