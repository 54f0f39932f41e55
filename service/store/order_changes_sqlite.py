"""SQLite (and any database without `order_changes_pg`): the changed rows of one order, an
UPDATE of its changed columns per row, as the unit of work's flush wrote them."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.store.models import FulfilmentLineRow, FulfilmentRow, OrderLineRow, OrderRow
from service.store.order_aggregate_rows import Change

_TABLES = {row.__tablename__: row.__table__
           for row in (OrderRow, OrderLineRow, FulfilmentRow, FulfilmentLineRow)}


def update_each(session: Session, changed: list[Change]) -> int:
    """Write each changed row's changed columns; the rows found."""
    connection = session.connection()
    found = 0
    for table_name, values, columns in changed:
        table = _TABLES[table_name]
        found += connection.execute(update(table).where(table.c.id == values["id"]).values(
            {column: values[column] for column in columns})).rowcount
    return found
