"""The availability lookup: a channel's kept ATS for some SKUs, each with its SKU's
reservation deadline, in one statement (the hottest read of the service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine, and_, bindparam, func, literal, select
from sqlalchemy.exc import DBAPIError

from service.store import kept_connections
from service.store.db import read_only
from service.store.errors import unavailable, unreachable
from service.store.models import (
    CacheVersion,
    ChannelAvailability,
    ReservationDeadline,
    VariantAvailability,
)
from service.store.models.base import naive_utc
from service.store.models.versions import KEYS

# PostgreSQL: the driver runs this text directly on a kept connection (no statement
# compilation, no pool checkout per request; psycopg prepares each text once per connection).
# Many SKUs go as one array parameter; one SKU as a plain equality, which costs the server
# about half as much as `= ANY(array)` (no array to build and scan).
# The `keys` cache version comes with the rows (always at least one row: the request's key,
# taken from the process's cache, is confirmed against it without a round trip of its own).
_PG_SELECT = (
    "SELECT f.sku, f.available, f.ruleset,"
    " (SELECT d.due_at FROM reservation_deadlines AS d WHERE d.sku = f.sku),"
    " COALESCE((SELECT v.version FROM cache_versions AS v WHERE v.name = 'keys'), 0)"
    " FROM (SELECT 1) AS one LEFT JOIN channel_availability AS f"
    " ON f.channel = %s AND f.sku ")
_PG_LOOKUP_ONE = _PG_SELECT + "= %s"
_PG_LOOKUP_MANY = _PG_SELECT + "= ANY(%s)"
# A running experiment's variant: the same lookup in its ruleset's kept rows.
_PG_VARIANT = _PG_SELECT.replace("channel_availability AS f ON",
                                 "variant_availability AS f ON f.ruleset = %s AND")
_PG_VARIANT_ONE = _PG_VARIANT + "= %s"
_PG_VARIANT_MANY = _PG_VARIANT + "= ANY(%s)"


def _lookup_statement(variant: bool = False) -> Any:
    """The same statement for other databases, built once (per table)."""
    ca = (VariantAvailability if variant else ChannelAvailability).__table__
    due = ReservationDeadline.__table__
    deadline = select(due.c.due_at).where(due.c.sku == ca.c.sku).scalar_subquery()
    version = func.coalesce(select(CacheVersion.version).where(
        CacheVersion.name == KEYS).scalar_subquery(), 0)
    one = select(literal(1).label("one")).subquery()
    found = and_(ca.c.channel == bindparam("channel"),
                 ca.c.sku.in_(bindparam("skus", expanding=True)))
    if variant:
        found = and_(ca.c.ruleset == bindparam("ruleset"), found)
    return select(ca.c.sku, ca.c.available, ca.c.ruleset, deadline, version).select_from(
        one.outerjoin(ca, found))


_LOOKUP = _lookup_statement()
_LOOKUP_VARIANT = _lookup_statement(variant=True)

Kept = list[tuple[str, int, str]]


def lookup(engine: Engine, channel: str, skus: list[str], now: datetime,
           variant: str | None = None) -> tuple[Kept, bool, int]:
    """(sku, available, ruleset) rows of the kept ATS (a running experiment's `variant`
    ruleset's, when given), whether a reservation of one of the
    SKUs may be overdue (its deadline has passed: expire, then read again), and the `keys`
    cache version.

    One statement, in autocommit: one round trip, the last committed state. A database that
    cannot be reached raises service.errors.Unavailable.
    """
    try:
        if engine.dialect.name == "postgresql":
            rows = kept_connections.run(engine,
                                        lambda conn: _pg_rows(conn, channel, skus, variant))
            now = naive_utc(now)
        else:
            with read_only(engine) as conn:
                rows = conn.execute(_LOOKUP if variant is None else _LOOKUP_VARIANT,
                                    {"channel": channel, "skus": skus, "ruleset": variant}
                                    ).all()
    except (DBAPIError, psycopg.OperationalError) as exc:
        if unreachable(exc):
            raise unavailable() from exc
        raise
    kept = [(r[0], r[1], r[2]) for r in rows if r[0] is not None]
    return kept, any(r[3] is not None and r[3] <= now for r in rows), int(rows[0][4])


def _pg_rows(conn: psycopg.Connection, channel: str, skus: list[str],
             variant: str | None = None) -> list[Any]:
    with conn.cursor() as cursor:
        if variant is not None:
            one = len(skus) == 1
            cursor.execute(_PG_VARIANT_ONE if one else _PG_VARIANT_MANY,
                           (variant, channel, skus[0] if one else skus))
        elif len(skus) == 1:
            cursor.execute(_PG_LOOKUP_ONE, (channel, skus[0]))
        else:
            cursor.execute(_PG_LOOKUP_MANY, (channel, skus))
        return cursor.fetchall()
