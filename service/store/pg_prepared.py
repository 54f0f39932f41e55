"""PostgreSQL: a named prepared statement run on a kept connection through libpq itself
(psycopg.pq), text parameters in, the text result out (the hottest read: the availability
lookup), or a binary result loaded into rows by psycopg's own loaders (the order search).

Why: measured on the 1M bench database, psycopg's cursor (cursor object, query conversion,
parameter dumping, its prepared-statement cache, the non-blocking wait loop, a loader per
column and row) cost about twice the Python of the libpq call it wraps, per lookup. Here the
statement is prepared once per connection under its own name, then each run is one
PQexecPrepared: the same Bind/Execute round trip, the same generic plan, in autocommit (its
own read of the last committed state, no BEGIN/COMMIT).

At most MAX_PREPARED names stay prepared on a connection: preparing one more deallocates the
one run least recently (the order search prepares one text per set of filters and page size,
which a client chooses).

Errors are psycopg's: a statement error is the psycopg.Error its SQLSTATE maps to (as the
cursor raises it); a connection that failed is a psycopg.OperationalError with the
connection closed (kept_connections.run then retries once on a new connection).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg import errors, pq
from psycopg.adapt import Transformer

_TEXT, _BINARY = pq.Format.TEXT, pq.Format.BINARY
_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_INVALID_STATEMENT_NAME = "26000"  # the statement is gone (DEALLOCATE): prepare it again
MAX_PREPARED = 64

# the names prepared on each connection, least recently run first (weak: a connection
# dropped is forgotten)
_prepared: WeakKeyDictionary[psycopg.Connection, OrderedDict[bytes, None]] = (
    WeakKeyDictionary())
_prepared_lock = threading.Lock()


def execute(connection: psycopg.Connection, name: bytes, sql: bytes,
            params: list[bytes | None], binary: bool = False) -> pq.abc.PGresult:
    """The rows of `sql` (placeholders $1..$n), prepared as `name` on this connection the
    first time, run with `params` (text, already encoded in the connection's encoding).
    Values come back as text (bytes) or None: PGresult.get_value(row, column); with
    `binary`, in PostgreSQL's binary format (for psycopg's loaders: `rows`)."""
    result_format = _BINARY if binary else _TEXT
    with connection.lock:
        pgconn = connection.pgconn
        names = _names(connection)
        if name in names:
            names.move_to_end(name)
        else:
            _prepare(connection, names, name, sql)
        result = pgconn.exec_prepared(name, params, None, result_format)
        if result.status != _TUPLES_OK and _sqlstate(result) == _INVALID_STATEMENT_NAME:
            del names[name]
            _prepare(connection, names, name, sql)
            result = pgconn.exec_prepared(name, params, None, result_format)
        _check(connection, result, _TUPLES_OK)
        return result


def rows(connection: psycopg.Connection, result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
    """A binary result's rows as tuples of Python values, loaded as psycopg's cursor loads
    them (its Transformer, the connection's adapters: the same values as fetchall)."""
    loading = Transformer(connection)
    loading.set_pgresult(result, set_loaders=True, format=_BINARY)
    return loading.load_rows(0, result.ntuples, tuple)


def _prepare(connection: psycopg.Connection, names: OrderedDict[bytes, None], name: bytes,
             sql: bytes) -> None:
    """Prepare `sql` as `name`, first deallocating the least recently run names past
    MAX_PREPARED - 1 (under the connection's lock)."""
    pgconn = connection.pgconn
    while len(names) >= MAX_PREPARED:
        oldest, _ = names.popitem(last=False)
        gone = pgconn.exec_(b'DEALLOCATE "' + oldest + b'"')
        if _sqlstate(gone) != _INVALID_STATEMENT_NAME:  # already gone: as good
            _check(connection, gone, _COMMAND_OK)
    _check(connection, pgconn.prepare(name, sql, None), _COMMAND_OK)
    names[name] = None


def _names(connection: psycopg.Connection) -> OrderedDict[bytes, None]:
    names = _prepared.get(connection)
    if names is None:
        with _prepared_lock:
            names = _prepared.setdefault(connection, OrderedDict())
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
