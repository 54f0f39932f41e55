"""The order tables get statistics while they are young, so foreign-key checks are replanned
for their real size (PostgreSQL; SQLite plans every statement afresh)."""

import pytest
from sqlalchemy import text

from service.store import table_stats


def pages_and_planned_pages(ctx, table: str) -> tuple[int, int]:
    with ctx.engine.connect() as conn:
        return conn.execute(text(  # a partitioned table's: its partitions' (events, 0026)
            "SELECT sum(pg_relation_size(c.oid)) / current_setting('block_size')::int,"
            " sum(c.relpages) FROM pg_partition_tree(to_regclass(:t)) AS p"
            " JOIN pg_class AS c ON c.oid = p.relid WHERE p.isleaf"), {"t": table}).one()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_table_that_more_than_doubled_is_analyzed_once_and_then_left_alone(ctx):
    table_stats.analyze_grown(ctx.engine)  # whatever earlier tests left behind
    assert table_stats.analyze_grown(ctx.engine) == []
    while True:  # grow events past twice the size its statistics know
        with ctx.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO events (aggregate_type, aggregate_id, type, payload, created_at,"
                " attempts) SELECT 'order', 'o' || i, 'created', '{}', now(), 0"
                " FROM generate_series(1, 2000) AS i"))
        pages, planned = pages_and_planned_pages(ctx, "events")
        if pages > 2 * planned:
            break
    analyzed = table_stats.analyze_grown(ctx.engine)  # the grown partition (events, 0026)
    assert analyzed and all(name.startswith("events_p") for name in analyzed)
    assert pages_and_planned_pages(ctx, "events")[1] == pages
    assert table_stats.analyze_grown(ctx.engine) == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_there_is_nothing_to_analyze(ctx):
    assert table_stats.analyze_grown(ctx.engine) == []
