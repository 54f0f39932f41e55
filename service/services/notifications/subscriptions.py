"""Webhook subscriptions: create (the secret shown once), list, delete, enable again after a
410 Gone, the ones config.yaml declares (synced at start), and replaying one subscription
from an event id."""

from __future__ import annotations

import base64
import functools
import logging
import os
import secrets
from typing import TYPE_CHECKING, Any

from service.domain.webhooks import Subscriber, order_key, wants
from service.errors import NotFound, SubscriptionFromConfig, ValidationFailed, problem
from service.payloads import require
from service.secret_box import SecretBox, default_box
from service.services.notifications import lanes

if TYPE_CHECKING:
    from service.services.context import Context

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
REPLAY_PAGE = 1000
log = logging.getLogger(__name__)


@functools.cache
def box() -> SecretBox:
    """The process's secret box (OMS_SECRET_KEY, else the development key file)."""
    return default_box()


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def view(row: dict[str, Any]) -> dict[str, Any]:
    """A subscription as the API shows it (never its secret)."""
    return {"id": row["id"], "url": row["url"], "events": list(row["events"]),
            "location": row["location"], "channel": row["channel"], "source": row["source"],
            "name": row["name"], "created_at": _iso(row["created_at"]),
            "active": row["disabled_at"] is None,
            "disabled_at": _iso(row["disabled_at"]), "disabled_reason": row["disabled_reason"]}


def create(ctx: Context, body: dict[str, Any], created_by: str | None) -> dict[str, Any]:
    """A new subscription; the 201 body holds its secret, shown this once."""
    require("webhook_subscription_request", body)
    secret = new_secret()
    row = new_row(ctx, body, secret, "api", None, created_by)
    with ctx.transaction() as uow:
        uow.webhooks.add(row)
    return {**view(row), "secret": secret}


def listed(ctx: Context) -> list[dict[str, Any]]:
    """Every subscription (API and config), oldest first."""
    with ctx.reading() as uow:
        return [view(row) for row in uow.webhooks.listed()]


def delete(ctx: Context, subscription_id: str) -> None:
    """Delete an API subscription (its deliveries stop); config ones are config.yaml's."""
    with ctx.transaction() as uow:
        row = _found(uow, subscription_id)
        if row["source"] == "config":
            raise SubscriptionFromConfig(
                f"Subscription {subscription_id} is declared in config.yaml "
                f"(webhooks.subscriptions, name {row['name']!r}): remove it there.")
        uow.webhooks.change(subscription_id, deleted_at=ctx.clock.now())


def enable(ctx: Context, subscription_id: str) -> dict[str, Any]:
    """Deliver to a subscription again after a receiver's 410 Gone disabled it (an active one
    is left as it is). Its deliveries held while disabled are sent again in order; events
    routed while it was disabled were not queued for it: `replay` sends them."""
    with ctx.transaction() as uow:
        row = _found(uow, subscription_id)
        if row["disabled_at"] is not None:
            uow.webhooks.change(subscription_id, disabled_at=None, disabled_reason=None)
            row = {**row, "disabled_at": None, "disabled_reason": None}
            log.info("webhook subscription %s enabled again", subscription_id)
    return view(row)


