"""The delivery job in real `oms scheduler` processes: killed with SIGKILL in the middle of a
batch and restarted, no event is lost; two schedulers on one PostgreSQL never send one event
twice at the same time (the receiver counts each webhook-id's requests in flight)."""

from __future__ import annotations

import os
import signal
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from service.services.notifications import subscriptions
from service.store.models import Event, WebhookDelivery
from tests.processes import start, write_config
from tests.webhook_receiver import Receiver, wait_until

LANES, PER_LANE = 30, 8
FAST = ("webhooks:\n  run_seconds: 2\n  batch: 20\n  concurrency: 4\n  timeout_seconds: 1\n"
        "  poll_seconds: 0.05\n")


@pytest.fixture
def receiver():
    server = Receiver(plan=lambda _id, _nth, _path: (204, 0.02)).start()
    yield server
    server.stop()


def subscribe_and_write_events(ctx, receiver) -> set[str]:
    created = subscriptions.create(ctx, {"url": receiver.url("/p"), "events": ["order.*"]},
                                   None)
    receiver.secrets["/p"] = created["secret"]
    now = datetime.now(UTC)
    with ctx.transaction() as uow:
        rows = [Event(aggregate_type="order", aggregate_id=f"O{lane}", type="order.changed",
                      payload={"step": step}, created_at=now)
                for step in range(PER_LANE) for lane in range(LANES)]
        uow.session.add_all(rows)
        uow.session.flush()
        return {str(r.id) for r in rows}


def lanes_in_order(ctx, receiver) -> bool:
    with ctx.reading() as uow:
        lane_of = {str(i): a for i, a in uow.session.execute(
            select(Event.id, Event.aggregate_id))}
    seen, per_lane = set(), defaultdict(list)
    for r in receiver.accepted():
        if r.webhook_id not in seen:
            seen.add(r.webhook_id)
            per_lane[lane_of[r.webhook_id]].append(int(r.webhook_id))
    return all(ids == sorted(ids) for ids in per_lane.values())


def undelivered(ctx) -> int:
    with ctx.reading() as uow:
        return uow.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                  .where(WebhookDelivery.status != "delivered"))


def test_a_delivery_process_killed_mid_batch_loses_no_event(ctx, db_url, tmp_path, receiver):
    wanted = subscribe_and_write_events(ctx, receiver)
    config = write_config(tmp_path, db_url, FAST)
    first = start("scheduler-1", ["scheduler"], config)
    try:
        assert wait_until(lambda: len(receiver.accepted()) >= 40, 60), first.output()
        os.kill(first.popen.pid, signal.SIGKILL)
        first.popen.wait()
    finally:
        first.stop()
    got_before = {r.webhook_id for r in receiver.accepted()}
    assert got_before < wanted  # killed in the middle
    second = start("scheduler-2", ["scheduler"], config)
    try:
        assert wait_until(lambda: {r.webhook_id for r in receiver.accepted()} >= wanted, 90), \
            second.output()
        assert wait_until(lambda: undelivered(ctx) == 0, 30)
    finally:
        second.stop()
    assert {r.webhook_id for r in receiver.accepted()} == wanted
    assert receiver.bad_signatures == 0 and lanes_in_order(ctx, receiver)


def test_two_delivery_processes_never_send_one_event_twice_at_once(ctx, db_url, tmp_path,
                                                                  receiver):
    if not db_url.startswith("postgresql"):
        pytest.skip("one process delivers on SQLite; the race is PostgreSQL's")
    wanted = subscribe_and_write_events(ctx, receiver)
    config = write_config(tmp_path, db_url, FAST)
    processes = [start(f"scheduler-{n}", ["scheduler"], config) for n in (1, 2)]
    try:
        assert wait_until(lambda: {r.webhook_id for r in receiver.accepted()} >= wanted, 90), \
            processes[0].output()
        assert wait_until(lambda: undelivered(ctx) == 0, 30)
    finally:
        for process in processes:
            process.stop()
    assert receiver.max_in_flight_per_id == 1
    per_id = defaultdict(int)
    for r in receiver.accepted():
        per_id[r.webhook_id] += 1
    assert set(per_id) == wanted and set(per_id.values()) == {1}
    assert receiver.bad_signatures == 0 and lanes_in_order(ctx, receiver)


SLOW_LOOP = ("webhooks:\n  run_seconds: 6\n  batch: 20\n  concurrency: 4\n  timeout_seconds: 1\n"
             "  poll_seconds: 0.05\n")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_scheduler_told_to_stop_mid_delivery_ends_its_turn_within_seconds_losing_nothing(
        ctx, db_url, tmp_path, stop_signal):
    """Ctrl-C or a supervisor's SIGTERM: the delivery loop (6 s a turn here) ends at its next
    look, the requests out are answered and recorded, and the process exits cleanly (it used
    to die at once on SIGTERM, and on Ctrl-C to leave the job running into the interpreter's
    exit, which failed it); a scheduler started afterwards delivers the rest."""
    import time

    receiver = Receiver(plan=lambda _id, _nth, _path: (204, 0.05)).start()
    try:
        wanted = subscribe_and_write_events(ctx, receiver)
        config = write_config(tmp_path, db_url, SLOW_LOOP)
        first = start("scheduler-1", ["scheduler"], config)
        try:
            assert wait_until(lambda: len(receiver.accepted()) >= 20, 60), first.output()
            told = time.monotonic()
            os.kill(first.popen.pid, stop_signal)
            code = first.popen.wait(timeout=30)
            took = time.monotonic() - told
        finally:
            first.stop()
        assert took < 3.0, (took, first.output())  # the turn would have run ~5 s more
        assert code == 0  # a clean stop
        assert "stopping: running jobs finish their turn" in first.output()
        assert "Traceback" not in first.output()  # no job cut off by the interpreter's exit
        assert {r.webhook_id for r in receiver.accepted()} < wanted  # stopped mid-way
        second = start("scheduler-2", ["scheduler"], config)
        try:
            assert wait_until(lambda: undelivered(ctx) == 0, 90), second.output()
        finally:
            second.stop()
        assert {r.webhook_id for r in receiver.accepted()} == wanted
    finally:
        receiver.stop()
