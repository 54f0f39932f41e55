"""Every row a snapshot reads is counted once: applied + unchanged + stale + rejected equals
rows_read, even when a position moves between the plan and the write (SQLite, PostgreSQL)."""

from datetime import datetime

import pytest
from sqlalchemy import update

from service.store.models import StockPosition
from service.store.positions import PositionRepository
from tests.support import T1, T2, T3, snapshot

COUNTS = ("applied", "unchanged", "stale", "rejected")


def counted(report: dict) -> int:
    return sum(report[k] for k in COUNTS)


@pytest.fixture
def counted_meanwhile(monkeypatch):
    """Whichever sku is named gets a newer count (T3) just before the snapshot locks it, as a
    delta committed by another request between the snapshot's plan and its write would."""
    moved: list[str] = []
    real = PositionRepository.lock_ids

    def lock_ids(repository, ids):
        repository.session.execute(
            update(StockPosition)
            .where(StockPosition.id.in_(list(ids)), StockPosition.sku.in_(moved))
            .values(as_of=datetime.fromisoformat(T3)))
        return real(repository, ids)

    monkeypatch.setattr(PositionRepository, "lock_ids", lock_ids)
    return moved


def test_a_count_overtaken_before_its_write_is_stale_not_also_applied(small_network, push,
                                                                      counted_meanwhile):
    push("snapshots", snapshot("DC-1", T1, {"A": 5, "B": 5}))
    counted_meanwhile.append("A")
    report = push("snapshots", snapshot("DC-1", T2, {"A": 6, "B": 5})).json
    assert {k: report[k] for k in COUNTS} == {"applied": 0, "unchanged": 1, "stale": 1,
                                              "rejected": 0}
    assert counted(report) == report["rows_read"] == 2


def test_a_zeroing_overtaken_before_its_write_is_not_counted(small_network, push,
                                                             counted_meanwhile):
    push("snapshots", snapshot("DC-1", T1, {"A": 5, "B": 5, "C": 5}))
    counted_meanwhile.append("C")
    report = push("snapshots", snapshot("DC-1", T2, {"A": 5, "B": 4})).json
    assert (report["applied"], report["unchanged"], report["stale"], report["zeroed"]) == (
        1, 1, 0, 0)
    assert counted(report) == report["rows_read"] == 2


def test_a_sku_counted_twice_in_a_snapshot_counts_both_rows(small_network, push):
    body = snapshot("DC-1", T1, {"A": 5, "B": 5})
    body["items"].append({"sku": "A", "on_hand": 6})
    report = push("snapshots", body).json
    assert report["applied"] == 2 and report["unchanged"] == 1
    assert counted(report) == report["rows_read"] == 3
