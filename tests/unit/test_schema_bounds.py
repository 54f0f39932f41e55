"""Every integer a caller or a rule file can send has bounds the database columns hold on
both databases (PostgreSQL's INTEGER is 32 bits), and tags fit the text column rules match."""

import pytest

from service.settings import SCHEMAS_DIR, load_schema
from service.store.models import Location, Product

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
RESPONSES = {"availability", "batch", "fulfilment", "ingest_report", "order", "plan",
             "problem", "reservation", "product_page", "location_page", "ruleset_list",
             "ruleset_version", "validation_report", "activation_result", "vocabulary",
             "feed_list", "feed_run_list", "health", "order_summary", "timeline_entry",
             "transfer", "ruleset_published", "return", "experiment_list",
             "experiment_assignment", "experiment_results", "settlement_page",
             "journal_entry", "positions_as_of",
             "webhook_delivery", "webhook_delivery_page", "webhook_replay",
             "webhook_subscription", "webhook_subscription_list"}
RESPONSES |= {"draft", "draft_impact", "draft_published"}  # the console's drafts (issue 17)
SENT = sorted([f"api/{p.name}" for p in (SCHEMAS_DIR / "api").glob("*.schema.json")
               if p.name.removesuffix(".schema.json") not in RESPONSES]
              + ["ruleset.schema.json", "config.schema.json", "experiments.schema.json"])


def integers(node, pointer=""):
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "integer" or (isinstance(kind, list) and "integer" in kind):
            yield pointer, node
        for key, value in node.items():
            yield from integers(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from integers(value, f"{pointer}/{index}")


@pytest.mark.parametrize("name", SENT)
def test_every_integer_sent_is_bounded_within_a_32_bit_column(name):
    unbounded = [pointer for pointer, spec in integers(load_schema(name))
                 if not INT_MIN <= spec.get("minimum", INT_MIN - 1) <= spec.get(
                     "maximum", INT_MAX + 1) <= INT_MAX]
    assert unbounded == []


@pytest.mark.parametrize(("name", "model"), [("product", Product), ("location", Location)])
def test_the_most_tags_the_schema_allows_fit_the_tags_text_column(name, model):
    tags = load_schema(f"api/{name}.schema.json")["properties"]["tags"]
    # stored lowercased (a character may become two) as ",a,b,"
    longest = tags["maxItems"] * (2 * tags["items"]["maxLength"] + 1) + 1
    assert longest <= model.__table__.c.tags_text.type.length

