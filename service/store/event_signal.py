"""Waking the webhook worker when events commit: LISTEN oms_events on PostgreSQL (the
trigger of migration 0018 notifies at commit), a short sleep on SQLite."""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from sqlalchemy import Engine

CHANNEL = "oms_events"
log = logging.getLogger(__name__)


class EventSignal:
    """Wait until events may have been committed, or a timeout passes."""

    def __init__(self, engine: Engine, poll_seconds: float) -> None:
        self.engine, self.poll_seconds = engine, poll_seconds
        self.listens = engine.dialect.name == "postgresql"
        self._connection: Any = None

    def wait(self, timeout: float) -> bool:
        """Block up to timeout (SQLite: up to poll_seconds); True when notified."""
        if not self.listens:
            time.sleep(max(0.0, min(timeout, self.poll_seconds)))
            return False
        try:
            connection = self._listening()
            woke = any(True for _ in connection.notifies(timeout=max(0.0, timeout),
                                                         stop_after=1))
            if woke:  # one wake for every notification already queued
                for _ in connection.notifies(timeout=0):
                    pass
            return woke
        except (psycopg.Error, OSError):
            log.warning("LISTEN %s lost; polling until it is back", CHANNEL, exc_info=True)
            self.close()
            time.sleep(max(0.0, min(timeout, self.poll_seconds)))
            return False

    def poll(self) -> bool:
        """Whether events may have committed since the last look (SQLite: always)."""
        if not self.listens:
            return True
        try:
            return any(True for _ in self._listening().notifies(timeout=0))
        except (psycopg.Error, OSError):
            self.close()
            return True

    def _listening(self) -> Any:
        if self._connection is None or self._connection.closed:
            pooled = self.engine.raw_connection()
            connection = pooled.driver_connection
            pooled.detach()
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            self._connection = connection
        return self._connection

    def close(self) -> None:
        """Stop listening (a new wait listens again)."""
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # closing a broken connection
                pass
            self._connection = None
