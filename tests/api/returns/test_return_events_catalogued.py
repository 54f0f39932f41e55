"""Every event a returns journey writes (opened, received in two parts at two locations,
each disposition; the order's status changes) is in the catalogue, valid against its JSON
Schema as a webhook body, documents every key it sends, and names its return and order."""

from service.domain import events
from tests.api.orders.test_event_catalogue_journey import stored_events, undocumented, validator
from tests.api.returns.conftest import line

RETURN_EVENTS = {"return.opened", "return.received", "return.disposed"}


def test_every_event_of_a_returns_journey_is_catalogued_valid_and_names_its_return(
        stocked, shipped, open_return, receive, client, admin, ctx):
    client.post("/v1/products", headers=admin, json=[
        {"sku": "A", "name": "Alpha", "price": 10, "vendor": "Acme Supply"}])
    placed = shipped([{"sku": "A", "quantity": 4}])
    opened = open_return(placed["id"], [{"sku": "A", "quantity": 4, "reason": "too small"}])
    receive(opened.json["id"], "ST-1", [line("A", 1), line("A", 1, "damaged", "torn")])
    receive(opened.json["id"], "DC-1", [line("A", 2, "defective", "dead on arrival")])
    written = [e for e in stored_events(ctx) if e.type in RETURN_EVENTS
               or e.type == "order.status_changed"]

    assert {e.type for e in written} == RETURN_EVENTS | {"order.status_changed"}
    for event in written:
        body = events.envelope(event.type, event.created_at, event.payload)
        schema = validator(event.type)
        problems = [f"{e.json_path}: {e.message}" for e in schema.iter_errors(body)]
        assert problems == [], (event.type, event.payload)
        assert undocumented(schema.schema["properties"]["data"], event.payload) == [], \
            event.type
        assert event.payload["order_id"] == placed["id"]
        if events.event_type(event.type).subject == "return":
            assert event.aggregate_id == event.payload["return_id"] == opened.json["id"]
    vendors = [e.payload["vendor"] for e in written if e.type == "return.disposed"]
    assert vendors == [None, None, "Acme Supply"]
