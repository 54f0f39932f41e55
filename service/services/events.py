"""The outbox: events written in the same transaction as the change they describe."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.store.models import Event


def emit(session: Session, aggregate_type: str, aggregate_id: str, type_: str,
         payload: dict[str, Any]) -> None:
    """Add an event to the caller's transaction (delivered later by the outbox job)."""
    session.add(Event(aggregate_type=aggregate_type, aggregate_id=aggregate_id, type=type_,
                      payload=payload))
