"""PostgreSQL: allocate planned units in one statement when the positions are as they were read.

The statement locks the planned positions in id order, and only when every one still holds
exactly the stock the plan was made from does it add the units to `allocated` and move the
channels' ATS (locked in key order, after the positions, as every writer does). Otherwise
nothing is written and the positions' current stock comes back, still locked, for the
caller's re-check. ATS rows the statement could not move (none yet, for a new SKU) are named,
so the caller moves them the general way.

The ATS rows are updated where their lock found them (`ctid`: the version locked, the latest
one, which no other writer can replace before this transaction ends), not looked up by key a
second time (EXPLAIN ANALYZE of a 12-row move: the update's part 0.13 ms before, 0.07 after).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.store.models.base import naive_utc
from service.store.pg_arrays import int_array, text_array

# the allocation's common table expressions; `go` says whether every position was as seen
ALLOCATE_CTES = """
want AS (
  SELECT * FROM json_to_recordset(CAST(:want AS json))
         AS w(id integer, on_hand integer, allocated integer, reserved integer,
              quantity integer)
), locked AS (
  SELECT sp.id, sp.on_hand, sp.allocated, sp.reserved FROM stock_positions sp
  WHERE sp.id = ANY(CAST(:ids AS integer[])) ORDER BY sp.id FOR UPDATE
), unchanged AS (
  SELECT w.id, w.quantity FROM want w JOIN locked l ON l.id = w.id
  WHERE l.on_hand = w.on_hand AND l.allocated = w.allocated AND l.reserved = w.reserved
), go AS (
  SELECT count(*) = cardinality(CAST(:ids AS integer[])) AS ok FROM unchanged
), taken AS (
  UPDATE stock_positions sp SET allocated = sp.allocated + u.quantity, updated_at = :allocated_at
  FROM unchanged u, go WHERE go.ok AND sp.id = u.id
  RETURNING sp.id
), moves AS (
  SELECT * FROM unnest(CAST(:channels AS varchar[]), CAST(:skus AS varchar[]),
                       CAST(:deltas AS integer[])) AS d(channel, sku, delta)
), ats AS (
  SELECT ca.ctid AS row_at, d.delta FROM channel_availability ca
  JOIN moves d ON d.channel = ca.channel AND d.sku = ca.sku
  CROSS JOIN go
  WHERE go.ok AND ca.ruleset = :ats_ruleset
  ORDER BY ca.channel, ca.sku FOR UPDATE OF ca
), moved AS (
  UPDATE channel_availability ca
  SET available = GREATEST(ca.available + f.delta, 0), updated_at = :allocated_at
  FROM ats f WHERE ca.ctid = f.row_at
  RETURNING ca.channel, ca.sku
)"""
# its rows: (kind, id, channel, sku, on_hand, allocated, reserved)
ALLOCATE_ROWS = """
SELECT 'position', l.id, NULL, NULL, l.on_hand, l.allocated, l.reserved FROM locked l
UNION ALL
SELECT 'ats', NULL, m.channel, m.sku, NULL, NULL, NULL FROM moved m
UNION ALL
SELECT 'taken', count(*), NULL, NULL, NULL, NULL, NULL FROM taken
"""
_ALLOCATE = text(f"WITH {ALLOCATE_CTES}{ALLOCATE_ROWS}")


@dataclass(frozen=True)
class Seen:
    """A position's stock when the plan read it, and the units to allocate there."""

    id: int
    on_hand: int
    allocated: int
    reserved: int
    quantity: int


@dataclass(frozen=True)
class Outcome:
    """Whether the units were taken; the positions' stock now; the ATS rows moved."""

    taken: bool
    current: dict[int, tuple[int, int, int]]
    ats_moved: set[tuple[str, str]]


def allocate_if_unchanged(session: Session, seen: Sequence[Seen],
                          deltas: Mapping[tuple[str, str], int], ruleset: str, now: datetime
                          ) -> Outcome:
    """Take the units and move the ATS when no planned position changed since it was read.

    `deltas` is what the channels' ATS moves by when every allocation is made.
    """
    rows = session.execute(_ALLOCATE, parameters(seen, deltas, ruleset, now)).all()
    return outcome(rows, len(seen))


def parameters(seen: Sequence[Seen], deltas: Mapping[tuple[str, str], int], ruleset: str,
               now: datetime) -> dict[str, Any]:
    """The allocation statement's parameters (names no order column uses): the positions
    as seen in one JSON document (psycopg dumps an array element by element in Python, a
    text at once), their ids as an array (to lock them) and the ATS moves as arrays (an
    array parameter's rows are estimated few, so each ATS row is found by its key); the
    arrays go as their text (pg_arrays), cast in the statement.
    """
    keys = sorted(deltas)
    want = orjson.dumps([{"id": s.id, "on_hand": s.on_hand, "allocated": s.allocated,
                          "reserved": s.reserved, "quantity": s.quantity} for s in seen])
    return {"ids": int_array([s.id for s in seen]), "want": want.decode(),
            "channels": text_array([k[0] for k in keys]),
            "skus": text_array([k[1] for k in keys]),
            "deltas": int_array([deltas[k] for k in keys]), "ats_ruleset": ruleset,
            "allocated_at": naive_utc(now)}


def outcome(rows: Sequence[Sequence[Any]], planned: int) -> Outcome:
    """The Outcome of ALLOCATE_ROWS (other kinds of rows are ignored)."""
    current = {r[1]: (r[4], r[5], r[6]) for r in rows if r[0] == "position"}
    moved = {(r[2], r[3]) for r in rows if r[0] == "ats"}
    taken = next(r[1] for r in rows if r[0] == "taken") == planned
    return Outcome(taken, current, moved)
