"""Rule facts of products and locations, cached per process and refreshed when they change."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from service.rules.variables import entity_facts
from service.store.master import MasterDataRepository
from service.store.models import Location

_CHECK_SECONDS = 1.0


def location_facts(loc: Location) -> dict[str, Any]:
    """A location's rule variables, plus the fields sourcing needs beside them."""
    return {**entity_facts("location", loc), "active": bool(loc.active), "lat": loc.lat,
            "lon": loc.lon, "daily_capacity": loc.daily_capacity,
            "processing_hours": loc.processing_hours, "priority": loc.priority}


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
                {p.sku: entity_facts("product", p) for p in master.products()},
                {loc.id: location_facts(loc) for loc in master.locations()}, stamp)
        with self._lock:
            self._snapshot, self._checked = snapshot, now
        return snapshot

    def invalidate(self) -> None:
        """Forget the cached facts (after this process changed master data)."""
        with self._lock:
            self._snapshot = None

