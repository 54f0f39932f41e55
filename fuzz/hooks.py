"""schemathesis hooks for fuzz/run.py: every order it places is a new one.

Generated `order_ref`s and `Idempotency-Key`s repeat ("0", "A"), so most orders would be a
409 naming an earlier order or a 422 for a reused key, and the links from a placed order
(read, cancel, ship) would rarely be walked. A short generated value (1 to 90 characters)
gets a serial number appended: still the same kind of value (valid or not, NUL and all).
"""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis

_SERIAL = itertools.count(1)


def _unique(value: Any) -> Any:
    if isinstance(value, str) and 0 < len(value) <= 90 and value.strip():
        return f"{value}-{next(_SERIAL)}"
    return value


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    if case.operation.path == "/v1/orders" and case.method.upper() == "POST":
        if isinstance(case.body, dict) and "order_ref" in case.body:
            case.body["order_ref"] = _unique(case.body["order_ref"])
        if case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = _unique(case.headers["Idempotency-Key"])
    return case
