"""API keys, stored as hashes only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.models import ApiKey


class KeyRepository:
    """API keys of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key_hash: str, prefix: str, role: str, label: str | None,
            created_at: datetime) -> None:
        """Store a key's hash with its role."""
        self.session.add(ApiKey(key_hash=key_hash, prefix=prefix, role=role, label=label,
                                created_at=created_at))

    def role_of(self, key_hash: str) -> str | None:
        """The role of an unrevoked key with this hash, if any."""
        return self.session.scalar(select(ApiKey.role).where(
            ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None)))
