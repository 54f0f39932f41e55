"""Read replicas in `oms serve` (gunicorn, forked workers): each worker polls the replica on a
thread of its own, and a token from a write through one worker is honoured by every other."""

from __future__ import annotations

import re
import time

from service.services.access.keys import create_key
from tests.processes import call, serve
from tests.support import FIXTURES
from tests.webhook_receiver import wait_until


def config(tmp_path, pair) -> object:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"database_url: {pair.primary_url}\n"
        f"rulesets: {{directory: {FIXTURES / 'rulesets'}, active: ledger@1}}\n"
        f"database: {{read_urls: [{pair.replica_url}], read_max_lag_ms: 60000, "
        "read_poll_ms: 10}\n")
    return path


def test_tokens_hold_across_forked_workers_and_each_worker_reads_the_replica(
        service, pair, tmp_path):
    svc = service()  # the network, on the primary
    key = create_key(svc.ctx, "admin")
    served = serve(config(tmp_path, pair), workers=2, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    base = served.base
    try:
        def push(n: int) -> str:
            answer = call("POST", base + "/v1/inventory/deltas", key,
                          {"items": [{"location": "DC-1", "sku": "A", "on_hand": n}]})
            assert answer.status == 200, answer.body
            return answer.headers["OMS-Consistency-Token"]

        def read(token: str | None = None) -> int:
            headers = {"OMS-Consistency-Token": token} if token else {}
            answer = call("GET", base + "/v1/availability?channel=web&sku=A", key, **headers)
            assert answer.status == 200, answer.body
            return answer.body["items"][0]["available"]

        def workers_seeing_the_replica_current() -> int:
            """Workers whose poller found the replica healthy (a worker polls from its first
            read on; one still booting during the writes above has not read yet)."""
            lines = [ln for ln in call("GET", base + "/metrics").body.splitlines()
                     if ln.startswith("oms_replica_healthy{") and ln.endswith(" 1.0")]
            return len({re.search(r'pid="(\d+)"', ln).group(1) for ln in lines})

        for n in range(1, 41):
            assert read(push(n)) == n, n
        pair.wait_caught_up()
        assert wait_until(lambda: read() == 40 and workers_seeing_the_replica_current() == 2,
                          30), call("GET", base + "/metrics").body
        time.sleep(0.3)  # every worker has seen the replica current, recently
        pair.pause_replay()
        token = push(99)
        assert [read() for _ in range(10)] == [40] * 10  # the replica, within 60 s of lag
        assert [read(token) for _ in range(10)] == [99] * 10  # never older than the token
        health = call("GET", base + "/healthz").body
        assert health["checks"]["replicas"]["replicas"][0]["replay_paused"] is True
        metrics = call("GET", base + "/metrics").body
        assert 'oms_availability_reads_total{server="primary"}' in metrics
        assert f'oms_availability_reads_total{{server="{svc.replica()["name"]}"}}' in metrics
    finally:
        served.process.stop()
