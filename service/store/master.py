"""Master data: products and locations (bulk upserts, and the rows the catalog reads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.rules.sql import encode_select
from service.store.models import Location, Product
from service.store.models.versions import CATALOG
from service.store.upsert import upsert_rows
from service.store.versions import CacheVersions

MODELS: dict[str, Any] = {"product": Product, "location": Location}
KEYS = {"product": "sku", "location": "id"}


class MasterDataRepository:
    """Products and locations of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, entity: str, records: Sequence[dict[str, Any]]) -> tuple[int, int]:
        """Insert or update products or locations by key; (created, updated). Tags are also
        stored as the text the compiled rule SQL matches (`tags_text`)."""
        model = MODELS[entity]
        defaults = _insert_defaults(model)
        full = [{**defaults, **record, **_tags_text(record)} for record in records]
        CacheVersions(self.session).bump(CATALOG)  # every process reloads its catalog
        return upsert_rows(self.session, model.__table__, full, KEYS[entity])

    def has_products(self) -> bool:
        """Whether any product exists."""
        return bool(self.session.scalar(select(func.count()).select_from(Product)))

    def products(self) -> list[Product]:
        """Every product."""
        return list(self.session.scalars(select(Product)))

    def locations(self) -> list[Location]:
        """Every location."""
        return list(self.session.scalars(select(Location)))

    def page(self, entity: str, search: str | None, after: str | None,
             limit: int) -> list[Any]:
        """Up to `limit` products or locations in key order after the key `after`, those whose
        key or name holds `search` (any case) when it is given."""
        model = MODELS[entity]
        key = getattr(model, KEYS[entity])
        query = select(model).order_by(key).limit(limit)
        if after is not None:
            query = query.where(key > after)
        if search:
            wanted = search.lower()
            query = query.where(func.lower(key).contains(wanted, autoescape=True)
                                | func.lower(model.name).contains(wanted, autoescape=True))
        return list(self.session.scalars(query))


def _tags_text(record: dict[str, Any]) -> dict[str, str]:
    return {"tags_text": encode_select(record["tags"] or [])} if "tags" in record else {}


def _insert_defaults(model: Any) -> dict[str, Any]:
    """Python-side column defaults, so a multi-row INSERT has every column."""
    out: dict[str, Any] = {}
    for column in model.__table__.columns:
        default = column.default
        if default is None or column.primary_key or default.is_callable:
            continue
        out[column.name] = default.arg
    return out
