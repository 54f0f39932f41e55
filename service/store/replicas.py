"""Read replicas: which PostgreSQL streaming replica may serve an availability read.

A write's consistency token is the primary's WAL insert position read after the write
committed (`pg:<hi>/<lo>`, PostgreSQL's LSN notation): the commit record ends at or before it.
A replica whose replayed position is at or past a token shows that write. A background thread
per process compares, every `read_poll_ms`, the primary's insert position with each replica's
replayed position; a replica is as fresh as the last primary sample it has replayed past
(measured in positions, never with replay timestamps, which grow on an idle primary).

A read with a token goes to a healthy replica known to have replayed past it, else to the
primary; a read without one to a replica at most `read_max_lag_ms` behind, else to the
primary. A replica that cannot be reached is out of use until a retry after a back-off; one
that stops replaying falls behind and is out of use until it catches up. Data only ever ages
between polls, so a decision from an older poll is still sound, never too optimistic.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from service import metrics
from service.store import kept_connections
from service.store.db import make_engine, read_only

T = TypeVar("T")
log = logging.getLogger(__name__)

TOKEN_PREFIX = "pg:"
_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")
HISTORY_SECONDS = 30.0  # primary samples kept: lag beyond this is "more than 30 s"
MAX_BACKOFF_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 2
_REPLICA_STATE = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
    " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END")


def lsn(text: str) -> int:
    """PostgreSQL's `hi/lo` notation as one integer."""
    found = _LSN.match(text)
    if found is None:
        raise ValueError(f"not a WAL position: {text!r}")
    return (int(found[1], 16) << 32) | int(found[2], 16)


def parse_token(token: str) -> int | None:
    """The WAL position of a consistency token, or None when it is not one."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    try:
        return lsn(token[len(TOKEN_PREFIX):])
    except ValueError:
        return None


def format_token(position: int) -> str:
    """A consistency token for a WAL position."""
    return f"{TOKEN_PREFIX}{position >> 32:X}/{position & 0xFFFFFFFF:X}"


@dataclass(frozen=True)
class WalLayout:
    """The primary's WAL page and segment sizes (their headers are never replayed)."""

    block: int = 8192
    segment: int = 16 * 1024 * 1024

    def settled(self, position: int) -> int:
        """The insert position as the end of the last record: just past a page header (the
        next record's start) is the page boundary, which a replica replays up to."""
        first_page = position % self.segment < self.block
        if first_page and position % self.segment == 40:  # a segment's first page: long header
            return position - 40
        if not first_page and position % self.block == 24:  # any other page: short header
            return position - 24
        return position


@dataclass(eq=False)
class Replica:
    """One replica and what the last poll found."""

    name: str
    engine: Engine
    state: str = "starting"  # healthy | lagging | down | starting
    replay: int | None = None
    fresh_at: float | None = None  # the replica holds every commit the primary had then
    paused: bool = False
    failures: int = 0
    retry_at: float = 0.0
    error: str | None = None
    reads: Any = field(default=None, repr=False)

    def usable(self, token: int | None, oldest: float) -> bool:
        """Whether this replica may serve a read with that token (or none)."""
        if self.state != "healthy":
            return False
        if token is not None:
            return self.replay is not None and self.replay >= token
        return self.fresh_at is not None and self.fresh_at >= oldest


