"""The fast schema check never accepts a payload jsonschema finds a problem in, and accepts
the usual valid payloads (so they skip jsonschema); jsonify_flat answers jsonify's bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.api.fast_json import jsonify_flat
from service.payloads import check, fast_accepts, validator

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "api"
NAMES = sorted(f.name[:-len(".schema.json")] for f in SCHEMAS.glob("*.schema.json"))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5),
                    st.sampled_from([0, 1, 1.0, 2.5, -1, "", "US", "ship", "x" * 200]))
ANY_JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8)


def near(schema: Any) -> st.SearchStrategy[Any]:
    """Values built from the schema: mostly valid, sometimes off by one thing."""
    if not isinstance(schema, dict):
        return ANY_JSON
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if "enum" in schema:
        valid = st.sampled_from(schema["enum"])
    elif kind == "object":
        props, required = schema.get("properties", {}), schema.get("required", [])
        valid = st.fixed_dictionaries(
            {k: near(props[k]) for k in required if k in props},
            optional={k: near(v) for k, v in props.items() if k not in required})
    elif kind == "array":
        valid = st.lists(near(schema.get("items", {})), min_size=schema.get("minItems", 0),
                         max_size=max(schema.get("minItems", 0), 3))
    elif kind in ("integer", "number"):
        low, high = schema.get("minimum", -10**6), schema.get("maximum", 10**6)
        valid = st.sampled_from([low, high, low - 1, high + 1, (low + high) // 2,
                                 float(low), high + 0.5])
    elif kind == "string":
        low, high = schema.get("minLength", 0), min(schema.get("maxLength", 8), 70)
        valid = st.sampled_from(["", "a" * low, "a" * high, "a" * (high + 1), "US", "us"])
    else:
        valid = ANY_JSON
    return st.one_of(valid, valid, valid, ANY_JSON)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_fast_check_accepts_only_what_jsonschema_finds_valid(name, data):
    accepts = fast_accepts(name)
    if accepts is None:
        return
    schema = validator(name).schema
    payload = data.draw(near(schema))
    if accepts(payload):
        assert not list(validator(name).iter_errors(payload)), payload


def test_a_usual_order_body_is_accepted_without_jsonschema():
    body = {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0},
            "lines": [{"sku": "SKU-000001", "quantity": 1}, {"sku": "SKU-000002",
                                                              "quantity": 2.0}]}
    assert fast_accepts("plan_request")(body) and check("plan_request", body) == []


def test_a_bad_order_body_still_gets_every_problem_named():
    body = {"channel": "", "lines": [{"sku": "A", "quantity": 0}], "extra": 1}
    assert not fast_accepts("plan_request")(body)
    assert [p["pointer"] for p in check("plan_request", body)] == ["", "/channel",
                                                                    "/lines/0/quantity"]


@pytest.mark.parametrize("data", [
    {"channel": "web", "ruleset": "default@3", "items": [{"sku": "A", "available": 3}],
     "experiment": None, "variant": None, "unknown_skus": ["B"]},
    {"text": "".join(map(chr, range(128))), "flags": [True, False, None, -2**63]},
    {"wide": "é\u2028"}, {"big": 2**70}, {"float": 1e16}, {"half": [{"x": 0.5}]},
    {"lone": "\ud800"}, {"deep": [[1]]},
])
def test_jsonify_flat_answers_jsonify_byte_for_byte(data):
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # as service.app does
    with app.app_context():
        fast, slow = jsonify_flat(data), jsonify(data)
        assert fast.get_data() == slow.get_data()
        assert fast.headers == slow.headers and fast.status == slow.status
