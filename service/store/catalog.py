"""Rule facts of products and locations, cached per process and reloaded when they change.

Every master-data write bumps the `catalog` cache version in its own transaction
(`MasterDataRepository.upsert`); a unit of work reads that version (one primary-key row)
before it uses the cached facts, so the next request of any process sees the write.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from service.rules.variables import entity_facts
from service.store.master import MasterDataRepository
from service.store.models import Location
from service.store.models.versions import CATALOG
from service.store.versions import CacheVersions


def location_facts(loc: Location) -> dict[str, Any]:
    """A location's rule variables, plus the fields sourcing needs beside them."""
    return {**entity_facts("location", loc), "active": bool(loc.active), "lat": loc.lat,
            "lon": loc.lon, "daily_capacity": loc.daily_capacity,
            "processing_hours": loc.processing_hours, "priority": loc.priority}


@dataclass(frozen=True)
class CatalogSnapshot:
    products: dict[str, dict[str, Any]]
    locations: dict[str, dict[str, Any]]
    version: int


class Catalog:
    """Product and location facts; reloaded when the `catalog` cache version moves."""

    def __init__(self) -> None:
        self._snapshot: CatalogSnapshot | None = None
        self._lock = threading.Lock()

    def get(self, master: MasterDataRepository, versions: CacheVersions) -> CatalogSnapshot:
        """The facts as the caller's transaction sees them: the version is read first, so
        facts loaded after it are at least that new."""
        version = versions.current(CATALOG)
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version == version:
            return snapshot
        snapshot = CatalogSnapshot(
            {p.sku: entity_facts("product", p) for p in master.products()},
            {loc.id: location_facts(loc) for loc in master.locations()}, version)
        with self._lock:
            self._snapshot = snapshot
        return snapshot
