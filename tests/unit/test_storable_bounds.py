"""Every money and quantity column holds the largest value the API can put in it: the bounds
of schemas/api and of the ledger, set against the column sizes of the models (PostgreSQL's
INTEGER is 32 bits, BIGINT 64; NUMERIC(p, s) holds 10^(p-s) less one cent)."""

from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, Integer, Numeric

from service.domain.ledger import MAX_QUANTITY
from service.settings import load_schema
from service.store.models import Base

INT_RANGE, BIGINT_RANGE = (-(2**31), 2**31 - 1), (-(2**63), 2**63 - 1)


def schema_bound(name: str, *path: str, bound: str = "maximum") -> Decimal:
    node = load_schema(f"api/{name}.schema.json")
    for key in path:
        node = node[key]
    return Decimal(str(node[bound]))


UNIT_PRICE = schema_bound("plan_request", "properties", "lines", "items", "properties",
                          "unit_price")
ORDER_QUANTITY = schema_bound("plan_request", "properties", "lines", "items", "properties",
                              "quantity")
PRODUCT_PRICE = schema_bound("product", "properties", "price")
LOCATION = ("location", "properties")

# the largest value the API can put in each money column, and how
MONEY = {
    "products.price": PRODUCT_PRICE,
    "order_lines.unit_price": max(UNIT_PRICE, PRODUCT_PRICE),  # sent, or the product's
    "settlement_records.amount": max(UNIT_PRICE, PRODUCT_PRICE) * ORDER_QUANTITY,  # a line
}
# the largest value each quantity column can be given, and how (none is below 0 but priority)
QUANTITIES = {
    "order_lines.quantity": ORDER_QUANTITY,
    "order_lines.quantity_cancelled": ORDER_QUANTITY,
    "order_lines.quantity_backordered": ORDER_QUANTITY,
    "fulfilment_lines.quantity": ORDER_QUANTITY,
    "fulfilment_lines.quantity_shipped": ORDER_QUANTITY,
    "fulfilment_lines.quantity_rejected": ORDER_QUANTITY,
    "fulfilment_lines.quantity_cancelled": ORDER_QUANTITY,
    "settlement_records.quantity": ORDER_QUANTITY,
    "reservations.quantity": schema_bound("reservation_request", "properties", "quantity"),
    "stock_positions.on_hand": MAX_QUANTITY,  # a count names, or an adjustment leaves, no more
    "stock_positions.allocated": MAX_QUANTITY,  # allocations and reservations take on_hand
    "stock_positions.reserved": MAX_QUANTITY,
    "return_lines.quantity": ORDER_QUANTITY,
    "locations.daily_capacity": schema_bound(*LOCATION, "daily_capacity"),
}
PRIORITY = (schema_bound(*LOCATION, "priority", bound="minimum"),
            schema_bound(*LOCATION, "priority"))
SUMMED = {"channel_availability.available"}  # over every location: no bound but the type's


def columns(kind: type) -> dict[str, object]:
    return {f"{table.name}.{column.name}": column.type
            for table in Base.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, kind)}


def numeric_max(type_: Numeric) -> Decimal:
    return Decimal(10) ** (type_.precision - type_.scale) - Decimal(10) ** -type_.scale


def test_every_money_column_is_accounted_for():
    assert set(columns(Numeric)) == set(MONEY)


@pytest.mark.parametrize("name", sorted(MONEY))
def test_a_money_column_holds_the_most_the_api_accepts(name):
    assert numeric_max(columns(Numeric)[name]) >= MONEY[name]


@pytest.mark.parametrize("name", sorted(QUANTITIES))
def test_a_quantity_column_holds_the_most_the_api_accepts(name):
    low, high = _range(columns(Integer)[name])
    assert low <= 0 and QUANTITIES[name] <= high


def test_a_locations_priority_fits_its_column_both_ways():
    low, high = _range(columns(Integer)["locations.priority"])
    assert low <= PRIORITY[0] and PRIORITY[1] <= high


def test_a_quantity_summed_over_locations_is_kept_in_sixty_four_bits():
    assert all(isinstance(columns(Integer)[name], BigInteger) for name in SUMMED)
    assert 100_000 * MAX_QUANTITY < BIGINT_RANGE[1]  # a hundred thousand full locations


def _range(type_: object) -> tuple[int, int]:
    return BIGINT_RANGE if isinstance(type_, BigInteger) else INT_RANGE
