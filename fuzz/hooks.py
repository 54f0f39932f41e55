"""schemathesis hooks for fuzz/run.py: every order it places is a new one, and every other
order it sends is a valid one.

Generated `order_ref`s and `Idempotency-Key`s repeat ("0", "A"), so most orders would be a
409 naming an earlier order or a 422 for a reused key, and the links from a placed order
(read, cancel, ship) would rarely be walked. A short generated value (1 to 90 characters)
gets a serial number appended: still the same kind of value (valid or not, NUL and all).

Generated order bodies almost never place an order (a random pickup location, reservations
of other orders, a ship-to nobody can geocode), so orders were only ever refused; every other
positive `POST /v1/orders` of the coverage and fuzzing phases is therefore rewritten into a
valid order of the seeded demo (a web order of one or two of its SKUs to one of its postal
codes), the rest are sent as generated. The stateful phase's cases skip `map_case`, so
`before_call` does the same for them: its links from a placed order (read, cancel, ship)
get walked.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

import schemathesis
from schemathesis.core.parameters import ParameterLocation

_SERIAL = itertools.count(1)
_ORDERS = itertools.count(0)
_VALUES: dict[str, list] = json.loads(os.environ.get("OMS_FUZZ_VALUES") or "{}")


def _valid_order(n: int) -> dict[str, Any]:
    """A web order the seeded demo can place: one or two of its SKUs to one of its postal
    codes, backordered where short."""
    skus, codes = _VALUES["skus"], _VALUES["postal_codes"]
    lines = [{"sku": skus[(n + i) % len(skus)], "quantity": 1 + i}
             for i in range(1 + (n // 2) % 2)]
    return {"channel": "web", "order_ref": f"fuzz-{next(_SERIAL)}", "on_short": "backorder",
            "ship_to": {"postal_code": codes[n % len(codes)]}, "lines": lines}


def _unique(value: Any) -> Any:
    if isinstance(value, str) and 0 < len(value) <= 90 and value.strip():
        return f"{value}-{next(_SERIAL)}"
    return value


def _positive(case: Any) -> bool:
    """Whether the case's body was generated as valid data (a negative one stays as it is)."""
    meta = getattr(case, "meta", None)
    return meta is None or not meta.is_negative_at(ParameterLocation.BODY)


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """The stateful phase's orders (its cases skip map_case): every other one is valid."""
    meta = getattr(case, "meta", None)
    if (meta is not None and str(meta.phase.name).lower().endswith("stateful")
            and case.operation.path == "/v1/orders" and case.method.upper() == "POST"):
        n = next(_ORDERS)
        if n % 2 and _VALUES.get("skus") and _VALUES.get("postal_codes"):
            case.body = _valid_order(n)


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    if case.operation.path == "/v1/orders" and case.method.upper() == "POST":
        n = next(_ORDERS)
        if n % 2 and _VALUES.get("skus") and _VALUES.get("postal_codes") and _positive(case):
            case.body = _valid_order(n)
        elif isinstance(case.body, dict) and "order_ref" in case.body:
            case.body["order_ref"] = _unique(case.body["order_ref"])
        if case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = _unique(case.headers["Idempotency-Key"])
    return case
