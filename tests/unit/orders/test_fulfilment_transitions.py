import pytest

from service.domain.orders import IllegalTransition, next_status


@pytest.mark.parametrize(("current", "event"), [
    ("created", "accepted"), ("accepted", "picked"), ("picked", "packed"),
    ("packed", "shipped"), ("shipped", "delivered"),
])
def test_each_step_moves_the_fulfilment_forward(current, event):
    assert next_status(current, event) == event


def test_a_location_may_skip_the_steps_it_does_not_report():
    assert next_status("created", "shipped") == "shipped"
    assert next_status("accepted", "packed") == "packed"


def test_reporting_the_current_status_again_is_a_retry_that_changes_nothing():
    assert next_status("shipped", "shipped") is None


@pytest.mark.parametrize(("current", "event"), [
    ("packed", "accepted"), ("shipped", "picked"), ("delivered", "shipped"),
])
def test_a_fulfilment_never_goes_back(current, event):
    with pytest.raises(IllegalTransition, match="cannot go back"):
        next_status(current, event)


@pytest.mark.parametrize("current", ["cancelled", "rejected"])
def test_nothing_moves_a_cancelled_or_rejected_fulfilment(current):
    with pytest.raises(IllegalTransition, match="nothing moves it"):
        next_status(current, "shipped")


def test_a_fulfilment_is_delivered_only_after_it_shipped():
    with pytest.raises(IllegalTransition, match="must ship before"):
        next_status("packed", "delivered")


def test_an_unknown_event_is_refused():
    with pytest.raises(IllegalTransition, match="unknown event"):
        next_status("created", "teleported")
