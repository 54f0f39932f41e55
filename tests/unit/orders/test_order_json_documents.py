"""The JSON a new order's statement sends to PostgreSQL holds the values the standard
library's encoder wrote before (orjson now encodes it)."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest

from service.store import allocation_pg, orders_pg


def test_an_orders_documents_read_back_as_the_standard_encoder_wrote_them() -> None:
    value = {"total_cost": 917.0014454491998, "tiny": 1e-05, "ratio": 0.44999999999999996,
             "shipments": [{"location": "ST-0001", "lines": [{"sku": "A", "quantity": 2}]}],
             "none": None, "flag": True, "text": "caf\u00e9 \"quoted\" \\ back"}
    assert json.loads(orders_pg.json_text(value)) == json.loads(json.dumps(value))


def test_keys_that_are_not_text_and_numpy_numbers_are_written_as_the_standard_encoder_does(
) -> None:
    value = {1: "one", "cost": np.float64(2.5), "units": np.int64(3)}
    assert json.loads(orders_pg.json_text(value)) == {"1": "one", "cost": 2.5, "units": 3}


def test_amounts_go_as_their_exact_text_for_numeric_columns() -> None:
    assert json.loads(orders_pg.json_text({"unit_price": Decimal("52.330000001")})) == {
        "unit_price": "52.330000001"}


def test_a_value_the_standard_encoder_refused_is_still_refused() -> None:
    with pytest.raises(TypeError):
        orders_pg.json_text({"at": object()})


def test_the_positions_as_seen_go_as_json_rows_and_the_ats_moves_as_array_texts() -> None:
    from datetime import UTC, datetime

    params = allocation_pg.parameters(
        [allocation_pg.Seen(7, 10, 1, 0, 2)], {("web", "A"): -2, ("app", "A"): -2}, "r@1",
        datetime(2026, 12, 6, tzinfo=UTC))
    assert params["ids"] == "{7}"
    assert json.loads(params["want"]) == [
        {"id": 7, "on_hand": 10, "allocated": 1, "reserved": 0, "quantity": 2}]
    assert (params["channels"], params["skus"], params["deltas"]) == (
        '{"app","web"}', '{"A","A"}', "{-2,-2}")
