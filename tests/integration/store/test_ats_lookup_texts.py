"""The availability lookup finds SKUs whatever characters their ids hold (quotes,
backslashes, commas, braces, spaces, the word NULL, non-ASCII), one or many, in the kept
ATS and in a variant's, and tells a passed reservation deadline from a later one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from service.store import ats_lookup

SKUS = ['a"b', "c\\d", "e,f", "{g}", " h ", "NULL", "é-1"]


@pytest.fixture
def kept(ctx):
    now = ctx.clock.now().replace(tzinfo=None)
    with ctx.engine.begin() as conn:
        for i, sku in enumerate(SKUS):
            conn.execute(text(
                "INSERT INTO products (sku, name, category, brand, price, tags, tags_text,"
                " attributes, updated_at) VALUES (:sku, 'n', 'c', 'b', 1, '[]', '', '{}', :t)"),
                {"sku": sku, "t": now})
            conn.execute(text(
                "INSERT INTO channel_availability (channel, sku, available, ruleset, updated_at)"
                " VALUES ('web', :sku, :n, 'default@2', :t)"), {"sku": sku, "n": i, "t": now})
            conn.execute(text(
                "INSERT INTO variant_availability (ruleset, channel, sku, available, updated_at)"
                " VALUES ('trial@1', 'web', :sku, :n, :t)"), {"sku": sku, "n": 10 + i, "t": now})
        conn.execute(text("INSERT INTO reservation_deadlines (sku, due_at) VALUES (:sku, :t)"),
                     {"sku": SKUS[0], "t": now + timedelta(minutes=5)})
    return ctx


def test_every_sku_is_found_alone_and_together_whatever_its_characters(kept):
    now = kept.clock.now()
    for i, sku in enumerate(SKUS):
        rows, due, _ = ats_lookup.lookup(kept.engine, "web", [sku], now)
        assert rows == [(sku, i, "default@2")] and not due
        rows, _, _ = ats_lookup.lookup(kept.engine, "web", [sku], now, "trial@1")
        assert rows == [(sku, 10 + i, "trial@1")]
    rows, _, _ = ats_lookup.lookup(kept.engine, "web", [*SKUS, "other"], now)
    assert sorted(rows) == sorted((sku, i, "default@2") for i, sku in enumerate(SKUS))
    rows, _, _ = ats_lookup.lookup(kept.engine, "web", SKUS, now, "trial@1")
    assert sorted(rows) == sorted((sku, 10 + i, "trial@1") for i, sku in enumerate(SKUS))
    assert ats_lookup.lookup(kept.engine, "web", ["other"], now)[0] == []


def test_a_deadline_counts_as_due_once_it_has_passed(kept):
    now = kept.clock.now()
    for skus in ([SKUS[0]], SKUS):
        assert not ats_lookup.lookup(kept.engine, "web", skus, now)[1]
        assert ats_lookup.lookup(kept.engine, "web", skus, now + timedelta(minutes=5))[1]
        assert ats_lookup.lookup(kept.engine, "web", skus, now + timedelta(minutes=6))[1]
