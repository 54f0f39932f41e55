"""The availability lookup: a channel's kept ATS for some SKUs, each with its SKU's
reservation deadline, in one statement (the hottest read of the service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine, and_, bindparam, func, literal, select
from sqlalchemy.exc import DBAPIError

from service.store import kept_connections, pg_prepared
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

# The same lookups run through libpq itself (pg_prepared: no cursor, text in and out, about
# half the Python per lookup), each prepared once per kept connection. Whether a deadline
# has passed is compared by the server ($1, the clock's now as naive UTC): a boolean comes
# back, no timestamp to decode. Used when the connection's encoding is UTF-8 and every
# parameter is text without NUL; anything else goes through the cursor above, as before.
_RAW_SELECT = (
    "SELECT f.sku, f.available, f.ruleset,"
    " (SELECT d.due_at <= $1::timestamp FROM reservation_deadlines AS d WHERE d.sku = f.sku),"
    " COALESCE((SELECT v.version FROM cache_versions AS v WHERE v.name = 'keys'), 0)"
    " FROM (SELECT 1) AS one LEFT JOIN ")
_RAW_KEPT = _RAW_SELECT + "channel_availability AS f ON f.channel = $2 AND f.sku "
_RAW_VARIANT = (_RAW_SELECT + "variant_availability AS f ON f.ruleset = $3 AND f.channel = $2"
                " AND f.sku ")
# (variant?, one sku?) -> (name, text)
_RAW: dict[tuple[bool, bool], tuple[bytes, bytes]] = {
    (False, True): (b"oms_ats_one", (_RAW_KEPT + "= $3").encode()),
    (False, False): (b"oms_ats_many", (_RAW_KEPT + "= ANY($3)").encode()),
    (True, True): (b"oms_ats_variant_one", (_RAW_VARIANT + "= $4").encode()),
    (True, False): (b"oms_ats_variant_many", (_RAW_VARIANT + "= ANY($4)").encode()),
}
_UTF8 = "utf-8"


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
            utc = naive_utc(now)
            return kept_connections.run(engine, lambda conn: _pg_lookup(
                conn, channel, skus, utc, variant))
        with read_only(engine) as conn:
            rows = conn.execute(_LOOKUP if variant is None else _LOOKUP_VARIANT,
                                {"channel": channel, "skus": skus, "ruleset": variant}
                                ).all()
    except (DBAPIError, psycopg.OperationalError) as exc:
        if unreachable(exc):
            raise unavailable() from exc
        raise
    return _answer(rows, now)


def _answer(rows: list[Any], now: datetime) -> tuple[Kept, bool, int]:
    kept = [(r[0], r[1], r[2]) for r in rows if r[0] is not None]
    return kept, any(r[3] is not None and r[3] <= now for r in rows), int(rows[0][4])


def _pg_lookup(conn: psycopg.Connection, channel: str, skus: list[str], now: datetime,
               variant: str | None) -> tuple[Kept, bool, int]:
    """lookup's answer on PostgreSQL: through libpq when the parameters allow, else through
    the cursor (the same rows, the same errors)."""
    params = _raw_params(conn, channel, skus, now, variant)
    if params is None:
        return _answer(_pg_rows(conn, channel, skus, variant), now)
    name, sql = _RAW[variant is not None, len(skus) == 1]
    result = pg_prepared.execute(conn, name, sql, params)
    value = result.get_value
    kept, due = [], False
    for row in range(result.ntuples):
        sku = value(row, 0)
        if sku is not None:
            kept.append((sku.decode(), int(value(row, 1)), value(row, 2).decode()))
        if value(row, 3) == b"t":
            due = True
    return kept, due, int(value(0, 4))


def _raw_params(conn: psycopg.Connection, channel: str, skus: list[str], now: datetime,
                variant: str | None) -> list[bytes | None] | None:
    """The text parameters of the libpq lookup, or None: the cursor runs it (an encoding
    other than UTF-8, a NUL that psycopg refuses with its own error)."""
    texts = [channel, *skus] if variant is None else [channel, variant, *skus]
    if conn.info.encoding != _UTF8 or any("\x00" in text for text in texts):
        return None
    try:
        params: list[bytes | None] = [now.isoformat(" ").encode(), channel.encode()]
        if variant is not None:
            params.append(variant.encode())
        params.append(skus[0].encode() if len(skus) == 1 else _array_literal(skus))
    except UnicodeEncodeError:  # a lone surrogate
        return None
    return params


def _array_literal(texts: list[str]) -> bytes:
    """A text[] literal of texts, each element quoted (a backslash before `"` and `\\`)."""
    quoted = [text.replace("\\", "\\\\").replace('"', '\\"') for text in texts]
    return ('{"' + '","'.join(quoted) + '"}').encode()


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
