"""One table declares every rule variable; classes, facts and SQL columns come from it."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from business_rules.engine import run_all
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    case,
    create_engine,
    event,
    literal,
    select,
)

from service.rules.sql import condition_to_sql, encode_select
from service.rules.sql_functions import install_sqlite_functions
from service.rules.variables import (
    CONTEXTS,
    ENTITIES,
    VARIABLES,
    Variable,
    entity_facts,
    rule_columns,
    variables_of,
)
from service.rules.vocabulary import (
    VARIABLE_TYPES,
    VOCABULARY,
    ChannelActions,
    ChannelVariables,
    SourcingActions,
    SourcingVariables,
)

PRODUCT = SimpleNamespace(sku="A-1", name="Boot", category="shoes", brand="Acme",
                          price=Decimal("12.50"), tags=["Sale", "bulky"], tags_text=",sale,bulky,")
LOCATION = SimpleNamespace(id="S1", name="Store 1", type="store", region="north",
                           tags=["mall"], tags_text=",mall,", can_ship=True, can_pickup=False,
                           active=True, lat=1.0, lon=2.0, daily_capacity=100,
                           processing_hours=24.0, priority=0)
POSITION = SimpleNamespace(location_id="S1", sku="A-1", on_hand=10, allocated=3, reserved=2)


def test_every_variable_of_every_context_has_a_source():
    for context in VOCABULARY.values():
        for name, spec in context.variables.items():
            variable = next(v for v in VARIABLES if v.name == name)
            assert variable.in_context(context.name)
            assert spec.source == variable.source
            assert variable.entity in ENTITIES or variable.source.startswith("computed")
            assert variable.column or variable.computed


def test_each_context_uses_exactly_the_variables_the_table_gives_it():
    for name in CONTEXTS:
        assert sorted(VOCABULARY[name].variables) == sorted(v.name for v in variables_of(name))
    assert VARIABLE_TYPES == {v.name: v.type for v in VARIABLES}


def test_a_row_with_an_unknown_type_context_or_source_is_refused():
    with pytest.raises(ValueError, match="field type"):
        Variable("x", "text", "channel", "product.x")
    with pytest.raises(ValueError, match="contexts"):
        Variable("x", "string", "checkout", "product.x")
    with pytest.raises(ValueError, match="source"):
        Variable("x", "string", "channel", "product")


def test_a_product_reads_as_its_rule_variables():
    facts = entity_facts("product", PRODUCT)
    assert facts == {"sku": "A-1", "category": "shoes", "brand": "Acme", "price": 12.5,
                     "tags": ["Sale", "bulky"]}
    assert type(facts["price"]) is float and facts["tags"] is not PRODUCT.tags


def test_a_product_with_empty_fields_reads_as_the_defaults():
    bare = SimpleNamespace(sku="B-2", category=None, brand=None, price=None, tags=None)
    assert entity_facts("product", bare) == {"sku": "B-2", "category": "", "brand": "",
                                             "price": 0.0, "tags": []}


def test_a_location_reads_as_its_rule_variables_only():
    assert entity_facts("location", LOCATION) == {
        "location_id": "S1", "location_type": "store", "region": "north",
        "location_tags": ["mall"], "can_ship": True, "can_pickup": False}


def test_a_location_with_empty_fields_reads_as_the_defaults():
    bare = SimpleNamespace(id="D1", type="dc", region=None, tags=None, can_ship=None,
                           can_pickup=0)
    assert entity_facts("location", bare) == {
        "location_id": "D1", "location_type": "dc", "region": "", "location_tags": [],
        "can_ship": False, "can_pickup": False}


def test_a_position_reads_its_available_units_never_below_zero():
    assert entity_facts("position", POSITION) == {"on_hand": 10, "available": 5}
    oversold = SimpleNamespace(on_hand=1, allocated=2, reserved=0)
    assert entity_facts("position", oversold) == {"on_hand": 1, "available": 0}


def test_requests_orders_and_return_lines_read_as_their_variables():
    order = SimpleNamespace(order_value=80.0, line_count=2, customer_tier=None,
                            delivery_method="ship")
    assert entity_facts("request", SimpleNamespace(channel="web")) == {"channel": "web"}
    assert entity_facts("order", order) == {"order_value": 80.0, "line_count": 2,
                                            "customer_tier": "", "delivery_method": "ship"}
    line = SimpleNamespace(condition="damaged", reason=None)
    assert entity_facts("return_line", line) == {"condition": "damaged", "reason": ""}


def test_an_unknown_entity_or_a_missing_attribute_is_an_error():
    with pytest.raises(ValueError, match="unknown entity"):
        entity_facts("customer", PRODUCT)
    with pytest.raises(AttributeError):
        entity_facts("product", SimpleNamespace(sku="A"))


def _tables() -> dict[str, Table]:
    meta = MetaData()
    products = Table("products", meta, Column("sku", String, primary_key=True),
                     Column("category", String), Column("brand", String),
                     Column("price", Numeric(12, 2)), Column("tags", JSON),
                     Column("tags_text", String))
    locations = Table("locations", meta, Column("id", String, primary_key=True),
                      Column("type", String), Column("region", String), Column("tags", JSON),
                      Column("tags_text", String), Column("can_ship", Boolean),
                      Column("can_pickup", Boolean), Column("active", Boolean))
    positions = Table("stock_positions", meta, Column("id", Integer, primary_key=True),
                      Column("location_id", String), Column("sku", String),
                      Column("on_hand", Integer), Column("allocated", Integer),
                      Column("reserved", Integer))
    return {"product": products, "location": locations, "position": positions}


def _available(tables: dict[str, Table]):
    sp = tables["position"]
    raw = sp.c.on_hand - sp.c.allocated - sp.c.reserved
    return case((raw > 0, raw), else_=0)


def test_rule_columns_map_every_channel_variable_to_its_column():
    tables = _tables()
    prod, loc, sp = tables["product"].c, tables["location"].c, tables["position"].c
    available, channel = _available(tables), literal("web")
    columns = rule_columns(tables, {"available": available})
    expected = {"sku": prod.sku, "category": prod.category, "brand": prod.brand,
                "price": prod.price, "tags": prod.tags_text, "location_id": loc.id,
                "location_type": loc.type, "region": loc.region,
                "location_tags": loc.tags_text, "can_ship": loc.can_ship,
                "can_pickup": loc.can_pickup, "on_hand": sp.on_hand, "available": available}
    assert columns.keys() == expected.keys()
    assert all(columns[name] is column for name, column in expected.items())
    full = rule_columns(tables, {"available": available, "channel": channel})
    assert full.keys() == set(VOCABULARY["channel"].variables) and full["channel"] is channel


def test_rule_columns_refuse_a_computed_variable_without_its_expression():
    with pytest.raises(KeyError, match="available"):
        rule_columns(_tables(), {})
    with pytest.raises(ValueError, match="distance_km"):
        rule_columns(_tables(), {"available": literal(0), "distance_km": literal(1.0)})


def test_conditions_compiled_on_rule_columns_read_the_stored_rows():
    tables = _tables()
    engine = create_engine("sqlite://")
    event.listen(engine, "connect", install_sqlite_functions)
    prod, loc, sp = tables["product"], tables["location"], tables["position"]
    columns = rule_columns(tables, {"available": _available(tables)})
    condition = {"all": [{"name": "tags", "operator": "contains", "value": "sale"},
                         {"name": "location_type", "operator": "equal_to", "value": "store"},
                         {"name": "available", "operator": "greater_than", "value": 4}]}
    with engine.begin() as conn:
        prod.metadata.create_all(conn)
        conn.execute(prod.insert(), [{**vars(PRODUCT), "tags_text": encode_select(PRODUCT.tags)}])
        conn.execute(loc.insert(), [{**vars(LOCATION), "tags_text": encode_select(["mall"])}])
        conn.execute(sp.insert(), [vars(POSITION)])
        query = (select(case((condition_to_sql(condition, columns), 1), else_=0))
                 .select_from(sp.join(prod, prod.c.sku == sp.c.sku)
                              .join(loc, loc.c.id == sp.c.location_id)))
        assert conn.execute(query).scalar_one() == 1


def test_business_rules_classes_evaluate_facts_built_from_records():
    facts = {**entity_facts("product", PRODUCT), **entity_facts("location", LOCATION),
             **entity_facts("position", POSITION), "channel": "web"}
    rule = {"conditions": {"all": [
                {"name": "tags", "operator": "contains", "value": "sale"},
                {"name": "location_type", "operator": "equal_to", "value": "store"},
                {"name": "price", "operator": "greater_than", "value": 10},
                {"name": "can_ship", "operator": "is_true", "value": ""}]},
            "actions": [{"name": "hold_back_percent", "params": {"percent": 50}}]}
    actions = ChannelActions(facts)
    assert run_all([rule], ChannelVariables(facts), actions, stop_on_first_trigger=False)
    assert actions.done == [{"action": "hold_back_percent", "percent": 50, "units": 3}]


def test_sourcing_rules_evaluate_location_and_order_facts():
    order = SimpleNamespace(order_value=250.0, line_count=3, customer_tier="gold",
                            delivery_method="ship")
    facts = {**entity_facts("location", LOCATION), **entity_facts("order", order),
             **entity_facts("request", SimpleNamespace(channel="web")),
             "distance_km": 12.0, "backlog_ratio": 0.5}
    rule = {"conditions": {"all": [
                {"name": "customer_tier", "operator": "equal_to", "value": "gold"},
                {"name": "location_tags", "operator": "contains", "value": "MALL"}]},
            "actions": [{"name": "add_cost", "params": {"points": -20}}]}
    actions = SourcingActions(facts)
    assert run_all([rule], SourcingVariables(facts), actions)
    assert actions.done == [{"action": "add_cost", "points": -20}]
