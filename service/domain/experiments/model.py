"""An experiment as configured: its variants, who takes part, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Status = Literal["draft", "running", "stopped", "shadow"]
UnitKind = Literal["customer_id", "unit"]


@dataclass(frozen=True)
class Variant:
    """One arm: its name, the ruleset (name@version) that decides for its units, its weight."""

    name: str
    ruleset: str
    weight: float


@dataclass(frozen=True)
class Experiment:
    """One experiment of rulesets/experiments.yaml; the first variant is the control."""

    key: str
    unit: UnitKind
    coverage: float
    status: Status
    variants: tuple[Variant, ...]
    seed: str | None = None
    channels: tuple[str, ...] | None = None  # None: every channel
    start: datetime | None = None
    end: datetime | None = None
    description: str | None = None

    @property
    def hash_seed(self) -> str:
        """The seed units are hashed with: `seed`, else the key (as GrowthBook does)."""
        return self.seed if self.seed is not None else self.key

    @property
    def control(self) -> Variant:
        """The first variant, which the others are compared against."""
        return self.variants[0]

    def touches(self, channel: str) -> bool:
        """Whether the channel takes part (an experiment without channels claims all)."""
        return self.channels is None or channel in self.channels

    def variant(self, name: str) -> Variant | None:
        """The variant with this name, if any."""
        return next((v for v in self.variants if v.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The experiment as the API shows it."""
        return {"key": self.key, "seed": self.hash_seed, "unit": self.unit,
                "channels": list(self.channels) if self.channels is not None else None,
                "coverage": self.coverage, "status": self.status,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "description": self.description,
                "control": self.control.name,
                "variants": [{"name": v.name, "ruleset": v.ruleset, "weight": v.weight}
                             for v in self.variants]}
