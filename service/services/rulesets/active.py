"""Which ruleset is active: the loaded versions, and the database's record of activations.

Every process of the service agrees on the active version because it is read from the
database (inside the caller's transaction, under the switch lock's shared side).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from service.errors import NotFound
from service.rules.model import Ruleset
from service.rules.registry import Registry, RulesetNotFound

if TYPE_CHECKING:
    from service.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
_CACHE_SECONDS = 1.0


class Rulesets:
    """The registry of loaded versions plus the database's record of activations."""

    def __init__(self, registry: Registry, configured: str):
        self.registry = registry
        self.configured = configured
        self._cached: tuple[float, Ruleset] | None = None
        self._lock = threading.Lock()

    def configured_ruleset(self) -> Ruleset:
        """The ruleset config.yaml names (its latest version when no version is given)."""
        return self.resolve(self.configured)

    def resolve(self, spec: str) -> Ruleset:
        """'name' (latest) or 'name@version' → a loaded ruleset, or NotFound."""
        try:
            return self.registry.resolve(spec)
        except RulesetNotFound as exc:
            raise NotFound(f"No valid ruleset {spec!r} is loaded: {exc}.") from exc

    def active(self, uow: UnitOfWork) -> Ruleset:
        """The active ruleset as the database records it (inside the caller's transaction).

        On PostgreSQL this also takes the switch lock in shared mode until the transaction
        ends, so a ruleset switch can never recompute the ATS between this transaction's
        reading of the ruleset and its ATS deltas.
        """
        row = uow.activations.active_locked()
        if row is None:
            return self.configured_ruleset()
        name, version = row
        try:
            return self.registry.get(name, version)
        except RulesetNotFound:  # the file vanished: keep serving what config names
            log.error("active ruleset %s@%s is not loaded", name, version)
            return self.configured_ruleset()

    def cached(self) -> Ruleset | None:
        """The active ruleset if it was checked within the last second, else None."""
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        return None

    def active_cached(self, uow: UnitOfWork) -> Ruleset:
        """The active ruleset, rechecked at most once a second (for reads)."""
        ruleset = self.cached()
        if ruleset is None:
            ruleset = self.active(uow)
            with self._lock:
                self._cached = (time.monotonic(), ruleset)
        return ruleset

    def forget_cache(self) -> None:
        with self._lock:
            self._cached = None


def known_channel(ruleset: Ruleset, channel: str) -> str:
    """The channel, or 404 naming the channels the ruleset knows when it has no such one."""
    if channel not in ruleset.channels:
        raise NotFound(f"Channel {channel!r} is not in ruleset {ruleset.ref}; "
                       f"known: {', '.join(sorted(ruleset.channels))}.")
    return channel
