"""Migration 0037 on SQLite and PostgreSQL: the two unused indexes are gone, the three sparse
ones skip NULLs and still serve the searches by equality they were made for, and the
downgrade gives 0036's indexes back."""

from alembic import command
from sqlalchemy import inspect, text

from service.store.db import make_engine
from service.store.migrate import alembic_config, upgrade
from tests.integration.store.test_order_ref_migration import fresh_url  # noqa: F401

DROPPED = {("events", "ix_events_pending"), ("order_lines", "ix_order_lines_order_id")}
SPARSE = {"ix_orders_customer_created": "customer_id", "ix_orders_order_ref": "order_ref",
          "ix_orders_experiment_variant": "experiment"}
# a search by each sparse column, as order search and the experiment results ask it
SEARCHES = {
    "ix_orders_customer_created": "SELECT id FROM orders WHERE customer_id = 'c-1'"
                                  " ORDER BY created_at DESC, id DESC LIMIT 5",
    "ix_orders_order_ref": "SELECT id FROM orders WHERE order_ref = 'WEB-1'",
    "ix_orders_experiment_variant": "SELECT variant, count(*) FROM orders"
                                    " WHERE experiment = 'e-1' GROUP BY variant",
}


def index_names(engine, table: str) -> set[str]:
    return {ix["name"] for ix in inspect(engine).get_indexes(table)}


def predicates(engine) -> dict[str, str | None]:
    """Each sparse index's WHERE clause as the database keeps it (None: a full index)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(text(
                "SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY(:names)"),
                {"names": list(SPARSE)})
        else:
            rows = conn.execute(text(
                "SELECT name, CASE WHEN instr(sql, ' WHERE ') > 0"
                " THEN substr(sql, instr(sql, ' WHERE ') + 7) END FROM sqlite_master"
                " WHERE type = 'index' AND name IN ('ix_orders_customer_created',"
                " 'ix_orders_order_ref', 'ix_orders_experiment_variant')"))
        return dict(rows.all())


def plan(engine, sql: str) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))  # an empty table: ask for indexes
            return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
        return "\n".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def uses_index(engine, name: str, column: str, text_of_plan: str) -> bool:
    """SQLite names the index; on PostgreSQL each partition of orders has its own copy
    (named after its columns), so the plan shows the column as an index condition."""
    if engine.dialect.name == "postgresql":
        conditions = [ln for ln in text_of_plan.splitlines() if "Index Cond:" in ln]
        return bool(conditions) and all(column in ln for ln in conditions) and (
            "Seq Scan" not in text_of_plan)
    return f"INDEX {name} (" in text_of_plan


def test_unused_indexes_go_and_sparse_ones_skip_nulls_until_downgraded(fresh_url):  # noqa: F811
    upgrade(fresh_url, "head")
    engine = make_engine(fresh_url)
    for table, name in DROPPED:
        assert name not in index_names(engine, table)
    assert {"order_line_no", "ix_events_unrouted"} <= (
        index_names(engine, "order_lines") | index_names(engine, "events")
        | {uc["name"] for uc in inspect(engine).get_unique_constraints("order_lines")})
    found = predicates(engine)
    for name, column in SPARSE.items():
        assert found[name] is not None and column in found[name], found
        assert "NOT NULL" in found[name].upper(), found
        assert uses_index(engine, name, column, plan(engine, SEARCHES[name]))
    command.downgrade(alembic_config(fresh_url), "0036")
    for table, name in DROPPED:
        assert name in index_names(engine, table)
    assert all(where is None for where in predicates(engine).values()), predicates(engine)
    engine.dispose()
