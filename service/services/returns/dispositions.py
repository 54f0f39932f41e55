"""What happens to returned units: the active ruleset's `returns` rules decide per line.

The facts of a received line are the returns context's variables (service/rules/variables.py):
the product's, the receiving location's, the order's channel, the line's condition and reason,
and the days since the units were delivered (shipped, when no delivery was reported).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.domain.orders import Order
from service.rules import evaluate_return
from service.rules.evaluate import ReturnOutcome
from service.rules.model import Ruleset
from service.store.catalog import CatalogSnapshot

SECONDS_PER_DAY = 86400


def decide(ruleset: Ruleset, catalog: CatalogSnapshot, order: Order, location: str,
           line: dict[str, Any], now: datetime) -> ReturnOutcome:
    """The disposition of one receipt line and the rule that decided it (first match wins;
    none: the ruleset's default_disposition)."""
    return evaluate_return(ruleset, line_facts(catalog, order, location, line, now))


def line_facts(catalog: CatalogSnapshot, order: Order, location: str, line: dict[str, Any],
               now: datetime) -> dict[str, Any]:
    """The rule facts of one received line."""
    return {**catalog.products[line["sku"]], **catalog.locations[location],
            "channel": order.channel, "condition": line["condition"],
            "reason": line["reason"], "days_since_delivery": _days_since(order, line["sku"], now)}


def _days_since(order: Order, sku: str, now: datetime) -> float:
    """Whole days since the latest delivery (else shipment) of this SKU's units; 0: none."""
    times = [f.delivered_at or f.shipped_at for f in order.fulfilments
             if any(row.sku == sku and row.shipped for row in f.lines)]
    known = [t for t in times if t is not None]
    if not known:
        return 0
    return max(0, (now - max(known)).total_seconds() // SECONDS_PER_DAY)
