"""Plan and order requests: validated in full, every problem named, ship-to geocoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from service.errors import ValidationFailed, problem
from service.payloads import check
from service.rules.variables import entity_facts
from service.services.orders.geocoding import geocode_postal_code
from service.store.catalog import CatalogSnapshot


@dataclass(frozen=True)
class RequestLine:
    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class SourcingRequest:
    channel: str
    lines: tuple[RequestLine, ...]
    ship_to: tuple[float, float] | None
    delivery_method: str
    pickup_location: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    order_ref: str | None = None
    customer_id: str | None = None

    @property
    def order_value(self) -> float:
        return self.attributes["order_value"]

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def customer_tier(self) -> str | None:
        return self.attributes.get("customer_tier")

    def order_facts(self) -> dict[str, Any]:
        """The order-level rule variables (sourcing context)."""
        return {**entity_facts("request", self), **entity_facts("order", self)}


def parse(body: dict[str, Any], catalog: CatalogSnapshot, max_lines: int) -> SourcingRequest:
    """A SourcingRequest, or ValidationFailed naming every problem (nothing is written)."""
    lines = body.get("lines")
    if isinstance(lines, list) and len(lines) > max_lines:
        raise ValidationFailed(f"At most {max_lines} lines per order.", [problem(
            "/lines", f"{len(lines)} lines sent; the limit is {max_lines}")])
    problems = check("plan_request", body)
    if isinstance(lines, list):
        problems += _line_problems([ln for ln in lines if isinstance(ln, dict)], catalog)
    problems += _delivery_problems(body, catalog)
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the request.", problems)
    return _build(body, catalog)


def _line_problems(lines: list[dict[str, Any]], catalog: CatalogSnapshot) -> list[dict]:
    found, seen = [], {}
    for index, line in enumerate(lines):
        sku = line.get("sku")
        if not isinstance(sku, str):
            continue
        if sku in seen:
            found.append(problem(f"/lines/{index}/sku",
                                 f"duplicate line for {sku!r} (also line {seen[sku]})"))
        seen.setdefault(sku, index)
        if sku not in catalog.products:
            found.append(problem(f"/lines/{index}/sku", f"unknown sku {sku!r}"))
    return found


def _delivery_problems(body: dict[str, Any], catalog: CatalogSnapshot) -> list[dict]:
    attributes = body.get("attributes")
    method = attributes.get("delivery_method", "ship") if isinstance(attributes, dict) else "ship"
    if method == "pickup":
        location = body.get("pickup_location")
        if not location:
            return [problem("/pickup_location", "a pickup order needs a pickup_location")]
        if isinstance(location, str) and location not in catalog.locations:
            return [problem("/pickup_location", f"unknown location {location!r}")]
        return []
    if "ship_to" not in body:
        return [problem("/ship_to", "a ship-to is required: {lat, lon} or {postal_code}")]
    return []


def _cents(price: Any) -> Decimal:
    """A price as the order keeps it: two decimals, halves away from zero (as NUMERIC(12,2))."""
    return Decimal(str(price)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _build(body: dict[str, Any], catalog: CatalogSnapshot) -> SourcingRequest:
    lines = tuple(
        RequestLine(i + 1, line["sku"], line["quantity"],
                    _cents(line.get("unit_price", catalog.products[line["sku"]]["price"])))
        for i, line in enumerate(body["lines"]))
    attributes = dict(body.get("attributes") or {})
    attributes.setdefault("order_value",
                          float(sum(line.unit_price * line.quantity for line in lines)))
    method = attributes.get("delivery_method", "ship")
    return SourcingRequest(
        channel=body["channel"], lines=lines, ship_to=_ship_to(body.get("ship_to")),
        delivery_method=method, pickup_location=body.get("pickup_location"),
        attributes=attributes, order_ref=body.get("order_ref"),
        customer_id=body.get("customer_id"))


def _ship_to(ship_to: dict[str, Any] | None) -> tuple[float, float] | None:
    if ship_to is None:
        return None
    if "lat" in ship_to:
        return float(ship_to["lat"]), float(ship_to["lon"])
    return geocode_postal_code(ship_to["postal_code"], ship_to.get("country", "US"))
