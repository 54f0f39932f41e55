"""Domain and service errors with stable codes; api/errors.py maps each to an HTTP status."""

from __future__ import annotations

from typing import Any


class OmsError(Exception):
    """Base of every error the service raises on purpose; `code` is stable for clients."""

    code = "oms_error"
    title = "Request failed"

    def __init__(self, detail: str, problems: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []
        self.extra = extra


class ValidationFailed(OmsError):
    """The input breaks the contract; `problems` holds each one with its JSON pointer."""

    code = "validation_failed"
    title = "The request is not valid"


class MalformedBody(ValidationFailed):
    """The body cannot be read at all: not JSON, not UTF-8, empty."""

    code = "malformed_body"
    title = "The request body cannot be read"


class NotFound(OmsError):
    code = "not_found"
    title = "Not found"


class Conflict(OmsError):
    code = "conflict"
    title = "Conflict"


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    title = "Not enough stock"


class SnapshotRefused(Conflict):
    code = "snapshot_refused"
    title = "The snapshot was refused by a safety limit; nothing was applied"


class IdempotencyMismatch(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency-Key was used with a different request"


class DuplicateOrderRef(Conflict):
    """A channel's order_ref already names an order (`order_id` in the problem)."""

    code = "duplicate_order_ref"
    title = "This order_ref already names an order"


class OverReturn(Conflict):
    """A return asks more units of a line than were shipped and are not in a return yet."""

    code = "over_return"
    title = "More units than can be returned"


class OverReceipt(Conflict):
    """A receipt takes more units of a line than its return has open."""

    code = "over_receipt"
    title = "More units than the return has open"


class Unauthenticated(OmsError):
    code = "unauthenticated"
    title = "A valid API key is required"


class Forbidden(OmsError):
    code = "forbidden"
    title = "This key's role may not do that"


class Unprocessable(OmsError):
    """Well-formed but impossible to act on (an unknown postal code, an inactive location)."""

    code = "unprocessable"
    title = "The request cannot be processed"


class Unavailable(OmsError):
    """The database cannot be reached (down, restarting, out of connections): nothing was
    done, or for a write cut off as it committed, perhaps all of it; retry shortly (an order
    with the same Idempotency-Key is placed once)."""

    code = "database_unavailable"
    title = "The service cannot reach its database"


def problem(pointer: str, message: str, **extra: Any) -> dict[str, Any]:
    """One validation problem: where (a JSON pointer) and what was expected."""
    return {"pointer": pointer, "message": message, **extra}


class SubscriptionFromConfig(Conflict):
    """A webhook subscription config.yaml declares: changed there, not through the API."""

    code = "subscription_from_config"
    title = "This subscription is declared in config.yaml"


class DeliveryInFlight(Conflict):
    """A webhook delivery being sent right now cannot be retried until it is answered."""

    code = "delivery_in_flight"
    title = "This delivery is being sent now"
