"""Several processes on one database: each job firing runs once."""

import threading
import time

import pytest

from service.clock import MovableClock
from service.scheduler import JobSpec, run_once
from service.services.operations.jobs import claim
from service.store.models import JobLease


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


def renewed_past(ctx, job: str, moment) -> bool:
    """Whether the job's lease now runs out after `moment` (polls up to 5 s of real time)."""
    for _ in range(100):
        with ctx.sessions() as session:
            lease = session.get(JobLease, job)
            if lease is not None and lease.expires_at > moment:
                return True
        time.sleep(0.05)
    return False


def test_a_run_longer_than_its_lease_keeps_other_processes_out(ctx, clock):
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
    clock.advance(2.0)  # well past the first 0.9 s lease: only renewal keeps it
    assert renewed_past(ctx, "slow-job", clock.now())  # the keeper renews every 0.3 s
    assert not run_once(ctx, JobSpec("slow-job", lambda _c: runs.append("second"),
                                     every_seconds=1), owner="second")
    finish.set()
    worker.join()
    assert runs == ["slow"]
