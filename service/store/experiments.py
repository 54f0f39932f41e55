"""The experiments file as published, each order's experiment and variant, and what became
of an experiment's orders (read for its results)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session

from service.domain.events import FULFILMENT_REROUTED, ORDER_BACKORDERED, ORDER_RELEASED
from service.domain.experiments.report import OrderOutcome
from service.store.models import (
    Event,
    ExperimentFile,
    FulfilmentLineRow,
    FulfilmentRow,
    OrderLineRow,
    OrderRow,
    ShadowDecision,
)

NOT_SHIPPING = ("rejected", "cancelled")  # fulfilments that carry none of the order


@dataclass(frozen=True)
class PublishedExperiments:
    """The experiments file in force: its text and digest."""

    id: int
    text: str
    text_sha256: str
    path: str | None
    modified_at: datetime
    published_at: datetime
    published_by: str


class ExperimentRepository:
    """Experiments inside one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def digest(self) -> str | None:
        """The sha256 of the experiments file in force (None: none accepted yet)."""
        return self.session.scalar(select(ExperimentFile.text_sha256)
                                   .order_by(ExperimentFile.id.desc()).limit(1))

    def current(self) -> PublishedExperiments | None:
        """The experiments file in force: the newest accepted one."""
        row = self.session.scalars(select(ExperimentFile)
                                   .order_by(ExperimentFile.id.desc()).limit(1)).first()
        if row is None:
            return None
        return PublishedExperiments(row.id, row.text, row.text_sha256, row.path,
                                    row.modified_at, row.published_at, row.published_by)

    def publish(self, text: str, text_sha256: str, path: str | None, modified_at: datetime,
                by: str, at: datetime) -> None:
        """Accept a new version of the file (it is in force from this commit on)."""
        self.session.add(ExperimentFile(text=text, text_sha256=text_sha256, path=path,
                                        modified_at=modified_at, published_by=by,
                                        published_at=at))
        self.session.flush()

    def tag_order(self, order_id: str, experiment: str | None, variant: str | None) -> None:
        """Record the experiment and variant whose ruleset decided an order."""
        self.session.execute(update(OrderRow).where(OrderRow.id == order_id)
                             .values(experiment=experiment, variant=variant))

    def record_shadow(self, decision: dict[str, Any]) -> None:
        """What a shadow ruleset would have planned for a live order (columns of
        shadow_decisions: order_id, shadow, experiment, channel, live_ruleset, differs,
        live_cost, shadow_cost, shadow_unfulfilled, decided_at)."""
        self.session.execute(insert(ShadowDecision), [decision])

    def shadow_summary(self, key: str) -> list[tuple[str, int, int, float, float]]:
        """Per shadow ruleset of the experiment: orders, orders whose plan differed, and the
        summed live and shadow costs."""
        table = ShadowDecision.__table__
        return [(r[0], int(r[1]), int(r[2] or 0), float(r[3] or 0), float(r[4] or 0))
                for r in self.session.execute(
                    select(table.c.shadow, func.count(),
                           func.sum(case((table.c.differs, 1), else_=0)),
                           func.sum(table.c.live_cost), func.sum(table.c.shadow_cost))
                    .where(table.c.experiment == key)
                    .group_by(table.c.shadow).order_by(table.c.shadow))]

    def outcomes(self, key: str) -> list[OrderOutcome]:
        """What became of each order of the experiment (index ix_orders_experiment_variant)."""
        orders = self.session.execute(
            select(OrderRow.id, OrderRow.variant, OrderRow.customer_id)
            .where(OrderRow.experiment == key).order_by(OrderRow.id)).all()
        if not orders:
            return []
        facts: dict[str, dict[str, Any]] = defaultdict(lambda: {"cost": 0.0, "km": []})
        self._shipments(key, facts)
        self._lines(key, facts)
        self._events(key, facts)
        return [OrderOutcome(order_id, variant, unit, cost=facts[order_id]["cost"],
                             shipments=len(facts[order_id]["km"]),
                             km=tuple(k for k in facts[order_id]["km"] if k is not None),
                             backordered=facts[order_id].get("backordered", False),
                             rejected=facts[order_id].get("rejected", False),
                             rerouted=facts[order_id].get("rerouted", False),
                             cancelled=facts[order_id].get("cancelled", False))
                for order_id, variant, unit in orders]

    def _shipments(self, key: str, facts: dict[str, dict[str, Any]]) -> None:
        rows = self.session.execute(
            select(FulfilmentRow.order_id, FulfilmentRow.status, FulfilmentRow.cost,
                   FulfilmentRow.factors)
            .join(OrderRow, OrderRow.id == FulfilmentRow.order_id)
            .where(OrderRow.experiment == key))
        for order_id, status, cost, factors in rows:
            if status == "rejected":
                facts[order_id]["rejected"] = True
            if status in NOT_SHIPPING:
                continue
            facts[order_id]["cost"] += float(cost or 0)
            raw = (factors or {}).get("raw") or {}
            km = raw.get("distance_km")
            facts[order_id]["km"].append(float(km) if isinstance(km, int | float) else None)

    def _lines(self, key: str, facts: dict[str, dict[str, Any]]) -> None:
        lines = self.session.execute(
            select(OrderLineRow.order_id, func.sum(OrderLineRow.quantity_cancelled),
                   func.sum(OrderLineRow.quantity_backordered))
            .join(OrderRow, OrderRow.id == OrderLineRow.order_id)
            .where(OrderRow.experiment == key).group_by(OrderLineRow.order_id))
        for order_id, cancelled, backordered in lines:
            facts[order_id]["cancelled"] = bool(cancelled)
            if backordered:
                facts[order_id]["backordered"] = True
        rejected = self.session.execute(
            select(FulfilmentRow.order_id).distinct()
            .join(FulfilmentLineRow, FulfilmentLineRow.fulfilment_id == FulfilmentRow.id)
            .join(OrderRow, OrderRow.id == FulfilmentRow.order_id)
            .where(OrderRow.experiment == key, FulfilmentLineRow.quantity_rejected > 0))
        for (order_id,) in rejected:
            facts[order_id]["rejected"] = True

    def _events(self, key: str, facts: dict[str, dict[str, Any]]) -> None:
        """Re-routes (a fulfilment's), and units that waited for stock at any time
        (`order.backordered`, or `order.released` for an order stored before it existed)."""
        rerouted = self.session.execute(
            select(FulfilmentRow.order_id).distinct()
            .join(Event, (Event.aggregate_type == "fulfilment")
                  & (Event.aggregate_id == FulfilmentRow.id))
            .join(OrderRow, OrderRow.id == FulfilmentRow.order_id)
            .where(OrderRow.experiment == key, Event.type == FULFILMENT_REROUTED))
        for (order_id,) in rerouted:
            facts[order_id]["rerouted"] = True
        waited = self.session.execute(
            select(Event.aggregate_id).distinct()
            .join(OrderRow, (Event.aggregate_type == "order")
                  & (Event.aggregate_id == OrderRow.id))
            .where(OrderRow.experiment == key,
                   Event.type.in_((ORDER_BACKORDERED, ORDER_RELEASED))))
        for (order_id,) in waited:
            facts[order_id]["backordered"] = True
