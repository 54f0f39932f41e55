"""Subscriptions config.yaml declares are kept in the database by name, marked as config's:
added, changed and removed with the file; the API cannot delete them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.errors import SubscriptionFromConfig
from service.services.notifications import subscriptions
from service.settings import settings_from_dict

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def webhooks_config(webhooks_config):
    return {**webhooks_config, "subscriptions": [
        {"name": "dc-1", "url": "http://127.0.0.1:9/dc1", "events": ["fulfilment.*"],
         "location": "DC-1", "secret_env": "OMS_TEST_DC1_SECRET"},
        {"name": "erp", "url": "http://127.0.0.1:9/erp", "events": ["order.*"]}]}


def with_subscriptions(ctx, declared):
    raw = {**ctx.settings.raw, "webhooks": {**ctx.settings.raw["webhooks"],
                                            "subscriptions": declared}}
    return replace(ctx, settings=settings_from_dict(raw))


def test_config_subscriptions_are_synced_by_name_and_marked_as_configs(ctx, monkeypatch, caplog):
    monkeypatch.setenv("OMS_TEST_DC1_SECRET", SECRET)
    assert sorted(subscriptions.sync_config(ctx)) == ["dc-1", "erp"]
    assert subscriptions.sync_config(ctx) == []  # a second start adds nothing
    listed = {s["name"]: s for s in subscriptions.listed(ctx)}
    assert listed["dc-1"]["source"] == "config" and listed["dc-1"]["location"] == "DC-1"
    with ctx.reading() as uow:
        row = uow.webhooks.get(listed["dc-1"]["id"])
    assert subscriptions.box().open(row["secret_encrypted"]) == SECRET
    assert "shown this once" in caplog.text and "'erp'" in caplog.text  # no secret_env


def test_a_changed_or_removed_config_subscription_follows_the_file(ctx, monkeypatch):
    monkeypatch.setenv("OMS_TEST_DC1_SECRET", SECRET)
    subscriptions.sync_config(ctx)
    declared = ctx.settings.raw["webhooks"]["subscriptions"]
    moved = with_subscriptions(ctx, [{**declared[0], "url": "http://127.0.0.1:9/moved"}])
    subscriptions.sync_config(moved)
    [only] = subscriptions.listed(ctx)
    assert only["name"] == "dc-1" and only["url"].endswith("/moved")


def test_the_api_cannot_delete_a_config_subscription(ctx, monkeypatch):
    monkeypatch.setenv("OMS_TEST_DC1_SECRET", SECRET)
    subscriptions.sync_config(ctx)
    first = subscriptions.listed(ctx)[0]
    with pytest.raises(SubscriptionFromConfig):
        subscriptions.delete(ctx, first["id"])
