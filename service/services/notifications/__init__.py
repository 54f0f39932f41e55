"""Webhooks: subscriptions, routing the outbox to them, and delivering (Standard Webhooks)."""
