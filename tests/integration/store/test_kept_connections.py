"""The lookup's kept connections: one per thread, replaced when dropped, never shared with a
forked child, all closed with the context (PostgreSQL only: SQLite reads use the pool)."""

import os
import threading

import psycopg
import pytest

from service.store import kept_connections

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def backend_pid(engine) -> int:
    return kept_connections.run(engine, lambda conn: conn.info.backend_pid)


def test_a_thread_reuses_its_connection_and_another_thread_gets_its_own(ctx):
    first = backend_pid(ctx.engine)
    assert backend_pid(ctx.engine) == first
    seen = []
    worker = threading.Thread(target=lambda: seen.append(backend_pid(ctx.engine)))
    worker.start()
    worker.join()
    assert seen and seen[0] != first


def test_an_error_on_a_live_connection_is_raised_and_the_connection_kept(ctx):
    pid = backend_pid(ctx.engine)
    with pytest.raises(psycopg.errors.DivisionByZero):
        kept_connections.run(ctx.engine, lambda conn: conn.execute("SELECT 1/0").fetchall())
    assert backend_pid(ctx.engine) == pid


def test_closing_the_engines_kept_connections_closes_them_and_the_next_read_reconnects(ctx):
    kept = kept_connections.run(ctx.engine, lambda conn: conn)
    kept_connections.close(ctx.engine)
    assert kept.closed
    assert kept_connections.run(ctx.engine, lambda conn: conn) is not kept


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_working(ctx):
    parent = backend_pid(ctx.engine)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: read once, report the backend, leave without cleanup
        try:
            os.write(write_end, str(backend_pid(ctx.engine)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    child_backend = int(os.read(read_end, 32) or b"0")
    os.close(read_end)
    assert child_backend not in (0, parent)
    assert backend_pid(ctx.engine) == parent  # the parent's connection was not touched


def test_closing_waits_for_a_statement_in_flight_on_another_thread(ctx):
    import time

    outcome = []

    def slow_read():
        try:
            outcome.append(kept_connections.run(
                ctx.engine, lambda conn: (conn, conn.execute("SELECT pg_sleep(0.4), 1")
                                          .fetchone()[1])))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome.append(exc)

    reader = threading.Thread(target=slow_read)
    reader.start()
    time.sleep(0.15)  # the read is in flight
    kept_connections.close(ctx.engine)
    reader.join()
    connection, value = outcome[0]
    assert value == 1 and connection.closed
