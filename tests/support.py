"""Helpers shared by tests (import as tests.support)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
T1, T2, T3 = "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z"


def snapshot(location: str, as_of: str, counts: dict[str, int]) -> dict:
    """A snapshot push body."""
    return {"location": location, "as_of": as_of,
            "items": [{"sku": sku, "on_hand": qty} for sku, qty in counts.items()]}
