"""Vocabulary exported from business-rules, and the schema editors use."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from jsonschema import Draft7Validator

from service.rules import export_vocabulary
from service.rules.vocabulary import VOCABULARY, ChannelVariables

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "schemas" / "ruleset.schema.json").read_text())


def test_vocabulary_is_exported_per_context():
    vocabulary = export_vocabulary()
    assert set(vocabulary) == {"channel", "sourcing", "returns"}
    channel_vars = {v["name"] for v in vocabulary["channel"]["variables"]}
    assert {"sku", "tags", "location_type", "available", "channel"} <= channel_vars
    actions = {a["name"] for a in vocabulary["channel"]["actions"]}
    assert actions == {"hold_back_units", "hold_back_percent", "exclude_location"}
    assert "matches_regex" in {o["name"] for o in
                               vocabulary["returns"]["variable_type_operators"]["string"]}


def test_variables_read_plain_fact_dicts():
    variables = ChannelVariables({"sku": "A-1", "available": 3})
    assert variables.sku() == "A-1" and variables.available() == 3


def test_schema_is_valid_draft_07_and_names_itself():
    Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"].startswith("http://json-schema.org/draft-07")
    assert SCHEMA["$id"]


def test_schema_suggests_exactly_the_vocabulary():
    for context in VOCABULARY.values():
        suggested = SCHEMA["definitions"][f"{context.name}Condition"]["properties"]["name"]
        assert suggested["examples"] == sorted(context.variables)
        action_names = SCHEMA["definitions"][f"{context.name}Action"]["properties"]["name"]
        assert sorted(action_names["enum"]) == sorted(context.actions)


def test_shipped_rulesets_are_schema_valid():
    validator = Draft7Validator(SCHEMA)
    for path in (ROOT / "rulesets").rglob("*.yaml"):
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []
