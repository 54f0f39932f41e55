"""A store works its queue on a tablet: accept, pick, pack, ship with tracking; the order
page and the sourcing what-if show what happened and why."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import check, sign_in

NYC = {"lat": 40.71, "lon": -74.0}


def test_a_store_accepts_and_ships_and_the_order_shows_it(served, open_page):
    placed = served.api("POST", "/v1/orders", {
        "channel": "web", "ship_to": NYC, "order_ref": "browser-1",
        "lines": [{"sku": "C", "quantity": 1}]})
    fulfilment = placed["fulfilments"][0]["id"]
    page = open_page
    page.set_viewport_size({"width": 1024, "height": 768})  # a tablet
    sign_in(page, served, "location:ST-1")
    page.click("text=Work queue")
    check(page, "work-queue")
    for button in ("Accept", "Picked", "Packed"):
        page.click(f"button:has-text('{button} {fulfilment}')")
        expect(page.locator(".message.ok")).to_contain_text(fulfilment)
    page.fill("input[name=tracking]", "1Z999")
    page.click(f"button:has-text('Ship {fulfilment}')")
    expect(page.locator("main")).to_contain_text("Nothing to do")
    check(page)
    order = served.api("GET", f"/v1/orders/{placed['id']}")
    assert order["fulfilments"][0]["status"] == "shipped"
    assert order["fulfilments"][0]["tracking"] == "1Z999"


def test_orders_and_a_sourcing_what_if_are_explained(served, open_page):
    page = open_page
    sign_in(page, served, "admin")
    page.goto(served.url + "/console/orders")
    check(page, "orders")
    page.click("td a")
    expect(page.locator("h1")).to_contain_text("Order")
    check(page, "order")
    page.goto(served.url + "/console/sourcing")
    page.fill("#lat", "40.71")
    page.fill("#lon", "-74.0")
    page.fill("#cart", "A 2\nB 1")
    page.click("button:has-text('Plan')")
    expect(page.locator("svg[aria-labelledby=map-title]")).to_be_visible()
    expect(page.locator("main")).to_contain_text("ranked candidates")
    check(page, "sourcing")
