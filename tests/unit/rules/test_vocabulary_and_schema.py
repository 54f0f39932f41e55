"""Vocabulary exported from business-rules, and the schema editors use."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from jsonschema import Draft7Validator

from service.rules import export_vocabulary
from service.rules.variables import variables_of
from service.rules.vocabulary import (
    DISPOSITIONS,
    VARIABLE_TYPES,
    VOCABULARY,
    ChannelVariables,
)

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "schemas" / "ruleset.schema.json").read_text())


def test_vocabulary_is_exported_per_context():
    vocabulary = export_vocabulary()
    assert set(vocabulary) == {"channel", "sourcing", "returns"}
    channel_vars = {v["name"] for v in vocabulary["channel"]["variables"]}
    assert {"sku", "tags", "location_type", "available", "channel"} <= channel_vars
    actions = {a["name"] for a in vocabulary["channel"]["actions"]}
    assert actions == {"hold_back_units", "hold_back_percent", "exclude_location",
                       "count_in_transit"}
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


def test_schema_names_and_describes_the_declared_variables_of_each_context():
    for context in VOCABULARY.values():
        variables = sorted(variables_of(context.name), key=lambda v: v.name)
        condition = SCHEMA["definitions"][f"{context.name}Condition"]
        assert condition["properties"]["name"]["examples"] == [v.name for v in variables]
        described = "; ".join(
            f"{v.name} ({v.type}{': ' + '|'.join(v.options) if v.options else ''})"
            for v in variables)
        assert condition["description"].endswith(f"Variables here: {described}.")
        operators = sorted({op for t in VARIABLE_TYPES.values() for op in context.operators[t]})
        assert condition["properties"]["operator"]["examples"] == operators


def test_schema_dispositions_are_the_set_disposition_options():
    assert SCHEMA["definitions"]["disposition"]["enum"] == DISPOSITIONS
    action = VOCABULARY["returns"].actions["set_disposition"]
    assert list(action.options["disposition"]) == DISPOSITIONS


def test_shipped_rulesets_are_schema_valid():
    validator = Draft7Validator(SCHEMA)
    for path in (ROOT / "rulesets").rglob("*.yaml"):
        if path.name == "experiments.yaml":  # rules/experiments.py checks it
            continue
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []
