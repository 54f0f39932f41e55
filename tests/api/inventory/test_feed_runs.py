"""GET /v1/feeds/runs: what each push did, row by row, and when, on SQLite and PostgreSQL."""

import time
from datetime import datetime

from service.services.inventory import pushes
from tests.support import T1, T2, T3


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_run_lists_every_count_its_errors_and_its_timing(small_network, push, client, admin):
    push("deltas", {"as_of": T2, "items": [{"location": "DC-1", "sku": "A", "on_hand": 5},
                                           {"location": "DC-1", "sku": "B", "on_hand": 3},
                                           {"location": "DC-1", "sku": "C", "on_hand": 1,
                                            "as_of": T3}]})
    body = ("location,sku,on_hand,adjust,as_of\n"
            f"DC-1,A,7,,{T3}\n"  # applied
            f"DC-1,B,3,,{T3}\n"  # unchanged
            f"DC-1,C,9,,{T2}\n"  # stale: C was counted at T3
            f"DC-1,A,,x,{T3}\n")  # rejected
    response = client.post("/v1/inventory/deltas", data=body, headers=admin,
                           content_type="text/csv")
    run = client.get("/v1/feeds/runs", headers=admin).json["runs"][0]
    assert run["id"] == response.json["run"]
    assert {k: run[k] for k in ("feed", "kind", "status", "rows_read", "applied", "unchanged",
                                "stale", "rejected")} == {
        "feed": "push:deltas", "kind": "delta", "status": "ok", "rows_read": 4, "applied": 1,
        "unchanged": 1, "stale": 1, "rejected": 1}
    assert run["errors"] == [{"line": 5, "reason": "adjust must be a whole number (signed)",
                              "sku": "A", "location": "DC-1"}]
    started, finished = at(run["started_at"]), at(run["finished_at"])
    assert started <= finished
    assert 0 <= (finished - started).total_seconds() * 1000 - run["duration_ms"] < 2


def test_a_run_starts_when_its_work_starts_not_when_it_is_recorded(small_network, push, client,
                                                                   admin, monkeypatch):
    real = pushes.apply_deltas

    def slow(*args, **kwargs):
        time.sleep(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(pushes, "apply_deltas", slow)
    push("deltas", {"as_of": T1, "items": [{"location": "DC-1", "sku": "A", "on_hand": 5}]})
    run = client.get("/v1/feeds/runs", headers=admin).json["runs"][0]
    took = at(run["finished_at"]) - at(run["started_at"])
    assert run["duration_ms"] >= 200
    assert abs(took.total_seconds() * 1000 - run["duration_ms"]) < 2
