"""PostgreSQL working memory for a snapshot's set-based diff, sized to the rows it compares.

The diff is one hash join of the staged rows (or counts) with their locations' positions.
When the hashed side does not fit the hash's memory (work_mem times the server's
hash_mem_multiplier), PostgreSQL splits the join into batches written to temporary files:
at 10M positions the fixed 256MB made two batches and some 720 MB of temporary files, read
back once more (issue 18). So the transaction's work_mem is sized to the rows:
HASHED_ROW_BYTES each, never below the caller's floor (what it used before sizing, so
smaller files plan as they did) and never above the configured most
(``inventory.snapshot_work_mem_max_mb``).

A hash takes only the memory its rows need (about 90 bytes a position measured at 1M and
10M), whatever work_mem allows: the setting is a ceiling, not an allocation. The planner
chooses the batches from its own estimate (tuple header, the row's width and a bucket
pointer, some 100 bytes a row here), hence 128 bytes a row: one batch with a margin.
"""

from __future__ import annotations

HASHED_ROW_BYTES = 128  # the planner's ~100 bytes a hashed position, with a margin
DEFAULT_MAX_MB = 1024  # config.yaml's inventory.snapshot_work_mem_max_mb, when not given
_MB = 1 << 20


def sized_mb(rows: int, floor_mb: int, max_mb: int = DEFAULT_MAX_MB) -> int:
    """Megabytes of work_mem for a hash join of ``rows`` rows: HASHED_ROW_BYTES a row,
    at least floor_mb, at most max_mb (the most wins over the floor)."""
    wanted = -(-max(rows, 0) * HASHED_ROW_BYTES // _MB)  # rounded up
    return min(max_mb, max(floor_mb, wanted))


def set_local_sql(megabytes: int) -> str:
    """The statement giving this transaction (only) that work_mem."""
    return f"SET LOCAL work_mem = '{int(megabytes)}MB'"
