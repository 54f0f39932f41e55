"""Named prepared statements on a kept connection: each prepared once, run again by name; past
MAX_PREPARED names the least recently run is deallocated (a client choosing many page sizes
cannot grow a connection's statements without end), and one run again is prepared again."""

from __future__ import annotations

import pytest

from service.store import kept_connections, pg_prepared

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _run(engine, number: int) -> int:
    name, sql = f"oms_test_prepared_{number}".encode(), f"SELECT {number} + $1::int".encode()
    result = kept_connections.run(engine, lambda conn: pg_prepared.execute(
        conn, name, sql, [b"1"]))
    return int(result.get_value(0, 0))


def _prepared_names(engine) -> set[str]:
    return {row[0] for row in kept_connections.run(engine, lambda conn: conn.execute(
        "SELECT name FROM pg_prepared_statements WHERE name LIKE 'oms_test_prepared_%'"
    ).fetchall())}


def test_a_statement_is_prepared_once_and_run_by_its_name(ctx):
    kept_connections.close(ctx.engine)  # a connection of its own
    assert [_run(ctx.engine, 7) for _ in range(3)] == [8, 8, 8]
    assert _prepared_names(ctx.engine) == {"oms_test_prepared_7"}


def test_past_the_limit_the_least_recently_run_statements_are_deallocated(ctx):
    kept_connections.close(ctx.engine)
    limit = pg_prepared.MAX_PREPARED
    assert [_run(ctx.engine, n) for n in range(limit)] == [n + 1 for n in range(limit)]
    assert _run(ctx.engine, 0) == 1  # run again: now the most recent
    assert [_run(ctx.engine, n) for n in range(limit, limit + 3)] == [limit + 1, limit + 2,
                                                                      limit + 3]
    names = _prepared_names(ctx.engine)
    assert len(names) == limit
    assert {"oms_test_prepared_0", f"oms_test_prepared_{limit + 2}"} <= names
    assert not {"oms_test_prepared_1", "oms_test_prepared_2", "oms_test_prepared_3"} & names
    assert _run(ctx.engine, 1) == 2  # deallocated, prepared again
    assert "oms_test_prepared_1" in _prepared_names(ctx.engine)


def test_a_statement_deallocated_behind_its_back_is_prepared_again(ctx):
    kept_connections.close(ctx.engine)
    assert _run(ctx.engine, 5) == 6
    kept_connections.run(ctx.engine, lambda conn: conn.execute("DEALLOCATE ALL"))
    assert _run(ctx.engine, 5) == 6
