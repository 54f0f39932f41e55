"""The scheduler's settlements.export job and the `oms settlements` commands.

On SQLite and PostgreSQL: the job runs through run_once (its lease) and through a real
APScheduler; the CLI runs in-process on a config file of its own.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from service.cli import main
from service.scheduler import add_jobs, job_specs, run_once
from service.settings import ConfigError, settings_from_dict
from tests.api.settlements.conftest import exported_events, files, record_ids
from tests.integration.feeds.test_scheduling import together
from tests.processes import write_config


@pytest.fixture
def settings(db_url, tmp_path, rulesets_dir, active_ruleset):
    """The test settings with the export on, every second, into tmp_path/erp."""
    return settings_from_dict(
        {"database_url": db_url,
         "rulesets": {"directory": str(rulesets_dir), "active": active_ruleset,
                      "reload_seconds": 1},
         "settlements": {"export_dir": str(tmp_path / "erp"), "every_seconds": 1,
                         "format": "csv", "max_records_per_file": 2}},
        base_dir=tmp_path)


def export_spec(ctx):
    return next(s for s in job_specs(ctx) if s.name == "settlements.export")


def test_the_export_is_a_scheduler_job_on_its_interval(ctx):
    spec = export_spec(ctx)
    assert isinstance(spec.trigger(), IntervalTrigger) and spec.every_seconds == 1


def test_without_an_export_dir_there_is_no_export_job(ctx, settings):
    off = settings_from_dict({k: v for k, v in settings.raw.items() if k != "settlements"})
    ctx.settings = off
    assert "settlements.export" not in {s.name for s in job_specs(ctx)}


def test_a_crontab_line_schedules_the_export_and_a_bad_one_is_refused(ctx, settings):
    raw = dict(settings.raw)
    ctx.settings = settings_from_dict(raw | {"settlements": raw["settlements"] | {
        "cron": "0 2 * * *"}})
    assert isinstance(export_spec(ctx).trigger(), CronTrigger)
    with pytest.raises(ConfigError, match="settlements.cron"):
        settings_from_dict(raw | {"settlements": {"export_dir": "x", "cron": "every day"}})
    with pytest.raises(ConfigError, match="settlements.format"):
        settings_from_dict(raw | {"settlements": {"export_dir": "x", "format": "xml"}})


def test_a_job_firing_exports_in_the_configured_format_and_two_schedulers_run_it_once(
        stocked, settle, ctx, tmp_path):
    settle(2)
    ran = together(2, lambda i: run_once(ctx, export_spec(ctx), owner=f"scheduler-{i}"))
    assert sorted(ran) == [False, True]
    ids = record_ids(ctx)
    assert sorted(files(tmp_path / "erp")) == [
        f"settlements-{ids[0]:012d}-{ids[1]:012d}.csv", f"settlements-{ids[2]:012d}-"
                                                         f"{ids[2]:012d}.csv"]


def test_apscheduler_runs_the_export_job(stocked, settle, ctx, tmp_path):
    settle(1)
    scheduler = BackgroundScheduler(timezone="UTC")
    assert "settlements.export" in add_jobs(scheduler, ctx, owner="apscheduler-test")
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while len(exported_events(ctx)) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert len(exported_events(ctx)) == 1
    assert list(files(tmp_path / "erp"))[0].endswith(".csv")


def test_oms_settlements_export_now_writes_and_prints_the_files(
        stocked, settle, ctx, db_url, tmp_path, capsys):
    settle(1)
    folder = tmp_path / "cli"
    folder.mkdir()
    config = write_config(folder, db_url, "settlements:\n  export_dir: out\n")

    assert main(["--config", str(config), "settlements", "export", "--now"]) == 0
    printed = capsys.readouterr().out
    ids = record_ids(ctx)
    name = f"settlements-{ids[0]:012d}-{ids[1]:012d}.ndjson"
    assert (folder / "out" / name).is_file()  # relative to the config file
    assert str(folder / "out" / name) in printed and f"{ids[0]}-{ids[1]}" in printed

    assert main(["--config", str(config), "settlements", "export", "--now"]) == 0
    assert "nothing new" in capsys.readouterr().out
    assert main(["--config", str(config), "settlements", "list"]) == 0
    listed = capsys.readouterr().out
    assert name in listed and f"exported through record {ids[1]}" in listed


def test_oms_settlements_export_without_an_export_dir_says_so(ctx, db_url, tmp_path, capsys):
    config = write_config(Path(tmp_path), db_url)
    assert main(["--config", str(config), "settlements", "export", "--now"]) == 1
    assert "settlements.export_dir" in capsys.readouterr().err
