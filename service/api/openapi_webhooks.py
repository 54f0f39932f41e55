"""The OpenAPI document's `webhooks`: what a subscriber receives, one POST per event type of
the catalogue (service/domain/events.py), its body the type's schema in schemas/events."""

from __future__ import annotations

from typing import Any

from service.domain.events import CATALOGUE, EventType
from service.settings import load_schema

SIGNED = ("Sent in the Standard Webhooks format: verify `webhook-signature` with the "
          "subscription's `whsec_` secret (any Standard Webhooks library does), and drop "
          "a `webhook-id` already seen: a delivery is at least once, in order per order.")

HEADERS: list[dict[str, Any]] = [
    {"name": "webhook-id", "in": "header", "required": True,
     "description": "The event's id: the same on every retry of it (deduplicate by it)",
     "schema": {"type": "string", "minLength": 1}},
    {"name": "webhook-timestamp", "in": "header", "required": True,
     "description": "When this attempt was sent, in seconds since the Unix epoch (refuse one "
                    "too far from your clock: a replay)",
     "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    {"name": "webhook-signature", "in": "header", "required": True,
     "description": "Space-separated signatures `v1,<base64 HMAC-SHA256 of "
                    "id.timestamp.body>`, keyed with the base64 key after `whsec_`",
     "schema": {"type": "string", "pattern": r"^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$"}},
]

RESPONSES: dict[str, Any] = {
    "2XX": {"description": "Received: any 2xx answer acknowledges the delivery"},
    "410": {"description": "Gone: the subscription is disabled and nothing more is sent"},
    "default": {"description": "Anything else (or no answer in time) is retried with "
                               "backoff until the attempts run out (a dead letter)"},
}


def webhooks() -> dict[str, Any]:
    """Every event type of the catalogue as an OpenAPI 3.1 webhook."""
    return {entry.name: {"post": _operation(entry)} for entry in CATALOGUE}


def event_schema(name: str) -> dict[str, Any]:
    """The type's webhook body schema, without its file's `$schema` and `$id`."""
    schema = load_schema(f"events/{name}.schema.json")
    return {k: v for k, v in schema.items() if not k.startswith("$")}


def _operation(entry: EventType) -> dict[str, Any]:
    return {
        "operationId": "event_" + entry.name.replace(".", "_"),
        "summary": entry.description,
        "description": f"`{entry.name}`, version {entry.version}. {SIGNED}",
        "tags": [f"events: {entry.subject}"],
        "parameters": HEADERS,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": event_schema(entry.name)}}},
        "responses": RESPONSES,
        "security": [],
    }
