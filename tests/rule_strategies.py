"""Hypothesis strategies for rule conditions and facts (test support; needs hypothesis).

They cover every operator of every variable type the vocabulary uses, nested all/any
groups, regexes from the portable subset, and numbers around business-rules' epsilon.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from service.rules.regex import check_regex
from service.rules.vocabulary import VOCABULARY

CONTEXT = VOCABULARY["channel"]
BY_TYPE: dict[str, list[str]] = {}
for _spec in CONTEXT.variables.values():
    BY_TYPE.setdefault(_spec.type, []).append(_spec.name)

_OPERATOR_PAIRS = sorted((t, op) for t in BY_TYPE for op in CONTEXT.operators[t])
_WORDS = ["", "a", "A", "ab", "aB", "ba", "abc", "store", "dc", "a.b", "a\n", "x-y", "é", "É"]
_TAGS = ["a", "A", "sale", "Sale", "bulky", "x y", ""]
_NUMBERS = [0, 1, -1, 2, 0.5, -0.5, 1.25, 0.1, 0.2, 0.3, 1e-6, -1e-6, 5e-7, 2e-6, 100, 1e6]
_OFFSETS = [0, 0, 1e-6, -1e-6, 5e-7, -5e-7, 2e-6, 1e-7, 1.5e-6]

texts = st.sampled_from(_WORDS) | st.text(alphabet="aAbB.-_\n é", max_size=4)
numbers = (
    st.sampled_from(_NUMBERS)
    | st.integers(-5, 5)
    | st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    | st.integers(-(2**53), 2**53)
)
near_numbers = st.builds(lambda value, offset: value + offset, numbers, st.sampled_from(_OFFSETS))

_ATOMS = ["a", "b", "A", ".", "\\.", "[ab]", "[^a]", "[a-c]", "\\n", "x", " ", "é", "[\\]a]"]
_QUANTIFIERS = ["", "", "*", "+", "?", "{1,2}", "*?", "{2}"]
_pieces = st.builds(str.__add__, st.sampled_from(_ATOMS), st.sampled_from(_QUANTIFIERS))
_sequences = st.lists(_pieces, max_size=3).map("".join)
_groups = st.builds(
    lambda body, q: f"(?:{body}){q}" if body else "a",
    st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=2).map("".join),
    st.sampled_from(_QUANTIFIERS),
)
_branches = st.lists(_sequences | _groups, min_size=1, max_size=2).map("".join)
regexes = st.builds(
    lambda start, branches, end: start + "|".join(branches) + end,
    st.sampled_from(["", "^"]),
    st.lists(_branches, min_size=1, max_size=2),
    st.sampled_from(["", "$"]),
).filter(lambda pattern: check_regex(pattern) is None)


def _value(var_type: str, operator: str) -> st.SearchStrategy[Any]:
    if var_type == "numeric":
        return numbers
    if var_type == "select":
        return st.sampled_from(_TAGS + ["zz", "SALE"])
    if operator == "matches_regex":
        return regexes
    return texts


@st.composite
def leaf_conditions(draw: st.DrawFn) -> dict[str, Any]:
    """One condition on any variable with any operator of its type."""
    var_type, operator = draw(st.sampled_from(_OPERATOR_PAIRS))
    name = draw(st.sampled_from(BY_TYPE[var_type]))
    operators = CONTEXT.operators[var_type]
    if operators[operator] == "none":
        return {"name": name, "operator": operator}
    return {"name": name, "operator": operator, "value": draw(_value(var_type, operator))}


def _group(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda key, items: {key: items},
        st.sampled_from(["all", "any"]),
        st.lists(children, min_size=1, max_size=3),
    )


conditions = _group(st.recursive(leaf_conditions(), _group, max_leaves=6))


def _fact(var_type: str) -> st.SearchStrategy[Any]:
    if var_type == "numeric":
        return near_numbers
    if var_type == "boolean":
        return st.booleans()
    if var_type == "select":
        return st.lists(st.sampled_from(_TAGS), max_size=3)
    return st.none() | texts


facts = st.fixed_dictionaries({name: _fact(spec.type) for name, spec in CONTEXT.variables.items()})
