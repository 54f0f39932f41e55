"""On PostgreSQL the search's page runs through libpq (a named prepared statement on the kept
connection, binary rows loaded by psycopg's loaders): the very rows the SQLAlchemy path
reads, whatever the text holds, for every filter and cursor page; parameters that cannot go
as UTF-8 text (a NUL, a lone surrogate) go through the cursor, refused as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.store import order_search
from service.store.models import OrderRow
from service.store.order_search import OrderFilters, OrderSearch

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

START = datetime(2026, 12, 1, 9, 0, 0)
ODD = ['a"b', "c\\d", "tab\there", "line\nbreak", "\x01\x1f\x7f", "caf\u00e9",
       "\u20ac \U0001f600 \u2028", "%s", "$1", " "]
FILTERS = [OrderFilters(), OrderFilters(channel="web"),
           OrderFilters(channel="app", status="created"), OrderFilters(status="shipped"),
           OrderFilters(customer_id='a"b'), OrderFilters(order_ref="R-caf\u00e9"),
           OrderFilters(created_from=datetime(2026, 12, 1, 9, 0, 5, 1, tzinfo=UTC)),
           OrderFilters(created_to=datetime(2026, 12, 1, 4, 0, 12, tzinfo=UTC) + timedelta(
               hours=5)),
           OrderFilters(channel="nowhere")]


@pytest.fixture
def odd_orders(ctx):
    """One order per odd text (in its ref, customer and ruleset), a second apart, the times
    alternately whole seconds and with microseconds, every third without a ref or customer."""
    rows = [{"id": f"0odd{i:04d}", "channel": "web" if i % 2 else "app",
             "status": "shipped" if i % 3 else "created", "delivery_method": "ship",
             "order_ref": None if i % 3 == 0 else f"R-{text}",
             "customer_id": None if i % 3 == 0 else text, "ruleset": text,
             "ship_to": {}, "attributes": {}, "plan": {}, "explanation": {},
             "created_at": START + timedelta(seconds=i, microseconds=(i % 2) * 120000),
             "updated_at": START + timedelta(seconds=i, microseconds=i)}
            for i, text in enumerate(ODD * 3)]
    with ctx.engine.begin() as conn:
        conn.execute(insert(OrderRow), rows)
    return ctx


def _session_page(engine, filters, after, limit):
    with Session(engine) as session:
        return OrderSearch(session).find_page(filters, after, limit)


def test_every_page_through_libpq_holds_the_sqlalchemy_paths_rows(odd_orders):
    engine = odd_orders.engine
    differing = []
    for filters in FILTERS:
        for limit in (1, 4, 100):
            after = None
            while True:
                page = order_search.find_page(engine, filters, after, limit)
                expected = _session_page(engine, filters, after, limit)
                if page != expected:
                    differing.append((filters, limit, after, page, expected))
                if len(page.rows) < limit:
                    break
                after = page.rows[-1][0]
    assert differing == []


def test_an_unknown_cursor_is_none_and_an_empty_page_has_no_version(odd_orders):
    engine = odd_orders.engine
    assert order_search.find_page(engine, OrderFilters(), "nope", 10) is None
    last = order_search.find_page(engine, OrderFilters(), None, 100).rows[-1][0]
    assert order_search.find_page(engine, OrderFilters(), last, 10).rows == []
    assert order_search.find_page(engine, OrderFilters(channel="nowhere"), None, 10
                                  ).keys_version is None


def test_a_nul_goes_through_the_cursor_and_is_refused_as_before(odd_orders):
    with pytest.raises(psycopg.DataError):
        order_search.find_page(odd_orders.engine, OrderFilters(channel="we\x00b"), None, 10)


def test_a_lone_surrogate_goes_through_the_cursor_and_is_refused_as_before(odd_orders):
    with pytest.raises(UnicodeEncodeError):
        order_search.find_page(odd_orders.engine, OrderFilters(channel="\udc80"), None, 10)
