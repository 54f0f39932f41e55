"""The ERP export writes every settlement record once, into files named by their batch.

On SQLite and PostgreSQL. Records come from orders shipped and cancelled over HTTP.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from service.services.settlements.exporting import export_pending
from service.store.models import SettlementRecord, SettlementWatermark
from tests.api.settlements.conftest import batches, exported_events, files, record_ids


def name(first: int, last: int, fmt: str = "ndjson") -> str:
    return f"settlements-{first:012d}-{last:012d}.{fmt}"


def test_every_record_is_written_once_as_ndjson_with_its_order_and_amount(
        stocked, settle, ctx, config, export_dir):
    orders = settle(2)
    ids = record_ids(ctx)
    assert len(ids) == 3

    written = export_pending(ctx, config)

    assert [(w["file"], w["records"], w["first_id"], w["last_id"]) for w in written] == [
        (name(ids[0], ids[-1]), 3, ids[0], ids[-1])]
    [(file, body)] = files(export_dir).items()
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert [line["id"] for line in lines] == ids
    assert [(r["kind"], r["order_id"], r["order_ref"], r["sku"], r["quantity"]) for r in lines] \
        == [("shipped", orders[0], "R-0", "A", 1), ("shipped", orders[1], "R-1", "A", 1),
            ("cancelled", orders[2], None, "B", 1)]
    first = lines[0]
    assert (first["amount"], first["currency"], first["channel"], first["location_id"]) == (
        "12.50", "EUR", "web", "ST-1")
    assert list(first) == ["id", "kind", "order_id", "order_ref", "channel", "order_line_id",
                           "sku", "quantity", "amount", "currency", "location_id",
                           "disposition", "created_at"]
    assert first["created_at"].endswith("Z") and datetime.fromisoformat(first["created_at"])


def test_the_watermark_the_records_and_an_outbox_event_commit_with_the_file(
        stocked, settle, ctx, config, export_dir):
    settle(1)
    ids = record_ids(ctx)
    [done] = export_pending(ctx, config)

    [batch] = batches(ctx)
    assert (batch.status, batch.first_id, batch.last_id, batch.file) == (
        "done", ids[0], ids[-1], done["file"])
    with ctx.sessions() as session:
        marks = session.execute(select(SettlementRecord.export_batch,
                                       SettlementRecord.exported_at)).all()
        watermark = session.scalar(select(SettlementWatermark.last_id))
    assert {m.export_batch for m in marks} == {str(batch.id)}
    assert all(m.exported_at is not None for m in marks)
    assert watermark == ids[-1]
    assert exported_events(ctx) == [{"file": done["file"], "format": "ndjson", "records": 2,
                                     "first_id": ids[0], "last_id": ids[-1]}]


def test_csv_files_have_a_header_and_the_same_fields(stocked, settle, ctx, config, export_dir):
    settle(1)
    ids = record_ids(ctx)
    [done] = export_pending(ctx, replace(config, format="csv", currency=None))

    assert done["file"] == name(ids[0], ids[-1], "csv")
    text = (export_dir / done["file"]).read_text()
    assert text.splitlines()[0] == ("id,kind,order_id,order_ref,channel,order_line_id,sku,"
                                    "quantity,amount,currency,location_id,disposition,"
                                    "created_at")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(int(r["id"]), r["kind"], r["order_ref"], r["amount"], r["currency"]) for r in rows] \
        == [(ids[0], "shipped", "R-0", "12.50", ""), (ids[1], "cancelled", "", "20.00", "")]


def test_records_settled_after_an_export_go_to_the_next_file_and_nothing_new_writes_none(
        stocked, settle, ctx, config, export_dir):
    settle(1)
    first = export_pending(ctx, config)
    settle(2, start=1)
    second = export_pending(ctx, config)

    ids = record_ids(ctx)
    assert [w["file"] for w in first] == [name(ids[0], ids[1])]
    assert [w["file"] for w in second] == [name(ids[2], ids[-1])]
    assert export_pending(ctx, config) == []
    assert sorted(files(export_dir)) == [name(ids[0], ids[1]), name(ids[2], ids[-1])]
    assert exported_events(ctx)[1]["records"] == 3


def test_a_backlog_is_split_into_files_of_at_most_max_records(
        stocked, settle, ctx, config, export_dir):
    settle(4)
    ids = record_ids(ctx)
    written = export_pending(ctx, replace(config, max_records=2))

    assert [w["file"] for w in written] == [name(ids[0], ids[1]), name(ids[2], ids[3]),
                                            name(ids[4], ids[4])]
    exported = [json.loads(line)["id"] for body in files(export_dir).values()
                for line in body.decode().splitlines()]
    assert exported == ids
