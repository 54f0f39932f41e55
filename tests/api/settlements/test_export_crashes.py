"""Exactly once: an export that dies between its file and its commit is redone into the same
file with the same bytes, and an export overtaken by another run drops its file.

On SQLite and PostgreSQL; the kill -9 runs the export in a process of its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from service.services.settlements import exporting
from service.services.settlements.exporting import export_once, export_pending
from service.store.settlements import SettlementRepository
from tests.api.settlements.conftest import batches, exported_events, files, record_ids
from tests.support import FIXTURES

ROOT = FIXTURES.parent.parent


class Crash(Exception):
    """Stands for the process dying at that point."""


def crash(*_args, **_kwargs):
    raise Crash


def exported_ids(directory) -> list[int]:
    return [json.loads(line)["id"] for body in files(directory).values()
            for line in body.decode().splitlines()]


def test_a_crash_after_the_rename_is_redone_into_the_same_file_with_the_same_bytes(
        stocked, settle, ctx, config, export_dir, monkeypatch):
    settle(2)
    with monkeypatch.context() as patched:
        patched.setattr(SettlementRepository, "finish", crash)
        with pytest.raises(Crash):
            export_pending(ctx, config)
    before = files(export_dir)
    [(file, body)] = before.items()  # renamed, but the watermark never committed
    [batch] = batches(ctx)
    assert batch.status == "pending" and exported_events(ctx) == []

    [redone] = export_pending(ctx, config)

    assert redone["file"] == file and redone["redone"] is True
    assert files(export_dir) == {file: body}
    assert exported_ids(export_dir) == record_ids(ctx)
    assert [b.status for b in batches(ctx)] == ["done"]
    assert len(exported_events(ctx)) == 1
    assert export_pending(ctx, config) == []


def test_a_crash_before_the_rename_leaves_no_file_and_the_rerun_writes_it(
        stocked, settle, ctx, config, export_dir, monkeypatch):
    settle(1)
    with monkeypatch.context() as patched:
        patched.setattr(SettlementRepository, "holds", crash)
        with pytest.raises(Crash):
            export_pending(ctx, config)
    assert files(export_dir) == {}  # the temporary file is gone with the failed run

    [redone] = export_pending(ctx, config)
    assert list(files(export_dir)) == [redone["file"]]
    assert exported_ids(export_dir) == record_ids(ctx)


KILLED_EXPORT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from service.bootstrap import build_context
    from service.services.settlements import exporting
    from service.settings import settings_from_dict
    from service.store.settlements import SettlementRepository

    url, rulesets, directory, point = sys.argv[1:]
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(SettlementRepository, point, die)
    ctx = build_context(settings_from_dict({"database_url": url, "rulesets": {
        "directory": rulesets, "active": "ledger@1"}}))
    exporting.export_pending(ctx, exporting.ExportConfig(Path(directory), "ndjson", 2, "EUR"))
""")


def killed_export(db_url, export_dir, point: str) -> int:
    """Run an export in a new process that is killed (SIGKILL) at `point`; its exit code."""
    return subprocess.run(
        [sys.executable, "-c", KILLED_EXPORT, db_url, str(FIXTURES / "rulesets"),
         str(export_dir), point],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120).returncode


@pytest.mark.parametrize("point", ["finish", "holds"])
def test_an_export_killed_between_file_and_watermark_is_redone_exactly(
        stocked, settle, ctx, config, export_dir, db_url, point):
    settle(2)  # three records: a file of two, then one of one
    assert killed_export(db_url, export_dir, point) == -signal.SIGKILL
    left = {n: b for n, b in files(export_dir).items() if not n.startswith(".")}
    [pending] = batches(ctx)
    assert pending.status == "pending" and pending.records == 2

    written = export_pending(ctx, exporting.ExportConfig(export_dir, "ndjson", 2, "EUR"))

    assert [w["file"] for w in written][0] == pending.file and written[0]["redone"]
    after = files(export_dir)
    assert all(after[n] == b for n, b in left.items())  # a file that was there: same bytes
    assert not [n for n in after if n.startswith(".")]  # the dead run's temp file removed
    assert exported_ids(export_dir) == record_ids(ctx)  # every record, once
    assert len(exported_events(ctx)) == len(after) == 2


def test_a_run_overtaken_by_another_drops_its_file_and_commits_nothing(
        stocked, settle, ctx, config, export_dir, monkeypatch):
    settle(1)
    real_write, overtaker = exporting._write_synced, []

    def write_then_be_overtaken(path, body):
        real_write(path, body)
        if not overtaker:  # another run claims the same batch and finishes it first
            overtaker.append(None)
            overtaker.append(export_once(ctx, config))

    monkeypatch.setattr(exporting, "_write_synced", write_then_be_overtaken)
    assert export_once(ctx, config) is None
    finished = overtaker[1]
    assert finished is not None and finished["redone"]
    assert list(files(export_dir)) == [finished["file"]]
    assert exported_ids(export_dir) == record_ids(ctx)
    assert len(exported_events(ctx)) == 1
