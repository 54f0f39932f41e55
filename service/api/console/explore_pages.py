"""Availability explorer, sourcing what-if and orders: the API's reads, shown."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from service.api.console.web import bp, page, role, signed_in
from service.api.current import context
from service.errors import ValidationFailed, problem
from service.services.availability import explorer, reads
from service.services.console import views
from service.services.orders import planning, reading, search

MAX_CART_LINES = 50
LOCATIONS_PER_PAGE = 100


@bp.get("/availability")
@signed_in
def availability() -> Response:
    """Find a SKU by SKU or name; for one SKU, each channel's figure, and the locations
    behind one channel's (?channel=, default the first): every one counted in the total,
    shown LOCATIONS_PER_PAGE at a time, most available first (?page=)."""
    query, sku = request.args.get("q", "").strip(), request.args.get("sku", "").strip()
    found = views.products(context(), role(), query) if query else []
    figures, detail = [], None
    if sku:
        channels = views.channels(context(), role())
        for channel in channels:
            read = reads.read(context(), role(), channel["channel"], [sku])
            figures.append({**channel, "available": read["items"][0]["available"],
                            "ruleset": read["ruleset"]})
        chosen = request.args.get("channel") or (channels[0]["channel"] if channels else None)
        if chosen is not None:
            asked = request.args.get("page", "")
            detail = explorer.locations_page(
                context(), role(), chosen, sku,
                int(asked) if asked.isdigit() and len(asked) < 7 else 1, LOCATIONS_PER_PAGE)
            detail["sells"] = next((c["sells"] for c in channels if c["channel"] == chosen), [])
    return page("availability.html", query=query, found=found, sku=sku, figures=figures,
                detail=detail)


def _cart(text: str) -> list[dict[str, Any]]:
    """Lines "SKU QUANTITY", one a line; a 422 naming the first bad one."""
    lines = []
    for number, row in enumerate(text.splitlines(), 1):
        parts = row.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].isdigit() or not 0 < int(parts[1]) <= 100000:
            raise ValidationFailed("The cart is not valid.", [problem(
                "/cart", f"line {number}: expected a SKU and a quantity, e.g. 'SKU-1 2'")])
        lines.append({"sku": parts[0], "quantity": int(parts[1])})
    if not lines or len(lines) > MAX_CART_LINES:
        raise ValidationFailed("The cart is not valid.", [problem(
            "/cart", f"expected 1 to {MAX_CART_LINES} lines")])
    return lines


def _ship_to(form: Any) -> dict[str, Any]:
    if form.get("postal_code", "").strip():
        return {"postal_code": form["postal_code"].strip(),
                "country": form.get("country", "US").strip() or "US"}
    try:
        return {"lat": float(form.get("lat", "")), "lon": float(form.get("lon", ""))}
    except ValueError:
        raise ValidationFailed("Where does it go?", [problem(
            "/ship_to", "give a postal code, or a latitude and a longitude")]) from None


@bp.route("/sourcing", methods=["GET", "POST"])
@signed_in
def sourcing() -> Response:
    """An address and a cart: the plan, ranked candidates with their cost factors, the
    rules that matched, and a map of the locations."""
    channels = views.channels(context(), role())
    if request.method == "GET":
        return page("sourcing.html", channels=channels, form={}, plan=None)
    form = request.form
    body = {"channel": form.get("channel", ""), "ship_to": _ship_to(form),
            "lines": _cart(form.get("cart", ""))}
    plan = planning.plan(context(), role(), body)
    ids = sorted({c["location"] for line in plan.get("explanation", {}).get("lines", [])
                  for c in line["ranked"]} | {s["location"] for s in plan["shipments"]})
    return page("sourcing.html", channels=channels, form=form, plan=plan,
                map=sourcing_map(views.places(context(), ids), plan, body["ship_to"]))


def sourcing_map(places: dict[str, dict[str, Any]], plan: dict[str, Any],
                 ship_to: dict[str, Any]) -> dict[str, Any]:
    """Points on an SVG (equirectangular over the points' box): locations, chosen ones
    marked, and the ship-to when it has coordinates."""
    chosen = {s["location"] for s in plan["shipments"]}
    points = [(p["lon"], p["lat"], p["id"], p["id"] in chosen) for p in places.values()
              if p["lat"] is not None and p["lon"] is not None]
    target = (ship_to["lon"], ship_to["lat"]) if "lat" in ship_to else None
    xs = [p[0] for p in points] + ([target[0]] if target else [])
    ys = [p[1] for p in points] + ([target[1]] if target else [])
    if not xs:
        return {"points": [], "target": None}
    west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    width, height = max(east - west, 0.01), max(north - south, 0.01)

    def at(lon: float, lat: float) -> tuple[float, float]:
        return (round(30 + 460 * (lon - west) / width, 1),
                round(30 + 300 * (north - lat) / height, 1))

    return {"points": [{"xy": at(x, y), "id": i, "chosen": c} for x, y, i, c in points],
            "target": at(*target) if target else None}


@bp.get("/orders")
@signed_in
def orders() -> Response:
    """Orders, newest first, filtered as GET /v1/orders is."""
    args = {k: v for k, v in request.args.items() if v.strip()}
    found = search.find(context(), role(), args)
    return page("orders.html", orders=found, args=args)


@bp.get("/orders/<order_id>")
@signed_in
def order(order_id: str) -> Response:
    """An order: lines, fulfilments, the plan's explanation and the timeline."""
    shown = reading.read(context(), role(), order_id)
    return page("order.html", order=shown, timeline=search.timeline(context(), role(), order_id))
