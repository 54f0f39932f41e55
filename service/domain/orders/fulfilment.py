"""A fulfilment's life: which reported event moves it where (pure rules, no I/O).

created -> accepted -> picked -> packed -> shipped -> delivered. A location may skip steps
it does not report (a store that ships straight from the shelf reports only `shipped`), but
never goes back, and nothing moves a cancelled or rejected fulfilment. Reporting the status
a fulfilment already has is a retry: it changes nothing.
"""

from __future__ import annotations

STEPS = ("created", "accepted", "picked", "packed", "shipped", "delivered")
FORWARD_EVENTS = STEPS[1:]
CLOSED = ("cancelled", "rejected")


class IllegalTransition(ValueError):
    """An event the fulfilment's current status does not allow."""


def next_status(current: str, event: str) -> str | None:
    """The status after `event`, or None when the fulfilment is there already (a retry)."""
    if event not in FORWARD_EVENTS:
        raise IllegalTransition(f"unknown event {event!r}")
    if current in CLOSED:
        raise IllegalTransition(f"the fulfilment is {current}; nothing moves it any more")
    if event == current:
        return None
    if STEPS.index(event) < STEPS.index(current):
        raise IllegalTransition(f"the fulfilment is already {current}; it cannot go back "
                                f"to {event}")
    if event == "delivered" and current != "shipped":
        raise IllegalTransition(f"the fulfilment is {current}; it must ship before it is "
                                "delivered")
    return event
