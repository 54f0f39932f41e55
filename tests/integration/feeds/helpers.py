"""Helpers for feed tests (import from tests.integration.feeds.helpers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.store.models import FeedFile, StockPosition

T1, T2, T3 = "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z"


def csv_text(header: str, *rows: str) -> str:
    """A CSV file's text from its header and rows."""
    return "\n".join([header, *rows]) + "\n"


def stock(ctx: Any, location: str) -> dict[str, int]:
    """Every stored count of a location."""
    with ctx.sessions() as session:
        return {sku: qty for sku, qty in session.execute(
            select(StockPosition.sku, StockPosition.on_hand)
            .where(StockPosition.location_id == location))}


def on_hand(ctx: Any, location: str, sku: str) -> int | None:
    """The stored count of one position (None when there is none)."""
    with ctx.sessions() as session:
        return session.scalar(select(StockPosition.on_hand).where(
            StockPosition.location_id == location, StockPosition.sku == sku))


def remembered(ctx: Any, feed: str) -> int:
    """How many files the feed has applied (feed_files rows)."""
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(FeedFile)
                              .where(FeedFile.feed == feed))
