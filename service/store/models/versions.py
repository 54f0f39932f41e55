"""What every process's caches are checked against: a version per cached thing, bumped by the
transaction that changes it, and each location's open fulfilment lines kept exact."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

CATALOG = "catalog"  # products and locations (store.catalog)
KEYS = "keys"  # API keys: a revocation bumps it (services.access.keys)
EXPERIMENTS = "experiments"  # the experiments file in force (services.experiments.live)
CACHED = (CATALOG, KEYS, EXPERIMENTS)


class CacheVersion(Base):
    """One row per cached thing; a writer bumps `version` in its own transaction."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class LocationBacklog(Base):
    """Open fulfilment lines of a location, moved in the transaction that opens or closes
    them (`store.backlog`)."""

    __tablename__ = "location_backlog"
    __table_args__ = (CheckConstraint("open_lines >= 0", name="not_negative"),)

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    open_lines: Mapped[int] = mapped_column(BigInteger, default=0)
