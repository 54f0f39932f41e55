"""The availability lookup: a channel's kept figures for some SKUs, and whether any of their
holds is overdue, in one statement (the hottest read of the service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, bindparam, exists, literal, null, select, union_all
from sqlalchemy.exc import OperationalError

from service.store.db import driver
from service.store.models import ChannelAvailability, Reservation
from service.store.models.base import naive_utc

# PostgreSQL: the driver runs this text directly (no statement compilation per request; the
# SKUs are one array parameter, so psycopg prepares the statement once per connection).
_PG_LOOKUP = (
    "SELECT sku, available, ruleset, NULL::integer FROM channel_availability"
    " WHERE channel = %(channel)s AND sku = ANY(%(skus)s)"
    " UNION ALL SELECT NULL, NULL, NULL, 1 WHERE EXISTS (SELECT 1 FROM reservations"
    " WHERE status = 'active' AND expires_at <= %(now)s AND sku = ANY(%(skus)s))")


def _lookup_statement() -> Any:
    """The same statement for other databases, built once."""
    ca, res = ChannelAvailability.__table__, Reservation.__table__
    figures = select(ca.c.sku, ca.c.available, ca.c.ruleset, null().label("overdue")).where(
        ca.c.channel == bindparam("channel"), ca.c.sku.in_(bindparam("skus", expanding=True)))
    overdue = exists().where(res.c.status == "active", res.c.expires_at <= bindparam("now"),
                             res.c.sku.in_(bindparam("hold_skus", expanding=True)))
    marker = select(null(), null(), null(), literal(1)).where(overdue)
    return union_all(figures, marker)


_LOOKUP = _lookup_statement()


def lookup(conn: Connection, channel: str, skus: list[str], now: datetime
           ) -> tuple[list[tuple[str, int, str]], bool]:
    """(sku, available, ruleset) rows of the kept figures, and whether a hold is overdue.

    `conn` is an autocommit connection (`db.read_only`): one statement, one round trip.
    """
    if conn.dialect.name == "postgresql":
        rows = _pg_rows(conn, {"channel": channel, "skus": skus, "now": naive_utc(now)})
    else:
        rows = conn.execute(_LOOKUP, {"channel": channel, "skus": skus, "hold_skus": skus,
                                      "now": now}).all()
    return [tuple(r[:3]) for r in rows if r[3] is None], any(r[3] is not None for r in rows)


def _pg_rows(conn: Connection, params: dict[str, Any]) -> list[Any]:
    """Run the lookup on the driver connection; a dropped connection is invalidated and
    reported as SQLAlchemy would (so `db.run_read` retries on a fresh one)."""
    try:
        with driver(conn).cursor() as cursor:
            cursor.execute(_PG_LOOKUP, params)
            return cursor.fetchall()
    except psycopg.OperationalError as exc:
        if not driver(conn).closed:
            raise
        conn.invalidate(exc)
        raise OperationalError(_PG_LOOKUP, params, exc, connection_invalidated=True) from exc
