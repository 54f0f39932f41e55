"""Conditions compiled to SQL give business-rules' answers on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from business_rules.engine import check_conditions_recursively
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    case,
    delete,
    insert,
    select,
)

from service.rules.evaluate import evaluate_channel, evaluate_channel_reference
from service.rules.loader import build_ruleset
from service.rules.model import with_values
from service.rules.sql import (
    channel_ats_sql,
    channel_transit_sql,
    condition_to_sql,
    encode_select,
)
from service.rules.vocabulary import ChannelVariables
from tests.rule_strategies import CONTEXT, conditions, facts, regexes, texts

SQL_TYPES = {"string": Text, "numeric": Float, "boolean": Boolean, "select": Text}
WINDOWS = (6.0, 24.0, 48.5)  # count_in_transit windows of the generated rules (hours)
BOUNDED = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def facts_table(name: str) -> Table:
    columns = [Column("id", Integer, primary_key=True)]
    columns += [Column(spec.name, SQL_TYPES[spec.type]) for spec in CONTEXT.variables.values()]
    columns.append(Column("available_units", BigInteger))
    columns += [Column(f"arriving_{i}", BigInteger) for i in range(len(WINDOWS))]
    return Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])


def row_of(index: int, fact_dict: dict[str, Any]) -> dict[str, Any]:
    row = {"id": index, "available_units": int(fact_dict["available"])}
    row.update({f"arriving_{i}": arriving_units(index, i) for i in range(len(WINDOWS))})
    for spec in CONTEXT.variables.values():
        value = fact_dict[spec.name]
        row[spec.name] = encode_select(value) if spec.type == "select" else value
    return row


def arriving_units(index: int, window: int) -> int:
    """Units in transit expected within WINDOWS[window] at row `index` (more for longer)."""
    return index % 3 + 2 * window + 1


def counted_units(index: int, hours: float | None) -> int:
    """What a row counts in transit when its longest matching window is `hours`."""
    return 0 if hours is None else arriving_units(index, WINDOWS.index(hours))


def load_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    conn.execute(delete(table))
    conn.execute(insert(table), [row_of(i, row) for i, row in enumerate(rows)])


def test_sql_conditions_agree_with_business_rules(db_engine: Engine):
    table = facts_table("rules_condition_facts")
    with db_engine.connect() as conn:
        table.create(conn)

        @BOUNDED
        @given(conditions, st.lists(facts, min_size=1, max_size=6))
        def check(tree: dict[str, Any], rows: list[dict[str, Any]]) -> None:
            load_rows(conn, table, rows)
            expr = case((condition_to_sql(tree, dict(table.c)), 1), else_=0)
            got = conn.execute(select(table.c.id, expr).order_by(table.c.id)).all()
            expected = [
                int(bool(check_conditions_recursively(with_values(tree), ChannelVariables(row))))
                for row in rows
            ]
            assert [value for _id, value in got] == expected

        check()
        conn.rollback()


channel_actions = st.sampled_from(
    [
        {"name": "exclude_location"},
        *({"name": "hold_back_units", "params": {"units": n}} for n in (0, 1, 2, 5)),
        *(
            {"name": "hold_back_percent", "params": {"percent": p}}
            for p in (10, 12.5, 33.3, 0.1, 0.3, 100, 150, 7.25)
        ),
        *({"name": "count_in_transit", "params": {"within_hours": h}} for h in WINDOWS),
    ]
)
channel_rules = st.lists(
    st.builds(
        lambda c, a: {"conditions": c, "actions": a},
        conditions,
        st.lists(channel_actions, min_size=1, max_size=2),
    ),
    min_size=1,
    max_size=4,
)
position_facts = st.builds(
    lambda f, available: {**f, "available": available}, facts, st.integers(-3, 1000)
)


def ruleset_of(rules: list[dict[str, Any]]):
    named = [{"name": f"r{i}", **rule} for i, rule in enumerate(rules)]
    doc = {"name": "generated", "version": 1, "channels": {"web": {"rules": named}}}
    return build_ruleset(doc, "<generated>")


def test_sql_channel_ats_agrees_with_evaluation(db_engine: Engine):
    table = facts_table("rules_channel_facts")
    with db_engine.connect() as conn:
        table.create(conn)

        @BOUNDED
        @given(channel_rules, st.lists(position_facts, min_size=1, max_size=6))
        def check(rules: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
            ruleset = ruleset_of(rules)
            load_rows(conn, table, rows)
            hold, excluded = channel_ats_sql(
                ruleset, "web", dict(table.c), table.c.available_units
            )
            counted = channel_transit_sql(ruleset, "web", dict(table.c), {
                hours: table.c[f"arriving_{i}"] for i, hours in enumerate(WINDOWS)})
            query = (
                select(hold, case((excluded, 1), else_=0), counted)
                .select_from(table).order_by(table.c.id)
            )
            got = [(int(h), bool(x), int(c)) for h, x, c in conn.execute(query).all()]
            reference = [evaluate_channel_reference(ruleset, "web", row) for row in rows]
            compiled = [evaluate_channel(ruleset, "web", row) for row in rows]
            assert got == [(o.hold_back, o.excluded, counted_units(i, o.in_transit_hours))
                           for i, o in enumerate(reference)]
            assert compiled == reference

        check()
        conn.rollback()


def test_sql_regex_search_means_what_python_re_search_means(db_engine: Engine):
    table = facts_table("rules_regex_facts")
    with db_engine.connect() as conn:
        table.create(conn)

        @BOUNDED
        @given(
            regexes,
            st.lists(texts | st.text(alphabet="ab\n.A]", max_size=6), min_size=1, max_size=12),
        )
        def check(pattern: str, values: list[str]) -> None:
            rows = [dict(facts_example, sku=v) for v in values]
            load_rows(conn, table, rows)
            tree = {"all": [{"name": "sku", "operator": "matches_regex", "value": pattern}]}
            expr = case((condition_to_sql(tree, dict(table.c)), 1), else_=0)
            got = [v for _i, v in conn.execute(select(table.c.id, expr).order_by(table.c.id))]
            assert got == [int(re.search(pattern, v or "") is not None) for v in values]

        facts_example = {name: _neutral(spec.type) for name, spec in CONTEXT.variables.items()}
        check()
        conn.rollback()


def _neutral(var_type: str) -> Any:
    return {"numeric": 0, "boolean": False, "select": [], "string": ""}[var_type]