def replay(ctx: Context, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Queue again, in order, every event from from_event_id on that the subscription
    wants (delivered ones too); returns how many."""
    require("webhook_replay_request", body)
    first, queued = body["from_event_id"], 0
    while True:
        with ctx.transaction() as uow:
            row = _found(uow, subscription_id)
            events = uow.webhooks.events_from(first, REPLAY_PAGE)
            sub = subscriber(row)
            channels = (uow.webhooks.order_channels(order_ids(events)) if sub.channel else {})
            rows = [{**delivery_row(ctx, sub.id, e), "status": "queued"} for e in events
                    if wants(sub, e, channel_of(e, channels))]
            uow.webhooks.add_deliveries(rows, requeue=True)  # queued, then each order's first
            lanes.advance(uow, {lanes.lane_of(r) for r in rows}, ctx.clock.now())
        queued += len(rows)
        if len(events) < REPLAY_PAGE:
            return {"subscription": subscription_id, "from_event_id": body["from_event_id"],
                    "queued": queued}
        first = events[-1].id + 1


def sync_config(ctx: Context) -> list[str]:
    """Make the database's config subscriptions those config.yaml declares (by name): new
    ones added, changed ones updated, removed ones deleted; returns the names added."""
    declared = {s["name"]: s for s in ctx.settings.section("webhooks")["subscriptions"]}
    added = []
    with ctx.transaction() as uow:
        existing = {row["name"]: row for row in uow.webhooks.listed(source="config")}
        for name, spec in declared.items():
            if name in existing:
                _update_config(ctx, uow, existing[name], spec)
            elif uow.webhooks.add(new_row(ctx, spec, _config_secret(spec), "config", name, None)):
                added.append(name)
        for name in existing.keys() - declared.keys():
            uow.webhooks.change(existing[name]["id"], deleted_at=ctx.clock.now())
    return added


def _update_config(ctx: Context, uow: Any, row: dict[str, Any], spec: dict[str, Any]) -> None:
    changes = {k: spec.get(k) for k in ("url", "events", "location", "channel")
               if spec.get(k) != row[k]}
    env_secret = _env_secret(spec)
    if env_secret and box().open(row["secret_encrypted"]) != env_secret:
        changes["secret_encrypted"] = box().seal(env_secret)
    if changes:
        uow.webhooks.change(row["id"], **changes)


def _config_secret(spec: dict[str, Any]) -> str:
    found = _env_secret(spec)
    if found:
        return found
    secret = new_secret()
    log.warning("webhook subscription %r (config.yaml) has no secret_env: its new secret, "
                "shown this once, is %s", spec["name"], secret)
    return secret


def _env_secret(spec: dict[str, Any]) -> str | None:
    name = spec.get("secret_env")
    if not name:
        return None
    value = os.environ.get(name, "")
    if not value.startswith(SECRET_PREFIX):
        raise ValidationFailed(f"webhook subscription {spec['name']!r}: ${name} must hold a "
                               f"{SECRET_PREFIX} secret", [problem("/secret_env", "not set")])
    return value


def new_row(ctx: Context, body: dict[str, Any], secret: str, source: str, name: str | None,
            created_by: str | None) -> dict[str, Any]:
    """A new subscription's row, its secret sealed."""
    return {"id": "whs_" + secrets.token_hex(12), "url": body["url"],
            "events": list(body["events"]), "location": body.get("location"),
            "channel": body.get("channel"), "secret_encrypted": box().seal(secret),
            "source": source, "name": name, "created_at": ctx.clock.now(),
            "created_by": created_by, "disabled_at": None, "disabled_reason": None,
            "deleted_at": None}


def _found(uow: Any, subscription_id: str) -> dict[str, Any]:
    row = uow.webhooks.get(subscription_id)
    if row is None:
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return row


def subscriber(row: dict[str, Any]) -> Subscriber:
    """What routing needs of a subscription row."""
    return Subscriber(row["id"], tuple(row["events"]), row["location"], row["channel"])


def order_ids(events: list[Any]) -> list[str]:
    """The orders some events belong to."""
    return [key.removeprefix("order:") for key in map(order_key, events)
            if key.startswith("order:")]


def channel_of(event: Any, channels: dict[str, str]) -> str | None:
    """The channel of an event's order (or its payload's channel)."""
    key = order_key(event)
    found = channels.get(key.removeprefix("order:")) if key.startswith("order:") else None
    return found or (event.payload.get("channel") if isinstance(event.payload, dict) else None)


def delivery_row(ctx: Context, subscription_id: str, event: Any) -> dict[str, Any]:
    """A pending delivery of event to the subscription, due now."""
    now = ctx.clock.now()
    return {"subscription_id": subscription_id, "event_id": event.id,
            "order_key": order_key(event)[:100], "status": "pending", "attempts": 0,
            "next_attempt_at": now, "created_at": now}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
