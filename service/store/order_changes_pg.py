"""PostgreSQL: the changed rows of one order written by one fixed statement over arrays
(unnest), the same text whatever changed: the columns an order's use cases change, each
changed row with all of them (an unchanged JSON column is not sent again)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.store.models.base import naive_utc
from service.store.order_aggregate_rows import Change
from service.store.orders_pg import json_value

# per table, the columns the fixed statement writes (an order's JSON columns last)
FIXED: dict[str, tuple[str, ...]] = {
    "orders": ("status", "updated_at", "cancel_reason", "explanation", "ship_to"),
    "order_lines": ("quantity", "quantity_cancelled", "quantity_backordered"),
    "fulfilments": ("status", "updated_at", "tracking", "reason", "shipped_at",
                    "delivered_at"),
    "fulfilment_lines": ("quantity_shipped", "quantity_rejected", "quantity_cancelled"),
}
_JSON = ("explanation", "ship_to")

# the update's common table expressions; {allowed} is a condition every row must meet (TRUE,
# or one that lets them change only when another part of the statement allowed it)
CHANGE_CTES = """
o AS (
  UPDATE orders SET status = :o_status, updated_at = :o_updated_at,
         cancel_reason = :o_cancel_reason,
         explanation = CASE WHEN :o_set_explanation THEN CAST(:o_explanation AS json)
                            ELSE orders.explanation END,
         ship_to = CASE WHEN :o_set_ship_to THEN CAST(:o_ship_to AS json)
                        ELSE orders.ship_to END
  WHERE orders.id = :o_id AND {allowed}
  RETURNING 1 AS n
), l AS (
  UPDATE order_lines SET quantity = x.quantity, quantity_cancelled = x.cancelled,
         quantity_backordered = x.backordered
  FROM unnest(CAST(:l_id AS integer[]), CAST(:l_quantity AS integer[]),
              CAST(:l_cancelled AS integer[]), CAST(:l_backordered AS integer[]))
       AS x(id, quantity, cancelled, backordered)
  WHERE order_lines.id = x.id AND {allowed}
  RETURNING 1 AS n
), f AS (
  UPDATE fulfilments SET status = x.status, updated_at = x.updated_at, tracking = x.tracking,
         reason = x.reason, shipped_at = x.shipped_at, delivered_at = x.delivered_at
  FROM unnest(CAST(:f_id AS varchar[]), CAST(:f_status AS varchar[]),
              CAST(:f_updated_at AS timestamp[]), CAST(:f_tracking AS varchar[]),
              CAST(:f_reason AS varchar[]), CAST(:f_shipped_at AS timestamp[]),
              CAST(:f_delivered_at AS timestamp[]))
       AS x(id, status, updated_at, tracking, reason, shipped_at, delivered_at)
  WHERE fulfilments.id = x.id AND {allowed}
  RETURNING 1 AS n
), fl AS (
  UPDATE fulfilment_lines SET quantity_shipped = x.shipped, quantity_rejected = x.rejected,
         quantity_cancelled = x.cancelled
  FROM unnest(CAST(:fl_id AS integer[]), CAST(:fl_shipped AS integer[]),
              CAST(:fl_rejected AS integer[]), CAST(:fl_cancelled AS integer[]))
       AS x(id, shipped, rejected, cancelled)
  WHERE fulfilment_lines.id = x.id AND {allowed}
  RETURNING 1 AS n
)"""
# the rows the update found
CHANGED_COUNT = """(SELECT count(*) FROM o) + (SELECT count(*) FROM l) + (SELECT count(*) FROM f)
       + (SELECT count(*) FROM fl)"""
_WRITE = text(f"WITH {CHANGE_CTES.format(allowed='TRUE')} SELECT {CHANGED_COUNT}")

_PARAMS = {"o": "orders", "l": "order_lines", "f": "fulfilments", "fl": "fulfilment_lines"}
_SHORT = {"quantity_cancelled": "cancelled", "quantity_backordered": "backordered",
          "quantity_shipped": "shipped", "quantity_rejected": "rejected"}


def write_fixed(session: Session, rows: list[Change]) -> int:
    """Write (table, the row's values by column, the columns changed) rows of one order, at
    most one `orders` row; the rows found."""
    return int(session.execute(_WRITE, parameters(rows)).scalar_one())


def parameters(rows: list[Change]) -> dict[str, Any]:
    """CHANGE_CTES' parameters for these rows of one order (one array per column)."""
    by_table: dict[str, list[tuple[dict[str, Any], set[str]]]] = {t: [] for t in FIXED}
    for table, values, changed in rows:
        by_table[table].append((values, changed))
    params: dict[str, Any] = _order_params(by_table["orders"])
    for prefix, table in _PARAMS.items():
        if prefix == "o":
            continue
        found = by_table[table]
        params[f"{prefix}_id"] = [values["id"] for values, _changed in found]
        for column in FIXED[table]:
            params[f"{prefix}_{_SHORT.get(column, column)}"] = [
                naive_utc(values[column]) if column.endswith("_at") else values[column]
                for values, _changed in found]
    return params


def _order_params(found: list[tuple[dict[str, Any], set[str]]]) -> dict[str, Any]:
    """The order row's parameters (its id None when it did not change: nothing matches)."""
    if len(found) > 1:
        raise ValueError("the fixed statement writes one order's rows")
    values, changed = found[0] if found else ({}, set())
    params = {"o_id": values.get("id"), "o_status": values.get("status"),
              "o_updated_at": naive_utc(values.get("updated_at")),
              "o_cancel_reason": values.get("cancel_reason")}
    for column in _JSON:
        sent = column in changed
        params[f"o_set_{column}"] = sent
        params[f"o_{column}"] = json_value(values[column]) if sent else None
    return params
