"""An order's lines and fulfilments point at it, at products and at locations by construction
(migrations 0032 and 0033 dropped the foreign keys that checked it): rows that would point at
nothing are refused, an unknown SKU is a 422, and nothing of the order is written (SQLite and
PostgreSQL)."""

import dataclasses

import pytest
from sqlalchemy import text

from service.domain.roles import Role
from service.errors import ValidationFailed
from service.services.inventory import pushes
from service.services.orders import editing, placing
from service.store import orders as order_store
from tests.support import T1, snapshot

ADMIN = Role.parse("admin")
BODY = {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74},
        "lines": [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 2}]}
ORPHANS = {
    "order lines without their order":
        "SELECT count(*) FROM order_lines l WHERE NOT EXISTS"
        " (SELECT 1 FROM orders o WHERE o.id = l.order_id)",
    "fulfilments without their order":
        "SELECT count(*) FROM fulfilments f WHERE NOT EXISTS"
        " (SELECT 1 FROM orders o WHERE o.id = f.order_id)",
    "fulfilment lines without their fulfilment":
        "SELECT count(*) FROM fulfilment_lines fl WHERE NOT EXISTS"
        " (SELECT 1 FROM fulfilments f WHERE f.id = fl.fulfilment_id)",
    "fulfilment lines without their order line":
        "SELECT count(*) FROM fulfilment_lines fl WHERE NOT EXISTS"
        " (SELECT 1 FROM order_lines l WHERE l.id = fl.order_line_id)",
    # migration 0033: no foreign keys to master data either
    "order lines of no product":
        "SELECT count(*) FROM order_lines l WHERE NOT EXISTS"
        " (SELECT 1 FROM products p WHERE p.sku = l.sku)",
    "fulfilment lines of no product or of another SKU than their line":
        "SELECT count(*) FROM fulfilment_lines fl WHERE NOT EXISTS"
        " (SELECT 1 FROM products p JOIN order_lines l ON l.sku = p.sku"
        "  WHERE p.sku = fl.sku AND l.id = fl.order_line_id)",
    "fulfilments at no location":
        "SELECT count(*) FROM fulfilments f WHERE NOT EXISTS"
        " (SELECT 1 FROM locations loc WHERE loc.id = f.location_id)",
}


@pytest.fixture
def policy():
    return "ledger@1"


def _stocked(ctx):
    body = snapshot("DC-1", T1, {"A": 10, "B": 10})
    pushes.push_snapshot(ctx, ADMIN, body, body["items"])


def _counts(ctx):
    with ctx.engine.connect() as conn:
        return {table: conn.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in ("orders", "order_lines", "fulfilments", "fulfilment_lines")} | {
            "allocated": conn.scalar(text("SELECT coalesce(sum(allocated), 0)"
                                          " FROM stock_positions"))}


def _tampered(monkeypatch, change):
    """The order repository's rows of a new order, altered by `change` (a bug's rows)."""
    build = order_store.new_order_rows

    def rows(order, response):
        return change(build(order, response))
    monkeypatch.setattr(order_store, "new_order_rows", rows)


def _other_fulfilment(new):
    line = {**new.fulfilment_lines[0], "fulfilment_id": "not-a-fulfilment"}
    return dataclasses.replace(new, fulfilment_lines=[line, *new.fulfilment_lines[1:]])


def _missing_line(new):
    line = {**new.fulfilment_lines[0], "line_no": 99}
    return dataclasses.replace(new, fulfilment_lines=[line, *new.fulfilment_lines[1:]])


def _another_order(new):
    return dataclasses.replace(new, lines=[{**new.lines[0], "order_id": "another-order"},
                                           *new.lines[1:]])


@pytest.mark.parametrize("change", [_other_fulfilment, _missing_line, _another_order],
                         ids=["a fulfilment of no order", "a line the order lacks",
                              "another order's id"])
def test_an_order_whose_rows_would_point_at_nothing_is_refused_and_nothing_is_written(
        small_network, monkeypatch, change):
    ctx = small_network
    _stocked(ctx)
    before = _counts(ctx)
    _tampered(monkeypatch, change)

    with pytest.raises(ValueError, match="point at nothing"):
        placing.place(ctx, ADMIN, BODY, "key-1")

    assert _counts(ctx) == before


def test_placed_orders_leave_no_line_or_fulfilment_pointing_at_nothing(small_network):
    ctx = small_network
    _stocked(ctx)
    placed = [placing.place(ctx, ADMIN, {**BODY, "lines": [{"sku": "A", "quantity": 1},
                                                           {"sku": "B", "quantity": 1}]},
                            f"key-{n}") for n in range(3)]

    counts = _counts(ctx)
    assert counts["orders"] == 3 and counts["fulfilment_lines"] == sum(
        len(f["lines"]) for order in placed for f in order["fulfilments"]) > 0
    with ctx.engine.connect() as conn:
        assert {what: conn.scalar(text(sql)) for what, sql in ORPHANS.items()} == dict.fromkeys(
            ORPHANS, 0)


def test_an_order_or_an_edit_naming_an_unknown_sku_is_refused_and_nothing_is_written(
        small_network):
    ctx = small_network
    _stocked(ctx)
    placed = placing.place(ctx, ADMIN, BODY, "key-1")
    before = _counts(ctx)

    with pytest.raises(ValidationFailed) as placed_unknown:
        placing.place(ctx, ADMIN, {**BODY, "lines": [{"sku": "NOPE", "quantity": 1}]}, "key-2")
    with pytest.raises(ValidationFailed) as edited_unknown:
        editing.edit(ctx, ADMIN, placed["id"], {"lines": [{"sku": "NOPE", "quantity": 1}]},
                     "edit-1")

    for refused in (placed_unknown.value, edited_unknown.value):
        assert [p["pointer"] for p in refused.problems] == ["/lines/0/sku"]

    assert _counts(ctx) == before
