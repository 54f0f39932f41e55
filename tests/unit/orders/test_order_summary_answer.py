"""GET /v1/orders encodes its page straight from the search's rows: the very bytes the
summaries `search.find` builds (times as aware isoformat text) encode to, for any row."""

from datetime import datetime

from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from service.api.fast_json import json_response, records_response
from service.services.orders.search import SUMMARY_FIELDS, _summary

texts = st.text(max_size=12)  # any text: quotes, control characters, non-ASCII
times = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))
rows = st.tuples(texts, texts, st.none() | texts, st.none() | texts, texts, texts, texts,
                 times, times)


@given(st.lists(rows, max_size=5))
def test_a_page_of_rows_answers_the_bytes_of_its_summaries(page):
    app = Flask(__name__)
    with app.app_context():
        fast = records_response(SUMMARY_FIELDS, page)
        summaries = json_response([_summary(row) for row in page])
    assert fast.get_data() == summaries.get_data()
    assert fast.mimetype == summaries.mimetype == "application/json"


def test_a_time_on_the_second_has_no_fraction_and_one_with_microseconds_has_six_digits():
    row = ("o1", "web", None, "c-1", "shipped", "ship", "default@2",
           datetime(2026, 1, 1, 0, 0, 31), datetime(2026, 12, 31, 23, 59, 59, 120))
    with Flask(__name__).app_context():
        body = records_response(SUMMARY_FIELDS, [row]).get_data(as_text=True)
    assert body == ('[{"id":"o1","channel":"web","order_ref":null,"customer_id":"c-1",'
                    '"status":"shipped","delivery_method":"ship","ruleset":"default@2",'
                    '"created_at":"2026-01-01T00:00:31+00:00",'
                    '"updated_at":"2026-12-31T23:59:59.000120+00:00"}]')
