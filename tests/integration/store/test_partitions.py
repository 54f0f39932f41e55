"""Time partitions of events and inventory_journal (PostgreSQL), the partitions.maintain job
and its retention: a partition goes only when nothing in it is needed any more, and once,
with several schedulers. SQLite has no partitions: the job says so and changes nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from service.bootstrap import build_context
from service.cli import main
from service.clock import MovableClock
from service.scheduler import job_specs, run_once
from service.services.operations import partitions
from service.settings import settings_from_dict
from service.store import partitions as store
from tests.integration.feeds.test_scheduling import together
from tests.processes import write_config

RETENTION = {"interval": "month", "ahead": 2, "every_seconds": 600,
             "events_retention_days": 30, "journal_retention_days": 30,
             "settlements_retention_days": 30}


@pytest.fixture
def settings(db_url, tmp_path, rulesets_dir, active_ruleset):
    return settings_from_dict(
        {"database_url": db_url, "partitions": RETENTION,
         "rulesets": {"directory": str(rulesets_dir), "active": active_ruleset}},
        base_dir=tmp_path)


@pytest.fixture
def pg(ctx):
    """The context, on PostgreSQL only (SQLite has no partitions to test)."""
    if not partitions.supported(ctx):
        pytest.skip("partitions exist on PostgreSQL only")
    return ctx


def add_event(engine, at: datetime, routed: bool = True) -> int:
    with engine.begin() as conn:
        return conn.scalar(text(
            "INSERT INTO events (aggregate_type, aggregate_id, type, payload, created_at,"
            " attempts, delivered_at) VALUES ('order', 'o-1', 'order.placed', '{}', :at, 0,"
            " :routed) RETURNING id"), {"at": at, "routed": at if routed else None})


def add_delivery(engine, event_id: int, status: str) -> int:
    now = datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO webhook_subscriptions (id, url, events, secret_encrypted, source,"
            " created_at) VALUES ('sub-1', 'http://127.0.0.1:9/hook', '[\"*\"]', 'x', 'api',"
            " :now) ON CONFLICT DO NOTHING"), {"now": now})
        delivery = conn.scalar(text(
            "INSERT INTO webhook_deliveries (subscription_id, event_id, order_key, status,"
            " attempts, next_attempt_at, created_at) VALUES ('sub-1', :e, 'o-1', :s, 1, :now,"
            " :now) RETURNING id"), {"e": event_id, "s": status, "now": now})
        conn.execute(text(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, outcome, latency_ms)"
            " VALUES (:d, 1, :now, 'delivered', 5)"), {"d": delivery, "now": now})
        return delivery


def add_journal(engine, at: datetime) -> int:
    with engine.begin() as conn:
        return conn.scalar(text(
            "INSERT INTO inventory_journal (at, location_id, sku, cause, refs, on_hand_before,"
            " on_hand_after, allocated_before, allocated_after, reserved_before,"
            " reserved_after) VALUES (:at, 'DC-1', 'A', 'test', '{}', 0, 1, 0, 0, 0, 0)"
            " RETURNING id"), {"at": at})


def partition_of(engine, table: str, row_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(text(f"SELECT tableoid::regclass::text FROM {table} WHERE id = :i"),
                           {"i": row_id})


def names(engine, table: str) -> list[str]:
    return [p.name for p in store.partitions_of(engine, table)]


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(text(f"SELECT count(*) FROM {table}"))


def make_partition(engine, table, start: datetime, end: datetime) -> None:
    store.create_ahead(engine, table, [(start, end)])


def test_partitions_maintain_is_a_scheduler_job_on_its_interval(ctx):
    spec = next(s for s in job_specs(ctx) if s.name == "partitions.maintain")
    assert spec.every_seconds == 600


def test_on_sqlite_the_job_is_a_no_op_that_says_so(ctx, caplog):
    if partitions.supported(ctx):
        pytest.skip("the SQLite leg")
    add_event(ctx.engine, datetime(2020, 1, 5))
    with caplog.at_level("INFO"):
        done = partitions.maintain(ctx)
    assert not done.supported and done.created == done.retired == []
    assert "SQLite" in caplog.text and "nothing to maintain" in caplog.text
    assert partitions.listing(ctx) == [] and count(ctx.engine, "events") == 1


def test_inserts_land_in_the_partition_of_their_month(pg):
    now = datetime.now(UTC).replace(tzinfo=None)
    event, entry = add_event(pg.engine, now), add_journal(pg.engine, now)
    assert partition_of(pg.engine, "events", event) == f"events_p{now:%Y%m}01"
    assert partition_of(pg.engine, "inventory_journal", entry) == (
        f"inventory_journal_p{now:%Y%m}01")
    later = add_event(pg.engine, now)
    assert later > event  # one sequence: ids still unique and increasing


def test_a_row_with_no_partition_of_its_own_lands_in_default_and_moves_when_its_month_gets_one(
        pg):
    far = datetime(2099, 5, 17, 12, 0)
    event = add_event(pg.engine, far)
    assert partition_of(pg.engine, "events", event) == "events_default"
    make_partition(pg.engine, store.EVENTS, datetime(2099, 5, 1), datetime(2099, 6, 1))
    assert partition_of(pg.engine, "events", event) == "events_p20990501"
    assert count(pg.engine, "events_default") == 0


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def test_a_future_period_gets_a_partition_from_the_job(pg, clock):
    clock.advance(150 * 86400)  # five months on: that month and two after it are made
    month = clock.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    partitions.maintain(pg)
    assert f"events_p{month:%Y%m%d}" in names(pg.engine, "events")
    assert f"inventory_journal_p{month:%Y%m%d}" in names(pg.engine, "inventory_journal")
    assert f"settlement_records_p{month:%Y%m%d}" in names(pg.engine, "settlement_records")
    assert partitions.maintain(pg).created == []  # made once: a second run finds them


def test_the_job_also_makes_the_months_ahead_of_orders(pg, clock):
    clock.advance(400 * 86400)  # orders are partitioned by month of their time-ordered ids
    month = clock.now().replace(day=1)
    created = partitions.maintain(pg).created
    assert f"orders_p{month:%Y_%m}" in created
    with pg.engine.connect() as conn:
        assert conn.scalar(text("SELECT to_regclass(:n)"), {"n": f"orders_p{month:%Y_%m}"})
    assert partitions.maintain(pg).created == []


def test_an_old_partition_whose_events_were_all_delivered_is_retired_with_its_deliveries(pg):
    make_partition(pg.engine, store.EVENTS, datetime(2021, 1, 1), datetime(2021, 2, 1))
    done_event = add_event(pg.engine, datetime(2021, 1, 10))
    add_delivery(pg.engine, done_event, "delivered")
    add_delivery(pg.engine, add_event(pg.engine, datetime(2021, 1, 11)), "dead")
    recent = add_event(pg.engine, datetime.now(UTC).replace(tzinfo=None))
    result = partitions.maintain(pg)
    assert "events_p20210101" in result.retired
    assert "events_p20210101" not in names(pg.engine, "events")
    assert count(pg.engine, "webhook_deliveries") == count(pg.engine, "webhook_attempts") == 0
    assert partition_of(pg.engine, "events", recent) is not None


@pytest.mark.parametrize("status", ["queued", "pending", "in_flight", "failed"])
def test_an_old_partition_holding_one_event_not_yet_delivered_is_kept(pg, status):
    make_partition(pg.engine, store.EVENTS, datetime(2021, 3, 1), datetime(2021, 4, 1))
    add_delivery(pg.engine, add_event(pg.engine, datetime(2021, 3, 2)), "delivered")
    waiting = add_event(pg.engine, datetime(2021, 3, 30))
    add_delivery(pg.engine, waiting, status)
    result = partitions.maintain(pg)
    assert "events_p20210301" in result.kept and "events_p20210301" not in result.retired
    assert partition_of(pg.engine, "events", waiting) == "events_p20210301"
    assert count(pg.engine, "webhook_deliveries") == 2


def test_an_old_partition_holding_one_event_not_yet_routed_is_kept(pg):
    make_partition(pg.engine, store.EVENTS, datetime(2021, 5, 1), datetime(2021, 6, 1))
    add_event(pg.engine, datetime(2021, 5, 3))
    unrouted = add_event(pg.engine, datetime(2021, 5, 4), routed=False)
    assert "events_p20210501" in partitions.maintain(pg).kept
    assert partition_of(pg.engine, "events", unrouted) == "events_p20210501"


def test_journal_partitions_past_retention_are_retired_and_younger_ones_kept(pg):
    make_partition(pg.engine, store.INVENTORY_JOURNAL, datetime(2021, 1, 1),
                   datetime(2021, 2, 1))
    add_journal(pg.engine, datetime(2021, 1, 20))
    young = add_journal(pg.engine, datetime.now(UTC).replace(tzinfo=None))
    result = partitions.maintain(pg)
    assert "inventory_journal_p20210101" in result.retired
    assert partition_of(pg.engine, "inventory_journal", young) is not None
    assert count(pg.engine, "inventory_journal") == 1


def test_without_a_retention_nothing_is_retired(pg, settings):
    pg.settings = settings_from_dict({**settings.raw, "partitions": {"ahead": 2}})
    make_partition(pg.engine, store.INVENTORY_JOURNAL, datetime(2021, 7, 1),
                   datetime(2021, 8, 1))
    add_journal(pg.engine, datetime(2021, 7, 2))
    assert partitions.maintain(pg).retired == []
    assert "inventory_journal_p20210701" in names(pg.engine, "inventory_journal")


def test_two_schedulers_at_once_retire_each_partition_once(pg, settings):
    for month in (9, 10, 11):
        make_partition(pg.engine, store.EVENTS, datetime(2021, month, 1),
                       datetime(2021, month + 1, 1))
        add_delivery(pg.engine, add_event(pg.engine, datetime(2021, month, 5)), "delivered")
    others = [build_context(settings) for _ in range(2)]
    spec = next(s for s in job_specs(pg) if s.name == "partitions.maintain")
    results: list[dict] = []
    lock = threading.Lock()

    def recording(ctx):
        done = partitions.maintain_job(ctx)
        with lock:
            results.append(done)

    traced = type(spec)(spec.name, recording, every_seconds=spec.every_seconds)
    ran = together(2, lambda i: run_once(others[i], traced, owner=f"scheduler-{i}"))
    assert sorted(ran) == [False, True]  # the lease: one firing, one run
    [done] = results
    assert sorted(n for n in done["retired"] if n.startswith("events_")) == [
        "events_p20210901", "events_p20211001", "events_p20211101"]
    for other in others:
        other.engine.dispose()


def test_two_maintenance_runs_racing_without_a_lease_retire_each_partition_once(pg, settings):
    for month in (3, 4):
        make_partition(pg.engine, store.EVENTS, datetime(2022, month, 1),
                       datetime(2022, month + 1, 1))
        add_delivery(pg.engine, add_event(pg.engine, datetime(2022, month, 5)), "dead")
    others = [build_context(settings) for _ in range(3)]
    runs = together(3, lambda i: partitions.maintain(others[i]))
    retired = sorted(name for run in runs for name in run.retired if name.startswith("events_"))
    assert retired == ["events_p20220301", "events_p20220401"]
    assert not {"events_p20220301", "events_p20220401"} & set(names(pg.engine, "events"))
    for other in others:
        other.engine.dispose()


def test_the_listing_names_every_partition_with_its_bounds(pg):
    listed = partitions.listing(pg)
    tables = {row["table"] for row in listed}
    assert tables == {"events", "inventory_journal", "settlement_records"}
    defaults = [row for row in listed if row["from"] is None]
    assert sorted(row["partition"] for row in defaults) == [
        "events_default", "inventory_journal_default", "settlement_records_default"]
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0,
                                      tzinfo=None)
    [current] = [row for row in listed if row["partition"] == f"events_p{month:%Y%m%d}"]
    assert current["table"] == "events" and current["from"] == month
    assert current["to"] == month.replace(year=month.year + month.month // 12,
                                          month=month.month % 12 + 1)


def test_oms_db_partitions_lists_them_and_maintain_runs_the_job_now(ctx, db_url, tmp_path,
                                                                     capsys):
    config = write_config(tmp_path, db_url, "partitions:\n  journal_retention_days: 30\n")
    if not partitions.supported(ctx):
        assert main(["--config", str(config), "db", "partitions", "--maintain"]) == 0
        assert "nothing to maintain" in capsys.readouterr().out
        return
    make_partition(ctx.engine, store.INVENTORY_JOURNAL, datetime(2022, 1, 1),
                   datetime(2022, 2, 1))
    add_journal(ctx.engine, datetime(2022, 1, 9))
    assert main(["--config", str(config), "db", "partitions"]) == 0
    listed = capsys.readouterr().out
    assert "inventory_journal_p20220101" in listed and "events_default" in listed
    assert "2022-01-01 00:00:00" in listed and "DEFAULT" in listed
    assert main(["--config", str(config), "db", "partitions", "--maintain"]) == 0
    printed = capsys.readouterr().out
    assert "retired: " in printed and "inventory_journal_p20220101" in printed.split(
        "retired: ")[1].splitlines()[0]


def test_a_partition_whose_table_stays_locked_is_left_for_the_next_run(pg):
    make_partition(pg.engine, store.INVENTORY_JOURNAL, datetime(2022, 5, 1),
                   datetime(2022, 6, 1))
    add_journal(pg.engine, datetime(2022, 5, 2))
    with pg.engine.connect() as reader:  # a long reader of the journal holds its lock
        reader.execute(text("SELECT count(*) FROM inventory_journal"))
        result = partitions.maintain(pg)  # waits LOCK_TIMEOUT (5 s), then gives up
        reader.rollback()
    assert "inventory_journal_p20220501" in result.busy
    assert "inventory_journal_p20220501" in partitions.maintain(pg).retired
