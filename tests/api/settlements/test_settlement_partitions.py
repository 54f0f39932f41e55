"""Retention of settlement_records partitions (PostgreSQL): an old partition goes only once
every record in it was exported; one record not yet exported keeps it."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from service.services.operations import partitions
from service.services.settlements.exporting import export_pending
from service.settings import settings_from_dict
from service.store import partitions as store
from tests.api.settlements.conftest import record_ids

OLD = (datetime(2021, 6, 1), datetime(2021, 7, 1))
PARTITION = "settlement_records_p20210601"


@pytest.fixture
def settings(db_url, tmp_path, rulesets_dir, active_ruleset):
    return settings_from_dict(
        {"database_url": db_url, "partitions": {"settlements_retention_days": 30},
         "rulesets": {"directory": str(rulesets_dir), "active": active_ruleset}},
        base_dir=tmp_path)


@pytest.fixture
def old_partition(ctx):
    """A settlement_records partition for June 2021 (PostgreSQL only)."""
    if not partitions.supported(ctx):
        pytest.skip("partitions exist on PostgreSQL only")
    store.create_ahead(ctx.engine, store.SETTLEMENT_RECORDS, [OLD])
    return PARTITION


def settled_in_june_2021(ctx, ids: list[int]) -> None:
    """Date the records back (their rows move into the June 2021 partition)."""
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE settlement_records SET created_at = '2021-06-10'"
                          " WHERE id = ANY(:ids)"), {"ids": ids})


def partition_of(ctx, record_id: int) -> str:
    with ctx.engine.connect() as conn:
        return conn.scalar(text("SELECT tableoid::regclass::text FROM settlement_records"
                                " WHERE id = :i"), {"i": record_id})


def test_an_old_partition_is_kept_until_every_record_in_it_was_exported(
        stocked, settle, config, old_partition):
    settle(1)
    first = record_ids(stocked)
    settled_in_june_2021(stocked, first)
    assert {partition_of(stocked, i) for i in first} == {PARTITION}
    assert PARTITION in partitions.maintain(stocked).kept  # nothing exported yet
    export_pending(stocked, config)
    settle(1, start=1)
    late = [i for i in record_ids(stocked) if i not in first]
    settled_in_june_2021(stocked, late[:1])  # one record not yet exported joins them
    result = partitions.maintain(stocked)
    assert PARTITION in result.kept and PARTITION not in result.retired
    assert set(first) <= set(record_ids(stocked))
    export_pending(stocked, config)
    assert PARTITION in partitions.maintain(stocked).retired
    remaining = record_ids(stocked)
    assert remaining == late[1:]  # the June 2021 records went with their partition
    assert PARTITION not in [p.name for p in store.partitions_of(stocked.engine,
                                                                  "settlement_records")]
