"""An order keeps the experiment and variant that decided it, and says so when placed."""

from service.domain.orders import Order
from tests.unit.orders.builders import PLACED, line, place, shipment


def test_an_order_placed_in_an_experiment_names_it_and_its_variant_in_order_placed():
    order = Order.place(id="o-1", channel="web", lines=[line(1, "A", 1)],
                        shipments=[shipment("f-1", "ST-1", ("A", 1))], backordered={},
                        at=PLACED, ruleset="dc-first@1", experiment="dc-test",
                        variant="dc-first")
    created = next(e for e in order.events if e.type == "order.placed")
    assert (order.experiment, order.variant) == ("dc-test", "dc-first")
    said = created.payload
    assert (said["ruleset"], said["experiment"], said["variant"]) == ("dc-first@1", "dc-test",
                                                                      "dc-first")


def test_an_order_outside_any_experiment_says_nothing_of_one():
    order = place([line(1, "A", 1)], [shipment("f-1", "ST-1", ("A", 1))])
    created = next(e for e in order.events if e.type == "order.placed")
    assert (order.experiment, order.variant) == (None, None)
    assert "experiment" not in created.payload
