"""Candidates as arrays: what an order's lines can take from each location, and at what cost.

A plan looks at every candidate holding one of the order's SKUs. With ten thousand candidates,
reading each one's availability and computing its cost in Python took tens of milliseconds
per plan. A `CandidatePool` holds the candidates' facts as numpy arrays and, per SKU, which
candidates hold it (built on the first plan that asks for that SKU), so scoring an order is a
few array operations over the holders of its SKUs.

A pool is a snapshot: the candidates (frozen) and their `available` mappings must not change
while it is used. `plan_sourcing` builds one for a plain sequence of candidates; a caller
planning many orders over the same network builds one and passes it instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from service.domain.geo import EARTH_RADIUS_KM
from service.domain.sourcing.costing import LatLon, shipping_costs
from service.domain.sourcing.model import Candidate, ShippingModel, SourcingLine, Weights

Column = tuple[np.ndarray, np.ndarray]  # rows holding a SKU, and their units (> 0)


class CandidatePool(Sequence[Candidate]):
    """A sequence of candidates with their facts as arrays and a per-SKU index of holders."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        self._candidates = list(candidates)
        n, cands = len(self._candidates), self._candidates
        self.phi = np.radians(np.fromiter((c.lat for c in cands), float, n))
        self.cos_phi = np.cos(self.phi)
        self.lon = np.fromiter((c.lon for c in cands), float, n)
        self.backlog = np.fromiter((c.backlog_ratio for c in cands), float, n)
        self.hours = np.fromiter((c.processing_hours for c in cands), float, n)
        self.priority = np.fromiter((c.priority for c in cands), float, n)
        self.rule_cost = np.fromiter((c.rule_cost for c in cands), float, n)
        self._columns: dict[str, Column] = {}

    def __len__(self) -> int:
        return len(self._candidates)

    @overload
    def __getitem__(self, index: int) -> Candidate: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Candidate]: ...

    def __getitem__(self, index: int | slice) -> Candidate | Sequence[Candidate]:
        return self._candidates[index]

    def holders(self, sku: str) -> Column:
        """The rows of the candidates holding `sku` (ascending) and their units (> 0)."""
        column = self._columns.get(sku)
        if column is None:
            units = np.fromiter((c.available.get(sku, 0) for c in self._candidates),
                                np.int64, len(self._candidates))
            rows = np.flatnonzero(units > 0)  # negative availability means none
            column = self._columns[sku] = (rows, units[rows])
        return column

    def index_every_sku(self) -> None:
        """Build every SKU's holders now, in one pass (a network planned for many orders)."""
        found: dict[str, tuple[list[int], list[int]]] = {}
        for row, candidate in enumerate(self._candidates):
            for sku, units in candidate.available.items():
                if units > 0:
                    rows, held = found.setdefault(sku, ([], []))
                    rows.append(row)
                    held.append(units)
        for sku, (rows, held) in found.items():
            self._columns.setdefault(sku, (np.array(rows, dtype=np.int64),
                                           np.array(held, dtype=np.int64)))

    def costs(self, rows: np.ndarray, ship_to: LatLon, weights: Weights,
              shipping: ShippingModel) -> np.ndarray:
        """`location_cost` of the candidates at `rows`: the same arithmetic over arrays."""
        phi1, phi2 = self.phi[rows], np.radians(ship_to[0])
        a = (np.sin((phi2 - phi1) / 2) ** 2 + self.cos_phi[rows] * np.cos(phi2)
             * np.sin(np.radians(ship_to[1] - self.lon[rows]) / 2) ** 2)
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
        return (weights.distance_km * km
                + weights.backlog_ratio * self.backlog[rows]
                + weights.processing_hours * self.hours[rows]
                + weights.shipping_cost * shipping_costs(shipping, km)
                + weights.priority * self.priority[rows]
                + self.rule_cost[rows])

    def score(self, order: tuple[SourcingLine, ...], ship_to: LatLon, weights: Weights,
              shipping: ShippingModel) -> Scored:
        """Capped units per line and location cost of every candidate holding any line."""
        dense = np.zeros((len(self), len(order)), dtype=np.int64)
        for i, line in enumerate(order):
            held, units = self.holders(line.sku)
            dense[held, i] = np.minimum(units, line.quantity)
        rows = np.flatnonzero(dense.any(axis=1))
        caps = dense[rows]
        costs = self.costs(rows, ship_to, weights, shipping)
        return Scored(self, rows, caps, costs, np.argsort(costs, kind="stable"))


def as_pool(candidates: Sequence[Candidate]) -> CandidatePool:
    """`candidates` as a pool (itself when it already is one)."""
    return candidates if isinstance(candidates, CandidatePool) else CandidatePool(candidates)


@dataclass(frozen=True, slots=True)
class Scored:
    """The candidates holding at least one line: their pool rows, capped units (one column per
    line), location costs, and their indices by rising cost (ties: pool order)."""

    pool: CandidatePool
    rows: np.ndarray
    caps: np.ndarray
    costs: np.ndarray
    ranking: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    def candidate(self, n: int) -> Candidate:
        """The n-th scored candidate."""
        return self.pool[int(self.rows[n])]

    def caps_of(self, n: int) -> tuple[int, ...]:
        """The n-th scored candidate's capped units, one per line."""
        return tuple(self.caps[n].tolist())

    def cost_of(self, n: int) -> float:
        """The n-th scored candidate's location cost (penalty excluded)."""
        return float(self.costs[n])
