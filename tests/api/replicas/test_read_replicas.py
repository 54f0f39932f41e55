"""Availability reads from a real streaming replica: a read with a write's consistency token
never shows an older figure, a lagging or stopped replica is skipped, and the primary serves
when no replica can (PostgreSQL binaries on this machine; no OMS_TEST_DATABASE_URL needed)."""

from __future__ import annotations

import time

from prometheus_client import REGISTRY

from service.store.replicas import Replicas, parse_token
from tests.api.replicas.conftest import reads_by


def test_a_read_with_a_writes_token_never_shows_an_older_figure(service, pair):
    svc = service(max_lag_ms=60_000, poll_ms=5)
    replica = svc.replica()["name"]
    svc.wait_for("healthy")
    before = reads_by(replica), reads_by("primary")
    for n in range(1, 201):
        token = svc.push(n)
        if n % 2 == 0:  # let the replica replay past the token: it answers this read
            svc.wait_replayed(token)
        assert svc.available(token) == n, n
    from_replica = reads_by(replica) - before[0]
    from_primary = reads_by("primary") - before[1]
    assert from_replica + from_primary == 200
    # every read after waiting, and those at once after a write the replica was ready for
    assert from_replica >= 100


def int_of(token: str) -> int:
    return parse_token(token)


def test_a_read_without_a_token_may_see_a_replica_within_the_lag_and_a_token_never(
        service, pair):
    svc = service(max_lag_ms=60_000)
    svc.push(5)
    pair.wait_caught_up()
    svc.wait_for("healthy")
    pair.pause_replay()
    token = svc.push(9)
    replica = svc.replica()["name"]
    before = reads_by(replica)
    assert svc.available() == 5  # the replica, 60 s of lag allowed: the old figure
    assert reads_by(replica) == before + 1
    assert svc.available(token) == 9  # the primary: the replica has not replayed the write
    assert reads_by(replica) == before + 1
    pair.resume_replay()
    svc.wait_replayed(token)
    assert svc.available(token) == 9
    assert reads_by(replica) == before + 2  # replayed past the token: the replica serves


def test_a_replica_that_stops_replaying_is_skipped_once_past_the_lag(service, pair):
    svc = service(max_lag_ms=200, poll_ms=10)
    svc.push(3)
    pair.wait_caught_up()
    svc.wait_for("healthy")
    pair.pause_replay()
    svc.push(4)
    svc.wait_for("lagging", timeout=5)  # 200 ms after the last position it replayed
    report = svc.replica()
    assert report["replay_paused"] is True and report["lag_ms"] > 200, report
    before = reads_by("primary")
    assert svc.available() == 4  # no token, yet the new figure: the primary answered
    assert reads_by("primary") == before + 1
    health = svc.client.get("/healthz").json
    assert health["status"] == "degraded"
    assert health["checks"]["replicas"]["serving"] == 0
    assert REGISTRY.get_sample_value("oms_replica_healthy", {"replica": report["name"]}) == 0
    pair.resume_replay()
    svc.wait_for("healthy", timeout=5)  # caught up: back in use
    assert svc.client.get("/healthz").json["checks"]["replicas"]["serving"] == 1


def test_a_stopped_replica_is_taken_out_of_use_and_the_primary_serves(service, pair):
    svc = service(max_lag_ms=60_000, poll_ms=50)
    svc.push(1)
    pair.wait_caught_up()
    svc.wait_for("healthy")
    assert svc.available() == 1
    pair.replica.stop("immediate")
    try:
        for n in range(2, 12):  # the first may still pick the replica: it fails over
            token = svc.push(n)
            assert svc.available() == n
            assert svc.available(token) == n
        svc.wait_for("down")
        assert "OperationalError" in svc.replica()["error"]
        health = svc.client.get("/healthz")
        assert health.status_code == 200 and health.json["status"] == "degraded"
    finally:
        pair.replica.start()
    svc.wait_for("healthy", timeout=20)  # retried after its back-off, then in use again
    pair.wait_caught_up()
    time.sleep(0.1)
    before = reads_by(svc.replica()["name"])
    assert svc.available() == 11
    assert reads_by(svc.replica()["name"]) == before + 1


def test_the_primary_serves_every_read_while_no_replica_is_healthy(service, pair):
    svc = service(max_lag_ms=0, poll_ms=10)  # no replica is ever within 0 ms of a write
    pair.pause_replay()
    svc.push(7)
    svc.wait_for("lagging")
    before = reads_by("primary")
    for n in range(8, 18):
        token = svc.push(n)
        assert svc.available() == n and svc.available(token) == n
    assert reads_by("primary") == before + 20


def test_writes_answer_with_a_token_and_reads_refuse_a_malformed_one(service, pair):
    svc = service()
    token = svc.push(2)
    assert token.startswith("pg:")
    reserved = svc.client.post("/v1/reservations", headers=svc.admin, json={
        "channel": "web", "sku": "A", "quantity": 1})
    assert reserved.status_code == 201, reserved.json
    later = reserved.headers["OMS-Consistency-Token"]
    assert int_of(later) >= int_of(token)
    released = svc.client.delete(reserved.headers["Location"], headers=svc.admin)
    assert released.status_code == 200 and "OMS-Consistency-Token" in released.headers
    cart = svc.client.post("/v1/availability", headers=svc.admin,
                           json={"channel": "web", "skus": ["A"]})
    assert cart.status_code == 200 and "OMS-Consistency-Token" not in cart.headers
    refused = svc.client.post("/v1/orders", headers=svc.admin, json={"channel": "web"})
    assert refused.status_code == 422 and "OMS-Consistency-Token" not in refused.headers
    bad = svc.client.get("/v1/availability?channel=web&sku=A",
                         headers=svc.admin | {"OMS-Consistency-Token": "0/16B3748"})
    assert bad.status_code == 422
    assert bad.json["problems"][0]["pointer"] == "/headers/OMS-Consistency-Token"


def test_a_read_url_that_is_not_a_replica_is_never_used(pair, primary_engine):
    replicas = Replicas(primary_engine, [pair.primary_url], max_lag_ms=60_000, poll_ms=10)
    try:
        replicas.poll()
        [report] = replicas.report()
        assert report["status"] == "down" and "not in recovery" in report["error"], report
        assert replicas.choose(None) is None and replicas.choose(1) is None
    finally:
        replicas.close()


def test_with_read_replicas_lookups_and_searches_all_go_through_flask(service):
    made = service()
    extensions = made.client.application.extensions
    assert extensions["oms.fast_reads"] is None and extensions["oms.fast_search"] is None
    answer = made.client.get("/v1/orders?limit=2", headers=made.admin)
    assert answer.status_code == 200 and answer.json == []
