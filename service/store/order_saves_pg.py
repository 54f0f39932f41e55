"""PostgreSQL: a re-route's allocation and its order's save in one statement.

Re-routing a rejected fulfilment takes units at new locations and gives the rejecter's back
(allocation_pg), wakes the orders waiting for the SKUs given back, and saves the order: its
changed rows (order_changes_pg), its new fulfilments, lines and events (fulfilment_rows), the
settlement records of units it cancels, its locations' kept backlog. Sent apart, that was five
round trips; here every write is one more common table expression of the allocation's
statement, let in only when the allocation took every unit (`go`): when a position moved
since the plan read it, nothing at all is written and the caller takes the general way
(allocate re-checked on the locked rows, then save). Locks are taken as apart: the positions
in id order, the channels' ATS in key order, then the order's rows (its row is held since
the order was read) and the locations' backlog in id order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.store import allocation_pg, order_changes_pg
from service.store.fulfilment_rows import NEW_FULFILMENT_CTES
from service.store.models.base import naive_utc
from service.store.order_aggregate_rows import OrderSave
from service.store.orders_pg import json_text, numbered, run_numbered

_ALLOWED = "(SELECT go.ok FROM go)"

# the save's other rows: settlement records, the kept backlog's moves (in location order; a
# count never below 0, as Backlog.move), a wakeup per SKU given back that an order waits for
_OTHER_CTES = f"""
ns AS (
  INSERT INTO settlement_records (kind, order_id, order_line_id, sku, location_id, quantity,
                                  amount, created_at)
  SELECT x.kind, x.order_id, x.order_line_id, x.sku, x.location_id, x.quantity, x.amount,
         x.created_at
  FROM json_to_recordset(CAST(:ns_rows AS json))
       AS x(kind varchar, order_id varchar, order_line_id integer, sku varchar,
            location_id varchar, quantity integer, amount numeric, created_at timestamp)
  WHERE {_ALLOWED}
  RETURNING 1
), nd AS (
  SELECT * FROM json_to_recordset(CAST(:nb_rows AS json))
         AS x(location_id varchar, delta bigint)
), nb AS (
  INSERT INTO location_backlog (location_id, open_lines)
  SELECT nd.location_id, GREATEST(nd.delta, 0) FROM nd
  WHERE {_ALLOWED}
  ORDER BY nd.location_id
  ON CONFLICT (location_id) DO UPDATE SET open_lines = GREATEST(
    location_backlog.open_lines
    + (SELECT d.delta FROM nd d WHERE d.location_id = EXCLUDED.location_id), 0)
  RETURNING 1
), wk AS (
  INSERT INTO backorder_wakeups (sku, created_at)
  SELECT DISTINCT ol.sku, CAST(:wake_at AS timestamp) FROM order_lines ol
  WHERE ol.quantity_backordered > 0 AND ol.sku = ANY(CAST(:wake_skus AS varchar[]))
    AND {_ALLOWED}
  RETURNING 1
)"""
# its rows: the allocation's (allocation_pg.ALLOCATE_ROWS), each new fulfilment line's
# (id, fulfilment, order line) and one of counts: rows changed, then "events,settlements,
# backlog rows,wakeups"
_STATEMENT = (
    f"WITH {allocation_pg.ALLOCATE_CTES}, "
    f"{order_changes_pg.CHANGE_CTES.format(allowed=_ALLOWED)}, "
    f"{NEW_FULFILMENT_CTES.format(allowed=_ALLOWED)}, {_OTHER_CTES}"
    f"{allocation_pg.ALLOCATE_ROWS} UNION ALL "
    "SELECT 'line', nfl.id, nfl.fulfilment_id, NULL, nfl.order_line_id, NULL, NULL FROM nfl "
    f"UNION ALL SELECT 'saved', {order_changes_pg.CHANGED_COUNT}, concat_ws(',', "
    "(SELECT count(*) FROM ne), (SELECT count(*) FROM ns), (SELECT count(*) FROM nb), "
    "(SELECT count(*) FROM wk)), NULL, NULL, NULL, NULL")
_SQL, _NAMES = numbered(_STATEMENT)


@dataclass(frozen=True)
class Saved:
    """The allocation's outcome; when it took the units, the new fulfilment lines'
    (id, fulfilment_id, order_line_id) as inserted."""

    outcome: allocation_pg.Outcome
    lines: list[tuple[int, str, int]]


def allocate_and_save(session: Session, seen: Sequence[allocation_pg.Seen],
                      deltas: Mapping[tuple[str, str], int], ruleset: str, now: datetime,
                      save: OrderSave, wake: Sequence[str]) -> Saved:
    """allocation_pg.allocate_if_unchanged, and when it takes the units, the order's `save`
    and a wakeup for each SKU of `wake` some order has backordered, in one statement (one
    round trip); when a position moved, nothing is written. Raises if a row of the save
    was not written (a row of the order missing)."""
    params = allocation_pg.parameters(seen, deltas, ruleset, now)
    params.update(parameters(save, wake, now))
    rows = run_numbered(session, _SQL, [params[name] for name in _NAMES])
    outcome = allocation_pg.outcome(rows, len(seen))
    changed, counts = next((r[1], r[2]) for r in rows if r[0] == "saved")
    lines = [(r[1], r[2], r[4]) for r in rows if r[0] == "line"]
    expected = (len(save.changed), len(save.new.lines), len(save.events),
                len(save.settlements), len(save.backlog))
    got = (changed, len(lines), *(int(n) for n in counts.split(",")[:3]))
    if got != (expected if outcome.taken else (0,) * len(expected)):
        raise RuntimeError(f"order {save.order.id}: saved {got}, expected {expected}")
    return Saved(outcome, lines)


def parameters(save: OrderSave, wake: Sequence[str], now: datetime) -> dict[str, Any]:
    """The save's parameters (names the allocation's do not use)."""
    params = order_changes_pg.parameters(save.changed)
    params.update(save.new.parameters(save.events))
    params["ns_rows"] = json_text([{**row, "created_at": naive_utc(row["created_at"])}
                                   for row in save.settlements])
    params["nb_rows"] = json_text([{"location_id": loc, "delta": n}
                                   for loc, n in sorted(save.backlog.items())])
    params.update(wake_skus=sorted(set(wake)), wake_at=naive_utc(now))
    return params
