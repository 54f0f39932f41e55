"""The inventory journal's vocabulary: why a position changed (pure)."""

from __future__ import annotations

# What a unit of work names as the cause of the position changes it writes. A change
# written without one (SQL run by hand) is journaled as "unknown".
CAUSES = ("snapshot", "delta", "order", "cancel", "rejection", "shipment", "return",
          "transfer", "hold")
UNKNOWN = "unknown"


def checked_cause(cause: str) -> str:
    """The cause itself, or ValueError for a word the journal does not know."""
    if cause not in CAUSES:
        raise ValueError(f"unknown journal cause {cause!r}: expected one of {', '.join(CAUSES)}")
    return cause
