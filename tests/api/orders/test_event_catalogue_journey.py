"""Every event a full order and transfer journey writes is in the catalogue, valid against
its JSON Schema as a webhook body, and names its order (and channel, and location).

On SQLite and PostgreSQL, through the API. The `spread` stock: A is 10 at ST-1 (New York),
10 at ST-2 (Chicago) and 20 at DC-1; B is 5 at DC-1 (web may sell all but two of a store's
units, ledger@1, which backorders what is short).
"""

import json
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select

from service.domain import events
from service.settings import SCHEMAS_DIR
from service.store.models import Event
from tests.api.orders.test_backorder_release import delta, run_job
from tests.api.orders.test_order_edits import edit, step
from tests.api.orders.test_rejections import placed_at_st1, read, reject

FORMATS = FormatChecker()
FORMATS.checks("date-time", raises=ValueError)(
    lambda value: not isinstance(value, str) or bool(datetime.fromisoformat(value)))
NOT_FROM_ORDERS = {"return.opened", "return.received", "return.disposed",
                   "settlement.exported"}  # other features emit these


def validator(type_: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / "events" / f"{type_}.schema.json").read_text("utf-8"))
    return Draft202012Validator(schema, format_checker=FORMATS)


def undocumented(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """Every key of `value` the schema does not describe (receivers read only what it lists)."""
    if isinstance(value, dict) and "properties" in schema:
        found = [f"{path}/{k}" for k in value if k not in schema["properties"]
                 and schema.get("additionalProperties") is not True]
        for key, inner in value.items():
            if key in schema["properties"] and "properties" in schema["properties"][key] | {}:
                found += undocumented(schema["properties"][key], inner, f"{path}/{key}")
            elif key in schema["properties"] and "items" in schema["properties"][key]:
                found += [p for i, item in enumerate(inner) for p in undocumented(
                    schema["properties"][key]["items"], item, f"{path}/{key}/{i}")]
        return found
    return []


def stored_events(ctx) -> list[Event]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def ship_everything(client, admin, order_id, tracking="1Z-TRK"):
    for fulfilment in read(client, admin, order_id)["fulfilments"]:
        if fulfilment["status"] == "created":
            for type_ in ("accepted", "picked", "packed"):
                step(client, admin, fulfilment["id"], type_)
            shipped = client.post(f"/v1/fulfilments/{fulfilment['id']}/events", headers=admin,
                                  json={"type": "shipped", "tracking": tracking})
            assert shipped.status_code == 200, shipped.json
            step(client, admin, fulfilment["id"], "delivered")


def orders_journey(client, admin, headers_for, order, ctx) -> None:
    """Placed, shipped and delivered; rejected and re-routed; backordered, released, edited,
    partly then wholly cancelled."""
    first = order([{"sku": "A", "quantity": 2}])
    ship_everything(client, admin, first.json["id"])
    rerouted, fulfilment_id = placed_at_st1(order)
    step(client, admin, fulfilment_id, "accepted")
    assert reject(client, headers_for("location:ST-1"), fulfilment_id).status_code == 200
    waiting = order([{"sku": "B", "quantity": 7}])
    assert waiting.json["status"] == "partially_backordered", waiting.json
    order_id = waiting.json["id"]
    delta(client, admin, "B", 7)  # two more B arrive at DC-1
    assert run_job(ctx, "orders.backorders") is True
    assert edit(client, admin, order_id, lines=[{"sku": "A", "quantity": 3},
                                                {"sku": "C", "quantity": 1}]).status_code == 200
    cancel = client.post(f"/v1/orders/{order_id}/cancel", headers=admin,
                         json={"lines": [{"sku": "B", "quantity": 1}], "reason": "too many"})
    assert cancel.status_code == 200, cancel.json
    whole = client.post(f"/v1/orders/{order_id}/cancel", headers=admin, json={"reason": "gone"})
    assert whole.status_code == 200 and whole.json["status"] == "cancelled", whole.json


def transfers_journey(client, admin) -> None:
    """Created, shipped, partly received, closed; another created and cancelled."""
    moved = client.post("/v1/transfers", headers=admin, json={
        "from": "DC-1", "to": "ST-2", "lines": [{"sku": "A", "quantity": 3}],
        "reference": "TR-9"}).json["id"]
    for body in ({"type": "shipped", "tracking": "TRK-7"},
                 {"type": "received", "lines": [{"sku": "A", "quantity": 2}]},
                 {"type": "closed", "reason": "one lost"}):
        answer = client.post(f"/v1/transfers/{moved}/events", headers=admin, json=body)
        assert answer.status_code == 200, answer.json
    dropped = client.post("/v1/transfers", headers=admin, json={
        "from": "DC-1", "to": "ST-1", "lines": [{"sku": "A", "quantity": 1}]}).json["id"]
    assert client.post(f"/v1/transfers/{dropped}/cancel", headers=admin,
                       json={"reason": "not needed"}).status_code == 200


def test_every_event_of_a_full_journey_is_catalogued_valid_and_names_its_order(
        spread, client, admin, headers_for, order, ctx):
    orders_journey(client, admin, headers_for, order, ctx)
    transfers_journey(client, admin)
    written = stored_events(ctx)

    types = {e.type for e in written}
    assert types == set(events.BY_NAME) - NOT_FROM_ORDERS  # the journey emits every one
    for event in written:
        body = events.envelope(event.type, event.created_at, event.payload)
        schema = validator(event.type)
        problems = [f"{e.json_path}: {e.message}" for e in schema.iter_errors(body)]
        assert problems == [], (event.type, event.payload)
        assert undocumented(schema.schema["properties"]["data"], event.payload) == [], \
            event.type
        subject = events.event_type(event.type).subject
        if subject in ("order", "fulfilment"):
            assert event.payload["order_id"] and event.payload["channel"] == "web"
            assert event.aggregate_id == event.payload[f"{subject}_id"]
        else:
            assert event.aggregate_id == event.payload["transfer_id"]


def test_the_shipped_event_carries_its_tracking_and_the_units_shipped(
        spread, client, admin, order, ctx):
    placed = order([{"sku": "A", "quantity": 2}])
    ship_everything(client, admin, placed.json["id"], tracking="1Z-999")
    [shipped] = [e.payload for e in stored_events(ctx) if e.type == "fulfilment.shipped"]
    assert (shipped["tracking"], shipped["location"], shipped["order_id"]) == (
        "1Z-999", "ST-1", placed.json["id"])
    assert shipped["lines"] == [{"sku": "A", "quantity": 2}]


def test_an_order_rerouted_back_to_created_is_placed_once_and_its_status_change_told(
        spread, client, admin, headers_for, order, ctx):
    order_id, fulfilment_id = placed_at_st1(order)
    step(client, admin, fulfilment_id, "accepted")
    assert reject(client, headers_for("location:ST-1"), fulfilment_id).status_code == 200
    assert read(client, admin, order_id)["status"] == "created"

    timeline = client.get(f"/v1/orders/{order_id}/events", headers=admin).json
    types = [entry["type"] for entry in timeline]
    assert types.count("order.placed") == 1 and "order.created" not in types
    changes = [(e["data"]["previous_status"], e["data"]["status"]) for e in timeline
               if e["type"] == "order.status_changed"]
    assert changes == [("created", "in_progress"), ("in_progress", "created")]


def test_events_stored_under_the_old_names_show_in_the_timeline_as_they_were(
        spread, client, admin, order, ctx):
    order_id = order([{"sku": "A", "quantity": 1}]).json["id"]
    with ctx.sessions.begin() as session:  # as written before the catalogue named it
        session.add(Event(aggregate_type="order", aggregate_id=order_id, type="order.in_progress",
                          payload={"status": "in_progress"}, created_at=datetime(2026, 1, 1),
                          attempts=0))

    timeline = client.get(f"/v1/orders/{order_id}/events", headers=admin)

    assert timeline.status_code == 200
    old = next(e for e in timeline.json if e["type"] == "order.in_progress")
    assert (old["version"], old["data"]) == (None, {"status": "in_progress"})
    assert next(e for e in timeline.json if e["type"] == "order.placed")["version"] == 1
