"""Compile rule conditions to dialect-neutral SQLAlchemy Core expressions (SQLite, PostgreSQL).

``columns`` maps each variable name to an SQL expression holding that fact. Select variables
(``tags``, ``location_tags``) must be stored as TEXT holding the lowercased values joined
with commas, with a comma at both ends: ``["Sale", "bulky"]`` → ``",sale,bulky,"`` and ``[]``
→ ``""`` (see ``encode_select``); values may not contain commas. SQLite connections need
``install_sqlite_functions`` (regexp, Python lowercasing). Numbers are compared in the
database's arithmetic with business-rules' 1e-6 epsilon: results agree with the reference
except when a difference lies within about 1e-22 of the epsilon itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Integer,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from service.rules.model import Ruleset
from service.rules.regex import postgres_pattern
from service.rules.vocabulary import VARIABLE_TYPES

_EPS = 1e-6
_MAX_ARGS = 100


def encode_select(values: Iterable[str]) -> str:
    """Store a select variable's list as SQL text: ``,a,b,`` lowercased (empty list → '')."""
    items = [str(v).lower() for v in values]
    if any("," in item for item in items):
        raise ValueError("select values may not contain ','")
    return f",{','.join(items)}," if items else ""


class greatest(FunctionElement):
    """Largest argument: ``greatest`` on PostgreSQL, multi-argument ``max`` on SQLite."""

    type = BigInteger()
    inherit_cache = True


class text_position(FunctionElement):
    """1-based position of a substring (0 when absent): ``strpos`` / ``instr``."""

    type = Integer()
    inherit_cache = True


class py_lower(FunctionElement):
    """Lowercase as Python does: ``lower`` on PostgreSQL, ``rules_lower`` on SQLite."""

    type = Text()
    inherit_cache = True


class regex_search(FunctionElement):
    """Python ``re.search`` semantics: ``regexp()`` on SQLite, ``~`` on PostgreSQL."""

    type = Boolean()
    inherit_cache = True


def _args(element: FunctionElement, compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses.clauses]


def _call(function: str) -> Any:
    """Render a construct as a plain SQL function call with the given name."""

    def render(element: FunctionElement, compiler: SQLCompiler, **kw: Any) -> str:
        return f"{function}({', '.join(_args(element, compiler, **kw))})"

    return render


# construct: (PostgreSQL and default name, SQLite name)
for _construct, (_default, _sqlite) in {
    greatest: ("greatest", "max"),
    text_position: ("strpos", "instr"),
    py_lower: ("lower", "rules_lower"),
}.items():
    compiles(_construct)(_call(_default))
    compiles(_construct, "sqlite")(_call(_sqlite))


@compiles(regex_search)
def _regex_default(element: regex_search, compiler: SQLCompiler, **kw: Any) -> str:
    value, _python, postgres = _args(element, compiler, **kw)
    return f"({value} ~ {postgres})"


@compiles(regex_search, "sqlite")
def _regex_sqlite(element: regex_search, compiler: SQLCompiler, **kw: Any) -> str:
    value, python, _postgres = _args(element, compiler, **kw)
    return f"regexp({python}, {value})"


def condition_to_sql(
    conditions: Mapping[str, Any], columns: Mapping[str, ColumnElement[Any]]
) -> ColumnElement[bool]:
    """Boolean SQL expression equivalent to a business-rules condition tree."""
    if "all" in conditions:
        return and_(*(condition_to_sql(c, columns) for c in conditions["all"]))
    if "any" in conditions:
        return or_(*(condition_to_sql(c, columns) for c in conditions["any"]))
    name, operator = conditions["name"], conditions["operator"]
    kind = VARIABLE_TYPES[name]
    column = columns[name]
    if kind == "numeric":
        return _numeric_sql(column, operator, conditions.get("value"))
    if kind == "string":
        return _string_sql(func.coalesce(column, ""), operator, conditions.get("value") or "")
    if kind == "boolean":
        return column.is_(true() if operator == "is_true" else false())
    if kind == "select":
        return _select_sql(column, operator, conditions.get("value"))
    raise ValueError(f"no SQL compiler for variables of type {kind}")


def _number(value: Any) -> ColumnElement[Any]:
    return literal(value, Float() if isinstance(value, float) else BigInteger())


def _numeric_sql(column: ColumnElement[Any], operator: str, value: Any) -> ColumnElement[bool]:
    diff = column - _number(value)
    eps = literal(_EPS, Float())
    neg = literal(-_EPS, Float())
    tests = {
        "equal_to": lambda: and_(diff >= neg, diff <= eps),
        "greater_than": lambda: diff > eps,
        "less_than": lambda: diff < neg,
        "greater_than_or_equal_to": lambda: diff >= neg,
        "less_than_or_equal_to": lambda: diff <= eps,
    }
    return tests[operator]()


