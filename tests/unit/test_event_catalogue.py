"""The event catalogue: one JSON Schema per type, each listed, each the webhook body's shape."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from service.domain import events
from service.settings import SCHEMAS_DIR

EVENTS_DIR = SCHEMAS_DIR / "events"
SERVICE = Path(events.__file__).parents[1]
EVENT_LITERAL = re.compile(r"[\"'](order|fulfilment|transfer|return|settlement)\.([a-z_]+)[\"']")
NOT_EVENTS = {"order.order_value", "order.line_count", "order.customer_tier",
              "order.delivery_method",  # rule variables (service/rules/variables.py)
              "order.html"}  # the console's order page template


def schema_of(name: str) -> dict:
    return json.loads((EVENTS_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def test_every_schema_file_is_listed_in_the_catalogue_and_every_listed_type_has_one():
    files = {p.name.removesuffix(".schema.json") for p in EVENTS_DIR.glob("*.schema.json")}
    assert files == set(events.BY_NAME)
    assert len(events.CATALOGUE) == len(events.BY_NAME)  # no type listed twice


def test_the_types_design_fixes_are_all_in_the_catalogue():
    fixed = {"order.placed", "order.backordered", "order.released", "order.edited",
             "order.cancelled", "fulfilment.requested", "fulfilment.accepted",
             "fulfilment.rejected", "fulfilment.rerouted", "fulfilment.shipped",
             "fulfilment.delivered", "return.opened", "return.received", "transfer.shipped",
             "transfer.received", "settlement.exported", "order.allocated", "return.disposed"}
    assert fixed <= set(events.BY_NAME)


@pytest.mark.parametrize("entry", events.CATALOGUE, ids=lambda e: e.name)
def test_each_schema_is_a_valid_2020_12_schema_of_the_webhook_body(entry):
    schema = schema_of(entry.name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["type", "version", "timestamp", "data"]
    props = schema["properties"]
    assert props["type"] == {"const": entry.name}
    assert props["version"] == {"const": entry.version}  # the webhook sender reads this
    assert props["timestamp"]["format"] == "date-time"
    assert props["data"]["type"] == "object" and props["data"]["required"]
    assert set(props["data"]["required"]) <= set(props["data"]["properties"])
    assert schema["description"] == entry.description and entry.description.endswith(".")


@pytest.mark.parametrize("entry", events.CATALOGUE, ids=lambda e: e.name)
def test_every_event_about_an_order_names_the_order_and_its_channel(entry):
    data = schema_of(entry.name)["properties"]["data"]
    if entry.subject in ("order", "fulfilment", "return"):
        assert "order_id" in data["required"]
    if entry.subject in ("order", "fulfilment"):
        assert {"channel", "status"} <= set(data["required"])
    if entry.subject in ("fulfilment", "transfer"):
        assert "location" in data["required"]


def test_every_event_type_the_service_code_names_is_in_the_catalogue():
    named = set()
    for path in SERVICE.rglob("*.py"):
        for match in EVENT_LITERAL.finditer(path.read_text(encoding="utf-8")):
            named.add(f"{match[1]}.{match[2]}")
    assert named - NOT_EVENTS <= set(events.BY_NAME)
    constants = {v for k, v in vars(events).items() if k.isupper() and isinstance(v, str)}
    assert constants | set(events.FULFILMENT_STEPS.values()) <= set(events.BY_NAME)


def test_the_envelope_carries_the_catalogue_version_and_a_utc_timestamp():
    at = datetime(2026, 12, 6, 13, 30, tzinfo=timezone(timedelta(hours=1)))
    body = events.envelope("order.placed", at, {"order_id": "o-1"})
    assert body == {"type": "order.placed", "version": 1,
                    "timestamp": "2026-12-06T12:30:00Z", "data": {"order_id": "o-1"}}
    naive = events.envelope("transfer.shipped", datetime(2026, 12, 6, 12, 30), {})
    assert naive["timestamp"] == "2026-12-06T12:30:00Z"  # stored times are naive UTC
    assert datetime.fromisoformat(naive["timestamp"]) == datetime(2026, 12, 6, 12, 30,
                                                                  tzinfo=UTC)


def test_an_unknown_type_has_no_envelope():
    with pytest.raises(KeyError):
        events.envelope("order.created", datetime(2026, 1, 1, tzinfo=UTC), {})
