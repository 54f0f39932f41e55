"""Exporters at once: never the same record twice, together every record.

Each exporter has its own engine (its own connections), as separate processes would. On
PostgreSQL a record whose transaction commits after a later id's is waited for, not skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.bootstrap import build_context
from service.services.settlements.exporting import export_pending
from service.store.db import make_engine
from service.store.models import OrderLineRow, SettlementRecord
from tests.api.settlements.conftest import batches, exported_events, files, record_ids
from tests.integration.feeds.test_scheduling import together
from tests.processes import OMS, write_config


def exported_ids(directory) -> list[int]:
    return [json.loads(line)["id"] for body in files(directory).values()
            for line in body.decode().splitlines()]


def test_four_exporters_at_once_write_every_record_exactly_once(
        stocked, settle, ctx, settings, db_url, config, export_dir):
    engines = [make_engine(db_url) for _ in range(4)]
    contexts = [build_context(settings, engine=engine) for engine in engines]
    small = replace(config, max_records=1)
    try:
        for round_ in range(3):
            settle(2, start=2 * round_)
            ran = together(4, lambda i: export_pending(contexts[i], small))
            assert all(isinstance(files_written, list) for files_written in ran)  # no errors
    finally:
        for engine in engines:
            engine.dispose()

    ids = record_ids(ctx)
    assert len(ids) == 9
    assert sorted(exported_ids(export_dir)) == ids  # each record in exactly one file
    assert not [n for n in files(export_dir) if n.startswith(".")]
    done = batches(ctx)
    assert [b.status for b in done] == ["done"] * 9
    assert sorted(b.file for b in done) == sorted(files(export_dir))
    assert len(exported_events(ctx)) == 9


def test_two_oms_processes_exporting_at_once_write_every_record_once(
        stocked, settle, ctx, db_url, tmp_path):
    settle(6)
    config = write_config(tmp_path, db_url,
                          "settlements:\n  export_dir: erp\n  max_records_per_file: 1\n")
    command = [*OMS, "--config", str(config), "settlements", "export", "--now"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=dict(os.environ)) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], outputs
    ids = record_ids(ctx)
    assert len(ids) == 7
    assert sorted(exported_ids(tmp_path / "erp")) == ids
    assert len(files(tmp_path / "erp")) == len(exported_events(ctx)) == 7
    printed = [{word.rsplit("/", 1)[-1] for word in out.split() if "settlements-" in word}
               for out, _err in outputs]
    assert not printed[0] & printed[1]  # each file committed by one process
    assert printed[0] | printed[1] == set(files(tmp_path / "erp"))


def test_a_record_committed_after_a_later_id_is_waited_for_not_skipped(
        stocked, settle, ctx, db_engine, config, export_dir):
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: ids commit in order there")
    settle(1)
    with ctx.sessions() as session:
        line = session.scalars(select(OrderLineRow)).first()
    result: list = []
    exporter = threading.Thread(target=lambda: result.append(export_pending(ctx, config)))
    with Session(db_engine) as slow:
        slow.begin()
        slow.add(record(line))
        slow.flush()  # takes the smaller id, commits last
        with Session(db_engine) as fast, fast.begin():
            fast.add(record(line))
        exporter.start()
        time.sleep(0.5)
        waited = exporter.is_alive()  # waiting for the open transaction's records
        slow.commit()
    exporter.join(30)
    assert waited

    ids = record_ids(ctx)
    assert len(ids) == 4
    assert exported_ids(export_dir) == ids
    assert [(w["first_id"], w["last_id"]) for w in result[0]] == [(ids[0], ids[-1])]


def record(line: OrderLineRow) -> SettlementRecord:
    return SettlementRecord(kind="shipped", order_id=line.order_id, order_line_id=line.id,
                            sku=line.sku, location_id="ST-1", quantity=1, amount=1,
                            created_at=datetime.now(UTC))
