"""PostgreSQL: one autocommit driver connection per engine, process and thread, kept open for
the hottest single-statement reads (the availability lookup).

Checking a connection out of SQLAlchemy's pool and back costs about as much Python as the
lookup itself; a kept connection costs a thread-local attribute read. Each statement on it is
its own read of the last committed state. A connection the database dropped is replaced
once per read; a forked child never touches its parent's connections (it opens its own, and
keeps the inherited ones referenced so that they are never closed from the child).
Connections are made as the engine makes its own (URL, connect_args, connect events) and
taken out of its pool. `close(engine)` closes every connection this process kept for the
engine (Context.close).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary, WeakSet, ref

import psycopg
from sqlalchemy import Engine

T = TypeVar("T")

_generation = 0  # bumped in a forked child: connections of an older generation are the parent's
_inherited: list[psycopg.Connection] = []  # the parent's connections, left alone in the child


class _Kept:
    """The kept connections of one engine in this process, one per thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = ref(engine)  # weak: the engine keys _KEPT
        self._local = threading.local()
        self._lock = threading.Lock()
        # weak: a thread's connection closes when the thread ends (its local goes)
        self._open: WeakSet[psycopg.Connection] = WeakSet()

    def get(self) -> psycopg.Connection:
        local = self._local
        if getattr(local, "generation", -1) == _generation:
            connection = local.connection
            if connection is not None and not connection.closed:  # closed: by close()
                return connection
        connection = self._connect()
        with self._lock:
            self._open.add(connection)
        local.connection, local.generation = connection, _generation
        return connection

    def _connect(self) -> psycopg.Connection:
        """A new connection made as the engine makes its own (URL, connect_args and connect
        events), then taken out of its pool and switched to autocommit."""
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine of these kept connections is gone")
        pooled = engine.raw_connection()
        connection = pooled.driver_connection
        pooled.detach()
        connection.autocommit = True
        return connection

    def drop(self, connection: psycopg.Connection) -> None:
        """Forget a dead connection (the thread's next read opens another)."""
        with self._lock:
            self._open.discard(connection)
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None
        _close_quietly(connection)

    def disown(self) -> None:
        """In a forked child: the connections are the parent's; keep them, never use them.

        (The lock is replaced, not taken: a thread of the parent may have held it at the fork,
        and that thread does not exist here.)
        """
        self._lock = threading.Lock()
        _inherited.extend(self._open)
        self._open = WeakSet()

    def close(self) -> None:
        """Close every thread's connection, each once its statement in flight (if any) ends."""
        with self._lock:
            connections, self._open = list(self._open), WeakSet()
        for connection in connections:
            with connection.lock:
                _close_quietly(connection)


_KEPT: WeakKeyDictionary[Engine, _Kept] = WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def run(engine: Engine, read: Callable[[psycopg.Connection], T]) -> T:
    """read(connection) on this thread's kept connection for engine.

    Retried once on a fresh connection when the database dropped the kept one (a restart,
    an idle timeout); any other error is raised as it is.
    """
    kept = _kept(engine)
    connection = kept.get()
    try:
        return read(connection)
    except psycopg.OperationalError:
        if not connection.closed:
            raise
        kept.drop(connection)
    return read(kept.get())


def close(engine: Engine) -> None:
    """Close the connections this process kept for engine (all threads')."""
    kept = _KEPT.get(engine)
    if kept is not None:
        kept.close()


def _kept(engine: Engine) -> _Kept:
    kept = _KEPT.get(engine)
    if kept is None:
        with _KEPT_LOCK:
            kept = _KEPT.get(engine)
            if kept is None:
                kept = _KEPT[engine] = _Kept(engine)
    return kept


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a dead connection may fail to close; it is gone anyway
        pass


def _after_fork_in_child() -> None:
    global _generation, _KEPT_LOCK
    _generation += 1
    _KEPT_LOCK = threading.Lock()
    for kept in list(_KEPT.values()):
        kept.disown()


os.register_at_fork(after_in_child=_after_fork_in_child)
