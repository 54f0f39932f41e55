"""A placed order's 201 body (document_response) holds the JSON values jsonify wrote for it:
amounts as their exact text, numpy numbers as numbers, keys that are not text as text, and
non-ASCII text and floats alike once parsed."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
from flask import Flask, jsonify

from service.api.fast_json import document_response

DOCUMENT = {
    "id": "o-1", "total_cost": 123.456, "tiny": 1e-7, "huge": 1e16, "unit_price": Decimal("9.99"),
    "factors": {"distance_km": np.float64(12.5), "priority": 3},
    "by_line": {1: "first", 2: "second"}, "name": "caf\u00e9 \U0001f600", "none": None,
    "lines": [{"sku": "A", "quantity": 2, "flags": [True, False]}],
}


def test_a_document_parses_to_what_jsonify_wrote():
    app = Flask(__name__)
    with app.app_context():
        ours = document_response(DOCUMENT)
        theirs = jsonify(DOCUMENT)
    assert ours.mimetype == "application/json"
    assert json.loads(ours.get_data()) == json.loads(theirs.get_data())
