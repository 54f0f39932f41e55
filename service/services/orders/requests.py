"""Plan and order requests: validated in full, every problem named, ship-to geocoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from service.domain.sourcing import UnknownPostalCode
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
    address: dict[str, Any] = field(default_factory=dict)  # the ship-to as the order keeps it
    on_short: str | None = None  # as asked; None: the ruleset's fallback decides

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
    ship_to = body.get("ship_to")
    found = _ship_to_problems(ship_to) if isinstance(ship_to, dict) else []
    if method == "pickup":
        location = body.get("pickup_location")
        if not location:
            return [*found, problem("/pickup_location", "a pickup order needs a pickup_location")]
        if isinstance(location, str) and location not in catalog.locations:
            return [*found, problem("/pickup_location", f"unknown location {location!r}")]
        return found
    if "ship_to" not in body:
        return [problem("/ship_to", "a ship-to is required: the address, with lat and lon "
                                    "or a postal_code")]
    return found


def address(ship_to: dict[str, Any]) -> dict[str, Any]:
    """A new ship-to checked (422 naming `/ship_to/...`) and located."""
    problems = _ship_to_problems(ship_to)
    if problems:
        raise ValidationFailed("The ship-to is not usable.", problems)
    return _located(ship_to)


def _ship_to_problems(ship_to: dict[str, Any]) -> list[dict]:
    """What keeps a ship-to off the map: half a coordinate, or neither coordinates nor a
    postal code to geocode (the schema names every other problem, field by field)."""
    if "lat" in ship_to and "lon" not in ship_to:
        return [problem("/ship_to/lon", "lon is required with lat")]
    if "lon" in ship_to and "lat" not in ship_to:
        return [problem("/ship_to/lat", "lat is required with lon")]
    if "lat" not in ship_to and "postal_code" not in ship_to:
        return [problem("/ship_to", "a ship-to needs lat and lon, or a postal_code to "
                                    "geocode")]
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
    address = _located(body.get("ship_to"))
    return SourcingRequest(
        channel=body["channel"], lines=lines,
        ship_to=(address["lat"], address["lon"]) if address else None,
        delivery_method=method, pickup_location=body.get("pickup_location"),
        attributes=attributes, order_ref=body.get("order_ref"),
        customer_id=body.get("customer_id"), address=address, on_short=body.get("on_short"))


def _located(ship_to: dict[str, Any] | None) -> dict[str, Any]:
    """The ship-to as sent, with its coordinates (geocoded from the postal code when absent);
    {} when there is none."""
    if ship_to is None:
        return {}
    if "lat" in ship_to:
        return {**ship_to, "lat": float(ship_to["lat"]), "lon": float(ship_to["lon"])}
    try:
        lat, lon = geocode_postal_code(ship_to["postal_code"], ship_to.get("country", "US"))
    except UnknownPostalCode as exc:
        exc.problems = [problem("/ship_to/postal_code", exc.detail)]
        raise
    return {**ship_to, "lat": lat, "lon": lon}
