"""Values changed without YAML: found from the vocabulary, replaced in place, comments kept."""

import pytest

from service.rules.edit import editable, set_values
from service.rules.loader import load_text
from tests.support import FIXTURES

TEXT = (FIXTURES / "rulesets" / "default" / "v2.yaml").read_text()


def test_each_condition_value_and_numeric_action_parameter_is_a_field_of_its_kind():
    fields = {f.pointer: f for f in editable(TEXT)}
    store = fields["/channels/web/rules/0/conditions/all/0/value"]
    assert (store.kind, store.value) == ("choice", "store")
    assert "dc" in store.options
    units = fields["/channels/web/rules/0/actions/0/params/units"]
    assert (units.kind, units.value) == ("number", 2)
    assert fields["/channels/web/rules/2/conditions/all/0/value"].kind == "text"
    assert fields["/sourcing/weights/backlog_ratio"].value == 100
    assert fields["/sourcing/split/max_shipments"].value == 3


def test_values_are_replaced_in_place_and_every_other_line_stays():
    changed = set_values(TEXT, {"/channels/web/rules/0/actions/0/params/units": 5,
                                "/channels/marketplace/rules/0/actions/0/params/percent": 30,
                                "/channels/web/rules/0/conditions/all/0/value": "3pl",
                                "/sourcing/weights/backlog_ratio": 150})
    before, after = TEXT.split("\n"), changed.split("\n")
    assert len(before) == len(after)
    differing = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(differing) == 4
    assert any('value: "3pl"}]}' in b for _a, b in differing)
    ruleset = load_text(changed, "v2.yaml").ruleset
    assert ruleset is not None
    assert ruleset.channels["web"][0].actions[0].params["units"] == 5
    assert ruleset.sourcing.weights["backlog_ratio"] == 150


def test_a_pointer_that_names_no_value_is_refused():
    with pytest.raises(KeyError):
        set_values(TEXT, {"/channels/web/rules/9/actions/0/params/units": 1})


def test_text_that_does_not_parse_has_no_fields():
    assert editable("name: [unclosed") == ()
