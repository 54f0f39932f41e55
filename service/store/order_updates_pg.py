"""PostgreSQL: what an order's save changed on rows the session already holds, written in one
statement (an UPDATE per changed row, each a data-modifying CTE) instead of the unit of
work's flush (a round trip per table); the rows are then as committed in the session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, inspect, literal, select, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError


def write_changes(session: Session, rows: list[Any]) -> None:
    """Write each row's changed columns (rows without changes cost nothing); every row must
    be found, as the flush requires."""
    changed = [(row, _changes(row)) for row in rows]
    changed = [(row, values) for row, values in changed if values]
    if not changed:
        return
    ctes = []
    for index, (row, values) in enumerate(changed):
        table = row.__table__
        columns = {column: value for (_key, column), value in values.items()}
        ctes.append(update(table).where(table.c.id == row.id).values(**columns)
                    .returning(literal(1).label("n")).cte(f"u{index}"))
    found = union_all(*[select(cte.c.n) for cte in ctes]).subquery()
    with session.no_autoflush:  # the rows' changes go in this statement, not a flush first
        count = session.execute(select(func.count()).select_from(found)).scalar_one()
    if count != len(changed):
        raise StaleDataError(f"{len(changed) - count} of an order's rows were not found")
    for row, values in changed:
        for (key, _column), value in values.items():
            set_committed_value(row, key, value)


def _changes(row: Any) -> dict[tuple[str, str], Any]:
    """The column attributes of a persistent row changed since it was read, by (attribute,
    column)."""
    state = inspect(row)
    if not state.modified:
        return {}
    values = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.added:
            values[(attr.key, attr.columns[0].name)] = history.added[0]
    return values
