"""Fixtures of the order tests that more than one file uses."""

import dataclasses

import pytest

from service.services.orders import sourcing


@pytest.fixture
def plans_read_before_a_change(monkeypatch):
    """Plans that saw DC-1's A with `on_hand` one higher than it is: read before a change."""
    original = sourcing.plan

    def stale_plan(*args, **kwargs):
        sourced = original(*args, **kwargs)
        seen = {key: row._replace(on_hand=row.on_hand + 1) if key == ("DC-1", "A") else row
                for key, row in sourced.seen.items()}
        return dataclasses.replace(sourced, seen=seen)

    monkeypatch.setattr(sourcing, "plan", stale_plan)
