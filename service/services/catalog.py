"""Rule facts of products and locations, cached per process and refreshed when they change."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.models import Location, Product

_CHECK_SECONDS = 1.0


def product_facts(p: Product) -> dict[str, Any]:
    """A product as rule variables."""
    return {
        "sku": p.sku,
        "category": p.category or "",
        "brand": p.brand or "",
        "price": float(p.price or 0),
        "tags": list(p.tags or []),
    }


def location_facts(loc: Location) -> dict[str, Any]:
    """A location as rule variables (plus fields sourcing needs)."""
    return {
        "location_id": loc.id,
        "location_type": loc.type,
        "region": loc.region or "",
        "location_tags": list(loc.tags or []),
        "can_ship": bool(loc.can_ship),
        "can_pickup": bool(loc.can_pickup),
        "active": bool(loc.active),
        "lat": loc.lat,
        "lon": loc.lon,
        "daily_capacity": loc.daily_capacity,
        "processing_hours": loc.processing_hours,
        "priority": loc.priority,
    }


@dataclass(frozen=True)
class CatalogSnapshot:
    products: dict[str, dict[str, Any]]
    locations: dict[str, dict[str, Any]]
    stamp: tuple[Any, ...]


class Catalog:
    """Product and location facts; reloaded when master data's newest update time moves."""

    def __init__(self) -> None:
        self._snapshot: CatalogSnapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def get(self, session: Session, force: bool = False) -> CatalogSnapshot:
        """The current facts; checks the database at most once a second."""
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and not force and now - self._checked < _CHECK_SECONDS:
            return snapshot
        stamp = _stamp(session)
        if snapshot is None or snapshot.stamp != stamp:
            snapshot = _load(session, stamp)
        with self._lock:
            self._snapshot, self._checked = snapshot, now
        return snapshot

    def invalidate(self) -> None:
        """Forget the cached facts (after this process changed master data)."""
        with self._lock:
            self._snapshot = None


def _stamp(session: Session) -> tuple[datetime | None, int, datetime | None, int]:
    products = session.execute(select(func.max(Product.updated_at), func.count())).one()
    locations = session.execute(select(func.max(Location.updated_at), func.count())).one()
    return (products[0], products[1], locations[0], locations[1])


def _load(session: Session, stamp: tuple[Any, ...]) -> CatalogSnapshot:
    products = {p.sku: product_facts(p) for p in session.scalars(select(Product))}
    locations = {loc.id: location_facts(loc) for loc in session.scalars(select(Location))}
    return CatalogSnapshot(products, locations, stamp)
