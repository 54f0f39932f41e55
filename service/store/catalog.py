"""Rule facts of products and locations, cached per process and refreshed when they change."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from service.store.master import MasterDataRepository
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

    def get(self, master: MasterDataRepository) -> CatalogSnapshot:
        """The current facts; checks the database at most once a second."""
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and now - self._checked < _CHECK_SECONDS:
            return snapshot
        stamp = master.stamp()
        if snapshot is None or snapshot.stamp != stamp:
            snapshot = CatalogSnapshot(
                {p.sku: product_facts(p) for p in master.products()},
                {loc.id: location_facts(loc) for loc in master.locations()}, stamp)
        with self._lock:
            self._snapshot, self._checked = snapshot, now
        return snapshot

    def invalidate(self) -> None:
        """Forget the cached facts (after this process changed master data)."""
        with self._lock:
            self._snapshot = None

