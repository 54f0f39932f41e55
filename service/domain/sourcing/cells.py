"""Ship locations grouped by place, so a destination's far cells are bounded, never scanned.

At 10,000 locations an order reads 16-64 of them, yet the haversine of every location and
a partition of all their floors made a plan 0.5 ms dearer than at 1,000 (issue 18). The
sites are grouped once per site table into cells of about `CELL_SIZE` neighbours, each with
a centre and a radius. By the triangle inequality no site of a cell is nearer a destination
than the centre's distance less the radius, so a few hundred distances (one per cell) bound
every site's distance, and the sites' own distances are computed only in the cells the
rings reach (`site_floors.SiteFloors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, radians, sqrt

import numpy as np

from service.domain.geo import EARTH_RADIUS_KM

CELL_SIZE = 32
# the haversine is ill-conditioned near antipodes (~1e-4 km there): a metre covers any rounding
DISTANCE_SLACK_KM = 1e-3


@dataclass(frozen=True, slots=True)
class Cells:
    """The sites' rows by cell (`members[starts[c]:starts[c + 1]]`, rising rows), each cell's
    centre (radians) and radius (km, rounded up), and every row's cell."""

    members: np.ndarray
    starts: np.ndarray
    centre_phi: np.ndarray
    centre_lam: np.ndarray
    radius_km: np.ndarray
    cell_of: np.ndarray
    centre_cos_phi: np.ndarray  # cos(centre_phi), for every destination's bounds

    def __len__(self) -> int:
        return len(self.radius_km)

    def rows(self, cells: list[int]) -> np.ndarray:
        """The rows of these cells, cell after cell."""
        starts = self.starts
        return np.concatenate([self.members[starts[c]:starts[c + 1]] for c in cells])

    def lowest_per_cell(self, values: np.ndarray) -> np.ndarray:
        """The lowest of `values` (one per row) in each cell."""
        return np.minimum.reduceat(values[self.members], self.starts[:-1])

    def nearest_km(self, ship_to: tuple[float, float]) -> np.ndarray:
        """Per cell, a distance no site of the cell is nearer `ship_to` than (km)."""
        km = haversine_km_to(radians(ship_to[0]), radians(ship_to[1]),
                             self.centre_phi, self.centre_cos_phi, self.centre_lam)
        return np.maximum(0.0, km - self.radius_km) * (1 - 1e-9) - DISTANCE_SLACK_KM


def haversine_km_to(phi2: float, lam2: float, phi: np.ndarray, cos_phi: np.ndarray,
                    lam: np.ndarray) -> np.ndarray:
    """Great-circle km from (phi2, lam2) to each point (radians), as `geo.haversine_km`."""
    a = (np.sin((phi2 - phi) / 2) ** 2
         + cos_phi * np.cos(phi2) * np.sin((lam2 - lam) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def build_cells(phi: np.ndarray, lam: np.ndarray, size: int = CELL_SIZE) -> Cells:
    """Cells of about `size` sites: strips of latitude, each cut into runs of longitude, so
    a cell stays small where the sites are dense and grows where they are sparse."""
    groups = [np.sort(group) for group in _groups(phi, lam, size)]
    members = np.concatenate(groups) if groups else np.empty(0, dtype=np.int64)
    starts = np.cumsum([0] + [len(group) for group in groups]).astype(np.int64)
    cell_of = np.empty(len(phi), dtype=np.int64)
    cell_of[members] = np.repeat(np.arange(len(groups)), np.diff(starts))
    centre_phi, centre_lam = _centres(phi, lam, members, starts)
    reach = np.empty(len(members))  # each site's distance from its cell's centre
    for c, group in enumerate(groups):  # once per table: plain and clear beats clever
        reach[starts[c]:starts[c + 1]] = haversine_km_to(
            centre_phi[c], centre_lam[c], phi[group], np.cos(phi[group]), lam[group])
    radius = (np.maximum.reduceat(reach, starts[:-1]) if groups else np.empty(0))
    return Cells(members, starts, centre_phi, centre_lam,
                 radius * (1 + 1e-9) + DISTANCE_SLACK_KM, cell_of, np.cos(centre_phi))


def _groups(phi: np.ndarray, lam: np.ndarray, size: int) -> list[np.ndarray]:
    if not len(phi):
        return []
    strips = max(1, round(sqrt(ceil(len(phi) / size))))
    groups = []
    for strip in np.array_split(np.argsort(phi, kind="stable"), strips):
        by_lon = strip[np.argsort(lam[strip], kind="stable")]
        groups.extend(np.array_split(by_lon, max(1, ceil(len(strip) / size))))
    return [group for group in groups if len(group)]


def _centres(phi: np.ndarray, lam: np.ndarray, members: np.ndarray, starts: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's mean direction (any point would do: the radius is measured from it)."""
    if not len(members):
        return np.empty(0), np.empty(0)
    p, q = phi[members], lam[members]
    xyz = np.stack([np.cos(p) * np.cos(q), np.cos(p) * np.sin(q), np.sin(p)], axis=1)
    x, y, z = np.add.reduceat(xyz, starts[:-1], axis=0).T
    return np.arctan2(z, np.hypot(x, y)), np.arctan2(y, x)
