"""PostgreSQL: what an order's save changed on rows the session already holds, written in one
statement instead of the unit of work's flush (a round trip per table); the rows are then as
committed in the session.

The columns an order's use cases change (`FIXED`) go in one fixed statement over arrays
(`order_changes_pg`: no SQL built per change); a row with any other column changed is written
as before, an UPDATE per changed row, each a data-modifying CTE.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, inspect, literal, select, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from service.store.order_changes_pg import FIXED, write_fixed


def write_changes(session: Session, rows: list[Any]) -> None:
    """Write each row's changed columns (rows without changes cost nothing); every row must
    be found, as the flush requires."""
    changed = [(row, _changes(row)) for row in rows]
    changed = [(row, values) for row, values in changed if values]
    if not changed:
        return
    with session.no_autoflush:  # the rows' changes go in this statement, not a flush first
        if all(_fixed(row, values) for row, values in changed):
            count = write_fixed(session, [(row.__tablename__, row.__dict__, {
                column for (_key, column) in values}) for row, values in changed])
        else:
            count = _write_each(session, changed)
    if count != len(changed):
        raise StaleDataError(f"{len(changed) - count} of an order's rows were not found")
    for row, values in changed:
        for (key, _column), value in values.items():
            set_committed_value(row, key, value)


def _fixed(row: Any, values: dict[tuple[str, str], Any]) -> bool:
    """Whether the fixed statement writes this row's changes (every column it sends is
    loaded on the row, and named as its attribute)."""
    columns = FIXED.get(row.__tablename__)
    return columns is not None and all(
        key == column and column in columns for key, column in values) and all(
        column in row.__dict__ for column in columns)


def _write_each(session: Session, changed: list[tuple[Any, dict[tuple[str, str], Any]]]
                ) -> int:
    """An UPDATE per changed row, each a CTE of one statement; the rows found."""
    ctes = []
    for index, (row, values) in enumerate(changed):
        table = row.__table__
        columns = {column: value for (_key, column), value in values.items()}
        ctes.append(update(table).where(table.c.id == row.id).values(**columns)
                    .returning(literal(1).label("n")).cte(f"u{index}"))
    found = union_all(*[select(cte.c.n) for cte in ctes]).subquery()
    return session.execute(select(func.count()).select_from(found)).scalar_one()


def _changes(row: Any) -> dict[tuple[str, str], Any]:
    """The column attributes of a persistent row changed since it was read, by (attribute,
    column): of those set since (the state's committed values), those whose value moved."""
    state = inspect(row)
    if not state.modified:
        return {}
    values = {}
    columns = state.mapper.column_attrs
    for key in list(state.committed_state):  # the attributes set since read, changed or not
        attr = columns.get(key)
        if attr is None:
            continue
        history = state.attrs[key].history
        if history.added:
            values[(key, attr.columns[0].name)] = history.added[0]
    return values
