"""Several processes on one database: each job firing runs once."""

import threading
import time

import pytest

from service.clock import MovableClock
from service.scheduler import JobSpec, run_once
from service.services.operations.jobs import claim


def test_a_live_lease_keeps_other_owners_out(ctx):
    assert claim(ctx, "job", "a", 60)
    assert not claim(ctx, "job", "b", 60)
    assert claim(ctx, "job", "a", 60)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def test_an_expired_lease_can_be_taken_over(ctx, clock):
    assert claim(ctx, "job", "a", 60)
    clock.advance(59)
    assert not claim(ctx, "job", "b", 60)
    clock.advance(2)
    assert claim(ctx, "job", "b", 60)


def test_concurrent_schedulers_run_a_firing_once(ctx):
    runs = []
    spec = JobSpec("count", lambda _ctx: runs.append(1), every_seconds=60)
    barrier = threading.Barrier(6)

    def fire(owner):
        barrier.wait()
        run_once(ctx, spec, owner=owner)

    threads = [threading.Thread(target=fire, args=(f"p{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 1


def test_a_run_longer_than_its_lease_keeps_other_processes_out(ctx):
    started, finish = threading.Event(), threading.Event()
    runs = []

    def slow(_ctx):
        runs.append("slow")
        started.set()
        finish.wait(10)

    spec = JobSpec("slow-job", slow, every_seconds=1)  # a 0.9 s lease
    worker = threading.Thread(target=run_once, args=(ctx, spec, "first"))
    worker.start()
    started.wait(5)
    time.sleep(2.0)  # well past the first lease: only renewal keeps it
    assert not run_once(ctx, JobSpec("slow-job", lambda _c: runs.append("second"),
                                     every_seconds=1), owner="second")
    finish.set()
    worker.join()
    assert runs == ["slow"]
