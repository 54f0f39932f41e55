"""PostgreSQL: statistics for the order tables while they are young and growing fast.

Each connection plans its foreign-key checks at its first use and keeps the plan until the
referenced table's statistics change. On a new database the order tables are empty, so those
checks are planned as scans of them, and every order gets slower as they grow, until
autovacuum analyzes them (after 50 rows and 10% growth, checked once a minute by default).
The scheduler's `tables.analyze` job closes that window: a watched table that is still small
is analyzed whenever it has more than doubled since its statistics were taken, so each
connection plans its checks again for the table's real size. A partitioned table (orders,
events on PostgreSQL) is watched partition by partition: this month's is the young one.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

WATCHED = ("orders", "order_lines", "fulfilments", "fulfilment_lines", "events",
           "reservations", "reservation_deadlines", "variant_availability")
SMALL_PAGES = 1000  # above this, autovacuum's own thresholds keep the statistics current


def analyze_grown(engine: Engine) -> list[str]:
    """ANALYZE each watched table under SMALL_PAGES pages whose size more than doubled since
    its statistics were taken (or that has rows and never had statistics); their names."""
    if engine.dialect.name != "postgresql":
        return []  # SQLite plans each statement with what it finds
    analyzed = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        grown = conn.execute(text(  # a partitioned table's rows are in its partitions
            "SELECT c.oid::regclass::text FROM unnest(CAST(:tables AS text[])) AS t,"
            " LATERAL (SELECT to_regclass(t) AS relid UNION ALL SELECT relid"
            " FROM pg_partition_tree(to_regclass(t)) WHERE isleaf) AS leaf"
            " JOIN pg_class AS c ON c.oid = leaf.relid"
            " WHERE c.relkind = 'r' AND c.relpages < :small AND pg_relation_size(c.oid)"
            " > 2 * c.relpages * current_setting('block_size')::bigint"),
            {"tables": list(WATCHED), "small": SMALL_PAGES}).scalars().all()
        for table in grown:  # WATCHED tables or their partitions
            conn.execute(text(f"ANALYZE {table}"))
            analyzed.append(table)
    return analyzed