def _string_sql(text: ColumnElement[Any], operator: str, value: str) -> ColumnElement[bool]:
    size = len(value)
    if operator == "equal_to":
        return text == literal(value, Text())
    if operator == "equal_to_case_insensitive":
        return py_lower(text) == literal(value.lower(), Text())
    if operator == "non_empty":
        return text != literal("", Text())
    if operator == "contains":
        return text_position(text, literal(value, Text())) > 0
    if operator == "matches_regex":
        return regex_search(
            text, literal(value, Text()), literal(postgres_pattern(value), Text())
        ).is_(true())
    if size == 0:
        return true()
    if operator == "starts_with":
        return func.substr(text, 1, size) == literal(value, Text())
    if operator == "ends_with":
        length = func.length(text)
        return and_(
            length >= size, func.substr(text, length - (size - 1)) == literal(value, Text())
        )
    raise ValueError(f"unknown string operator {operator}")


def _select_sql(column: ColumnElement[Any], operator: str, value: Any) -> ColumnElement[bool]:
    needle = literal(f",{str(value).lower()},", Text())
    found = text_position(func.coalesce(column, ""), needle)
    return found > 0 if operator == "contains" else found == 0


def _percent_sql(percent: int | float, available: ColumnElement[Any]) -> ColumnElement[Any]:
    fraction = Fraction(str(percent))
    num, den = fraction.numerator, fraction.denominator * 100
    return (literal(num, BigInteger()) * available + literal(den - 1, BigInteger())) // literal(
        den, BigInteger()
    )


def _largest(terms: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    if not terms:
        return literal(0, BigInteger())
    while len(terms) > 1:
        terms = [
            greatest(*terms[i : i + _MAX_ARGS]) if len(terms[i : i + _MAX_ARGS]) > 1 else terms[i]
            for i in range(0, len(terms), _MAX_ARGS)
        ]
    return terms[0]


def channel_ats_sql(
    ruleset: Ruleset,
    channel: str,
    columns: Mapping[str, ColumnElement[Any]],
    available_expr: ColumnElement[Any],
    conditions: Sequence[ColumnElement[bool] | None] = (),
) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
    """(hold_back, excluded) SQL expressions for one channel: largest hold-back, any exclusion.

    ``available_expr`` must be integral; a percent hold-back rounds up and a negative
    ``available`` counts as 0, exactly as ``evaluate_channel`` does. ``conditions`` may give,
    per rule of the channel (in order), an expression already holding the rule's condition
    (a column the caller computed once for many rows); None, or no entry, compiles it here.
    """
    whole = cast(available_expr, BigInteger())
    available = case((whole > 0, whole), else_=literal(0, BigInteger()))
    terms: list[ColumnElement[Any]] = []
    exclusions: list[ColumnElement[bool]] = []
    for index, rule in enumerate(ruleset.channels.get(channel, ())):
        given = conditions[index] if index < len(conditions) else None
        condition = condition_to_sql(rule.conditions, columns) if given is None else given
        for action in rule.actions:
            if action.name == "exclude_location":
                exclusions.append(condition)
                continue
            if action.name == "count_in_transit":  # channel_transit_sql's
                continue
            amount = (
                literal(int(action.params["units"]), BigInteger())
                if action.name == "hold_back_units"
                else _percent_sql(action.params["percent"], available)
            )
            terms.append(case((condition, amount), else_=literal(0, BigInteger())))
    excluded = or_(*exclusions) if exclusions else false()
    return _largest(terms), excluded


def channel_transit_sql(
    ruleset: Ruleset,
    channel: str,
    columns: Mapping[str, ColumnElement[Any]],
    arriving: Mapping[float, ColumnElement[Any]],
) -> ColumnElement[Any]:
    """The in-transit units one channel counts at a position: ``arriving[h]`` (units expected
    within h hours) of the longest count_in_transit window whose rule matches, else 0."""
    windows = sorted(
        ((float(action.params["within_hours"]), rule)
         for rule in ruleset.channels.get(channel, ())
         for action in rule.actions if action.name == "count_in_transit"),
        key=lambda pair: -pair[0])
    if not windows:
        return literal(0, BigInteger())
    whens = [(condition_to_sql(rule.conditions, columns),
              func.coalesce(arriving[hours], literal(0, BigInteger())))
             for hours, rule in windows]
    return case(*whens, else_=literal(0, BigInteger()))
