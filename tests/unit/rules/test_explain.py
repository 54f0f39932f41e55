"""Rules said in words for people who never read YAML."""

from service.rules.explain import explain_condition, explain_rule, explain_ruleset
from service.rules.loader import build_rule, load_file
from tests.support import FIXTURES


def test_a_store_buffer_reads_as_a_sentence():
    rule = build_rule({"name": "keep", "conditions": {"all": [
        {"name": "location_type", "operator": "equal_to", "value": "store"}]},
        "actions": [{"name": "hold_back_units", "params": {"units": 2}}]})
    assert explain_rule("web", rule) == "web: when location type is store, keep 2 units back"


def test_one_unit_is_singular_and_a_percent_keeps_its_sign():
    one = build_rule({"name": "one", "conditions": {"all": [
        {"name": "available", "operator": "greater_than", "value": 0}]},
        "actions": [{"name": "hold_back_units", "params": {"units": 1}},
                    {"name": "hold_back_percent", "params": {"percent": 20}}]})
    assert explain_rule("marketplace", one) == (
        "marketplace: when available is more than 0, keep 1 unit back and keep 20% back")


def test_any_of_several_is_bracketed_and_booleans_read_yes_or_no():
    node = {"all": [{"any": [
        {"name": "location_type", "operator": "equal_to", "value": "store"},
        {"name": "location_type", "operator": "equal_to", "value": "dropship"}]},
        {"name": "can_ship", "operator": "is_false"}]}
    assert explain_condition(node) == (
        "(location type is store or location type is dropship) and can ship is no")


def test_sourcing_exclusions_say_source_and_returns_say_how_to_dispose():
    ruleset = load_file(FIXTURES / "rulesets" / "default" / "v2.yaml").ruleset
    texts = {(e["section"], e["rule"]): e["text"] for e in explain_ruleset(ruleset)}
    assert texts[("sourcing", "skip-overloaded-locations")] == (
        "sourcing: when backlog ratio is more than 1.5, do not source from the location")
    assert texts[("returns", "defective-goods-go-back-to-vendor")] == (
        "returns: when condition is defective, dispose of it as return to vendor")
    assert len(texts) == sum(len(r) for r in ruleset.channels.values()) + len(
        ruleset.sourcing.rules) + len(ruleset.returns.rules)
