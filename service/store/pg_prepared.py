"""PostgreSQL: a named prepared statement run on a kept connection through libpq itself
(psycopg.pq), text parameters in, the text result out (the hottest read: the availability
lookup).

Why: measured on the 1M bench database, psycopg's cursor (cursor object, query conversion,
parameter dumping, its prepared-statement cache, the non-blocking wait loop, a loader per
column and row) cost about twice the Python of the libpq call it wraps, per lookup. Here the
statement is prepared once per connection under its own name, then each run is one
PQexecPrepared: the same Bind/Execute round trip, the same generic plan, in autocommit (its
own read of the last committed state, no BEGIN/COMMIT).

Errors are psycopg's: a statement error is the psycopg.Error its SQLSTATE maps to (as the
cursor raises it); a connection that failed is a psycopg.OperationalError with the
connection closed (kept_connections.run then retries once on a new connection).
"""

from __future__ import annotations

import threading
from weakref import WeakKeyDictionary

import psycopg
from psycopg import errors, pq

_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_INVALID_STATEMENT_NAME = "26000"  # the statement is gone (DEALLOCATE): prepare it again

# the names prepared on each connection (weak: a connection dropped is forgotten)
_prepared: WeakKeyDictionary[psycopg.Connection, set[bytes]] = WeakKeyDictionary()
_prepared_lock = threading.Lock()


def execute(connection: psycopg.Connection, name: bytes, sql: bytes,
            params: list[bytes | None]) -> pq.abc.PGresult:
    """The rows of `sql` (placeholders $1..$n), prepared as `name` on this connection the
    first time, run with `params` (text, already encoded in the connection's encoding).
    Values come back as text (bytes) or None: PGresult.get_value(row, column)."""
    with connection.lock:
        pgconn = connection.pgconn
        names = _names(connection)
        if name not in names:
            _check(connection, pgconn.prepare(name, sql, None), _COMMAND_OK)
            names.add(name)
        result = pgconn.exec_prepared(name, params)
        if result.status != _TUPLES_OK and _sqlstate(result) == _INVALID_STATEMENT_NAME:
            names.discard(name)
            _check(connection, pgconn.prepare(name, sql, None), _COMMAND_OK)
            names.add(name)
            result = pgconn.exec_prepared(name, params)
        _check(connection, result, _TUPLES_OK)
        return result


def _names(connection: psycopg.Connection) -> set[bytes]:
    names = _prepared.get(connection)
    if names is None:
        with _prepared_lock:
            names = _prepared.setdefault(connection, set())
    return names


def _sqlstate(result: pq.abc.PGresult) -> str | None:
    state = result.error_field(pq.DiagnosticField.SQLSTATE)
    return None if state is None else state.decode("ascii", "replace")


def _check(connection: psycopg.Connection, result: pq.abc.PGresult,
           expected: pq.ExecStatus) -> None:
    """Raise what psycopg's cursor would for a result that is not `expected`."""
    if result.status == expected:
        return
    encoding = connection.info.encoding
    if connection.pgconn.status == pq.ConnStatus.BAD:
        raise psycopg.OperationalError(connection.pgconn.get_error_message(encoding))
    if result.status == pq.ExecStatus.FATAL_ERROR:
        raise errors.error_from_result(result, encoding=encoding)
    raise psycopg.InternalError(f"unexpected result status {result.status!r}")
