"""Master data: products and locations (delivered by the ERP)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from service.rules.variables import LOCATION_TYPES

from .base import Base


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("price >= 0", name="price_non_negative"),)

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(100), default="", index=True)
    brand: Mapped[str] = mapped_column(String(100), default="")
    vendor: Mapped[str | None] = mapped_column(String(128), default=None)  # who takes returns
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags_text: Mapped[str] = mapped_column(String(1000), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(index=True)


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (
        CheckConstraint(f"type IN ({', '.join(repr(t) for t in LOCATION_TYPES)})",
                        name="type_known"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint("daily_capacity >= 0", name="capacity_non_negative"),
        CheckConstraint("processing_hours >= 0", name="processing_non_negative"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float]
    lon: Mapped[float]
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")
    region: Mapped[str] = mapped_column(String(32), default="")
    can_ship: Mapped[bool] = mapped_column(default=True)
    can_pickup: Mapped[bool] = mapped_column(default=False)
    daily_capacity: Mapped[int] = mapped_column(default=0)
    processing_hours: Mapped[float] = mapped_column(default=24.0)
    priority: Mapped[int] = mapped_column(default=0)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags_text: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(index=True)
