"""The experiments file as published: the validated text every process runs; variants'
kept availability; shadow rulesets' decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ExperimentFile(Base):
    """One accepted version of rulesets/experiments.yaml (append-only: the newest row is the
    one in force; an invalid file never gets a row). `modified_at` is the file's own time:
    a process whose file is older than the one in force does not put it back."""

    __tablename__ = "experiment_files"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(1000), default=None)
    modified_at: Mapped[datetime] = mapped_column()  # the file's modification time
    published_at: Mapped[datetime] = mapped_column()
    published_by: Mapped[str] = mapped_column(String(128))


class VariantAvailability(Base):
    """Available-to-sell per channel and SKU as a running experiment's variant ruleset
    computes it, kept current beside `channel_availability` (the active ruleset's) so a
    variant's availability read is the same one-row lookup."""

    __tablename__ = "variant_availability"
    __table_args__ = (CheckConstraint("available >= 0", name="available_non_negative"),)

    ruleset: Mapped[str] = mapped_column(String(160), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column()


class ShadowDecision(Base):
    """What a shadow ruleset would have planned for a live order (nothing else of it is
    written): whether its plan differs from the live one, and the cost difference."""

    __tablename__ = "shadow_decisions"
    __table_args__ = (Index("ix_shadow_decisions_experiment", "experiment"),)

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shadow: Mapped[str] = mapped_column(String(160), primary_key=True)
    experiment: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    live_ruleset: Mapped[str] = mapped_column(String(160))
    differs: Mapped[bool] = mapped_column()
    live_cost: Mapped[float] = mapped_column(Float)
    shadow_cost: Mapped[float] = mapped_column(Float)
    shadow_unfulfilled: Mapped[int] = mapped_column(BigInteger, default=0)
    decided_at: Mapped[datetime] = mapped_column()
