"""Compiled Python predicates agree with business-rules on generated conditions and facts."""

from __future__ import annotations

from business_rules.engine import check_conditions_recursively
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.rules.model import with_values
from service.rules.predicates import compile_conditions
from service.rules.vocabulary import ChannelVariables
from tests.rule_strategies import conditions, facts


def reference(tree: dict, fact_dict: dict) -> bool:
    return bool(check_conditions_recursively(with_values(tree), ChannelVariables(fact_dict)))


@settings(max_examples=500, deadline=None)
@given(conditions, st.lists(facts, min_size=1, max_size=4))
def test_compiled_predicate_agrees_with_business_rules(tree, fact_rows):
    predicate = compile_conditions(tree)
    for row in fact_rows:
        assert predicate(row) == reference(tree, row)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            "equal_to",
            "greater_than",
            "less_than",
            "greater_than_or_equal_to",
            "less_than_or_equal_to",
        ]
    ),
    st.floats(-1e3, 1e3, allow_nan=False) | st.integers(-10, 10),
    st.sampled_from([0, 1e-6, -1e-6, 1e-6 + 1e-22, 1e-6 - 1e-22, 9.999999e-7, 1.0000001e-6]),
)
@example("greater_than", 1.000001, 0)
@example("equal_to", 2**60 + 1, 0)
def test_numeric_comparisons_match_decimal_epsilon_at_the_boundary(operator, value, offset):
    tree = {"all": [{"name": "price", "operator": operator, "value": value}]}
    predicate = compile_conditions(tree)
    for price in (value + offset, value - offset, 2**60, 0.1 + 0.2):
        row = {"price": price}
        assert predicate(row) == reference(tree, row)


def test_numeric_facts_may_be_decimals_or_bools():
    from decimal import Decimal

    tree = {"all": [{"name": "price", "operator": "equal_to", "value": 1}]}
    predicate = compile_conditions(tree)
    for price in (Decimal("1.0000005"), True, Decimal("1.01"), False):
        assert predicate({"price": price}) == reference(tree, {"price": price})
