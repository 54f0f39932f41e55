"""Feeds in the scheduler: one job per scheduled feed, each firing run once across processes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from service.scheduler import job_specs, run_once
from service.services.feeds.running import run_feed
from service.store.models import FeedRun
from tests.integration.feeds.helpers import T1, csv_text, on_hand, remembered


def together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in count threads released at the same moment; their results."""
    barrier, results = threading.Barrier(count), [None] * count

    def start(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def runs_of(ctx, feed: str) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(FeedRun)
                              .where(FeedRun.feed == feed))


def test_each_scheduled_feed_gets_a_job_beside_the_standing_ones(ctx):
    specs = {spec.name: spec for spec in job_specs(ctx)}
    assert {"rulesets.reload", "reservations.expire", "tables.analyze", "fulfilments.expire",
            "orders.backorders", "orders.backorders.sweep", "transfers.arrivals",
            "webhooks.deliver", "feeds.counts",
            "feeds.deltas", "partitions.maintain"} == set(specs)
    assert isinstance(specs["feeds.counts"].trigger(), IntervalTrigger)
    assert specs["feeds.counts"].every_seconds == 60
    assert isinstance(specs["feeds.deltas"].trigger(), CronTrigger)


def test_a_feed_job_runs_the_feed(small_network, drop):
    drop("counts", "1.csv", csv_text("sku,on_hand,as_of", f"A,4,{T1}"))
    spec = next(s for s in job_specs(small_network) if s.name == "feeds.counts")
    assert run_once(small_network, spec, owner="p1")
    assert on_hand(small_network, "DC-1", "A") == 4


def test_two_schedulers_racing_run_a_feed_firing_once(small_network, drop):
    drop("deltas", "1.ndjson", json.dumps({"location": "DC-1", "sku": "A", "adjust": 5,
                                           "as_of": T1}))
    spec = next(s for s in job_specs(small_network) if s.name == "feeds.deltas")
    ran = together(2, lambda i: run_once(small_network, spec, owner=f"scheduler-{i}"))
    assert sorted(ran) == [False, True]
    assert runs_of(small_network, "deltas") == 1
    assert on_hand(small_network, "DC-1", "A") == 5


def test_a_manual_run_racing_the_scheduler_applies_a_file_once(small_network, drop):
    drop("deltas", "1.ndjson", json.dumps({"location": "DC-1", "sku": "A", "adjust": 5,
                                           "as_of": T1}))
    runs = together(4, lambda _i: run_feed(small_network, "deltas"))
    assert sum(len(r) for r in runs) == 1
    assert remembered(small_network, "deltas") == 1
    assert on_hand(small_network, "DC-1", "A") == 5