class Replicas:
    """The replicas of one primary, their health, and the choice for each read."""

    def __init__(self, primary: Engine, urls: list[str], max_lag_ms: int, poll_ms: int,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.primary, self.max_lag, self.poll_seconds = primary, max_lag_ms / 1000, poll_ms / 1000
        self._now = now
        self.replicas = [Replica(_name(url), _replica_engine(url)) for url in urls]
        for replica in self.replicas:
            replica.reads = metrics.REPLICA_READS.labels(replica.name)
        self._primary_reads = metrics.REPLICA_READS.labels("primary")
        self._samples: list[tuple[float, int]] = []  # (when, primary insert position)
        self._layout: WalLayout | None = None
        self._turn = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        _ALL.add(self)

    def run(self, read: Callable[[Engine], T], token: int | None) -> T:
        """read(engine) on a replica fit for the token (or none), else on the primary; a
        replica that fails is taken out of use and the primary answers instead."""
        replica = self.choose(token)
        if replica is not None:
            try:
                found = read(replica.engine)
            except Exception as exc:  # noqa: BLE001 - any failure: the primary answers
                self._failed(replica, exc)
            else:
                replica.reads.inc()
                return found
        self._primary_reads.inc()
        return read(self.primary)

    def choose(self, token: int | None) -> Replica | None:
        """A replica fit for the token (or, without one, at most read_max_lag_ms behind)."""
        if self._thread is None:
            self.start()
        fit = [r for r in self.replicas if r.usable(token, self._now() - self.max_lag)]
        if not fit:
            return None
        self._turn = (self._turn + 1) % len(fit)
        return fit[self._turn]

    def position(self) -> str:
        """The consistency token of everything committed so far (read on the primary)."""
        layout = self._layout or self._read_layout()
        found = kept_connections.run(self.primary, _insert_position)
        return format_token(layout.settled(found))

    def poll(self) -> None:
        """One round: sample the primary, then compare each replica with the samples."""
        now = self._now()
        try:
            layout = self._layout or self._read_layout()
            with read_only(self.primary) as conn:
                primary = layout.settled(lsn(conn.exec_driver_sql(
                    "SELECT pg_current_wal_insert_lsn()::text").scalar_one()))
            self._samples.append((now, primary))
            while self._samples and self._samples[0][0] < now - HISTORY_SECONDS:
                del self._samples[0]
        except Exception:  # noqa: BLE001 - the primary is down: replicas keep their state
            log.debug("read replicas: the primary did not answer", exc_info=True)
        for replica in self.replicas:
            if replica.state == "down" and self._now() < replica.retry_at:
                continue
            self._poll_replica(replica)
        self._export()

    def _poll_replica(self, replica: Replica) -> None:
        try:
            with read_only(replica.engine) as conn:
                recovering, replay, paused = conn.exec_driver_sql(_REPLICA_STATE).one()
        except Exception as exc:  # noqa: BLE001 - unreachable (or refusing): out of use
            self._failed(replica, exc)
            return
        if not recovering or replay is None:
            self._failed(replica, RuntimeError(
                "not replaying WAL: not in recovery (promoted?), or nothing replayed yet"))
            return
        replica.replay, replica.paused = lsn(replay), bool(paused)
        replica.failures, replica.error = 0, None
        replica.fresh_at = self._fresh_at(replica.replay)
        lag = self.lag_seconds(replica)
        replica.state = "healthy" if lag is not None and lag <= self.max_lag else "lagging"

    def _fresh_at(self, replay: int) -> float | None:
        """The time of the newest primary sample the replica has replayed past."""
        samples = list(self._samples)
        index = bisect.bisect_right([s[1] for s in samples], replay) - 1
        return samples[index][0] if index >= 0 else None

    def lag_seconds(self, replica: Replica) -> float | None:
        """How far behind the replica may be now (None: more than the history kept)."""
        return None if replica.fresh_at is None else max(0.0, self._now() - replica.fresh_at)

    def _failed(self, replica: Replica, exc: BaseException) -> None:
        """Out of use until a retry after a back-off that doubles with each failure."""
        replica.failures += 1
        replica.state, replica.error = "down", f"{type(exc).__name__}: {exc}"[:200]
        replica.retry_at = self._now() + min(MAX_BACKOFF_SECONDS,
                                              0.5 * 2 ** (replica.failures - 1))
        kept_connections.close(replica.engine)  # the next read reconnects
        log.warning("read replica %s out of use: %s", replica.name, replica.error)

    def _read_layout(self) -> WalLayout:
        with read_only(self.primary) as conn:
            block, segment = conn.exec_driver_sql(
                "SELECT current_setting('wal_block_size')::int,"
                " (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')"
            ).one()
        self._layout = WalLayout(int(block), int(segment))
        return self._layout

    def report(self) -> list[dict[str, Any]]:
        """Each replica's state, for /healthz."""
        if self._thread is None:
            self.start()
        return [{"name": r.name, "status": r.state,
                 "lag_ms": None if (lag := self.lag_seconds(r)) is None else round(lag * 1000),
                 "replay_position": None if r.replay is None else format_token(r.replay),
                 "replay_paused": r.paused, "error": r.error} for r in self.replicas]

    def _export(self) -> None:
        for replica in self.replicas:
            lag = self.lag_seconds(replica)
            metrics.REPLICA_LAG.labels(replica.name).set(
                HISTORY_SECONDS if lag is None else lag)
            metrics.REPLICA_HEALTHY.labels(replica.name).set(replica.state == "healthy")

    def start(self) -> None:
        """Start this process's polling thread (once; again in a forked child)."""
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="oms-replicas",
                                            daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = self._now()
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - never let the thread die
                log.exception("read replicas: poll failed")
            self._stop.wait(max(0.0, self.poll_seconds - (self._now() - started)))

    def close(self) -> None:
        """Stop polling and close the replicas' connections."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        for replica in self.replicas:
            kept_connections.close(replica.engine)
            replica.engine.dispose()


_ALL: weakref.WeakSet[Replicas] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for replicas in list(_ALL):  # the parent's thread does not exist here: start another
        replicas._thread, replicas._lock = None, threading.Lock()
        replicas._stop = threading.Event()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _insert_position(conn: Any) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return lsn(cursor.fetchone()[0])


def _name(url: str) -> str:
    """host:port/database (never the password)."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def _replica_engine(url: str) -> Engine:
    """An engine on a replica that gives up connecting after a few seconds."""
    args = {} if "connect_timeout" in url else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return make_engine(url, connect_args=args, pool_size=2, max_overflow=8)
