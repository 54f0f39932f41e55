"""Which ruleset is active: the published versions (loaded from the database on first use)
and the database's record of activations.

Every process and host agrees on the active version because it is read from the database
(inside the caller's transaction, under the switch lock's shared side), and the version's
text comes from the database too: a version published by any process (a file it imported,
or the API) is loaded here the first time it is asked for.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from service.errors import NotFound
from service.rules.loader import load_text
from service.rules.model import Ruleset, format_problem
from service.rules.registry import RulesetNotFound, parse_spec

if TYPE_CHECKING:
    from service.store.ruleset_versions import Published
    from service.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
_CACHE_SECONDS = 1.0
LATEST = "latest"


def parse_configured(spec: str) -> tuple[str, int | None]:
    """``name@3`` → (name, 3); ``name@latest`` (follow the latest version) → (name, None)."""
    name, _, version = spec.partition("@")
    return (name, None) if version == LATEST else parse_spec(spec)


class Rulesets:
    """Published versions as this process has loaded them, and the active one."""

    def __init__(self, configured: str, max_bytes: int) -> None:
        self.configured = configured
        self.follows_latest = configured.endswith("@" + LATEST)
        self.max_bytes = max_bytes
        self._loaded: dict[tuple[str, int], Ruleset] = {}
        # the rules folder as this process last imported it, and whether it had problems
        self.imported: object = None
        self.experiments_imported: object = None  # the experiments file, likewise
        self.next_refresh = 0.0  # when this process looks at the folder and versions again
        self._cached: tuple[float, Ruleset] | None = None
        self.experiments_cache: tuple[float, dict] | None = None  # see experiments.live
        self.kept_variants: tuple[int, list[Ruleset]] | None = None  # likewise
        self._lock = threading.Lock()

    def get(self, uow: UnitOfWork, name: str, version: int | None = None) -> Ruleset:
        """A published version (the latest when ``version`` is None), or NotFound."""
        if version is not None and (name, version) in self._loaded:
            return self._loaded[(name, version)]
        found = uow.ruleset_versions.find(name, version)
        if found is None:
            what = f"{name}@{version}" if version is not None else f"a version of {name!r}"
            raise NotFound(f"No ruleset {what} is published.")
        loaded = self._loaded.get((name, found.version))
        return loaded if loaded is not None else self._load(uow, found)

    def _load(self, uow: UnitOfWork, found: Published) -> Ruleset:
        name, version = found.name, found.version
        text = uow.ruleset_versions.text_of(name, version)
        if text is None:
            raise NotFound(f"No ruleset {name}@{version} is published.")
        result = load_text(text[0], found.path or f"{name}@{version}", self.max_bytes)
        if result.ruleset is None:  # published by a release whose vocabulary differs
            for problem in result.errors:
                log.error("published ruleset %s@%s does not load here: %s", name, version,
                          format_problem(problem))
            raise NotFound(f"Ruleset {name}@{version} is published but does not load in this "
                           "release (see the log).")
        with self._lock:
            self._loaded[(name, version)] = result.ruleset
        return result.ruleset

    def resolve(self, uow: UnitOfWork, spec: str) -> Ruleset:
        """'name' or 'name@latest' (its latest version) or 'name@version', or NotFound."""
        try:
            return self.get(uow, *parse_configured(spec))
        except RulesetNotFound as exc:
            raise NotFound(str(exc)) from exc

    def configured_ruleset(self, uow: UnitOfWork) -> Ruleset:
        """The ruleset config.yaml names (its latest version with ``@latest``)."""
        return self.resolve(uow, self.configured)

    def active(self, uow: UnitOfWork) -> Ruleset:
        """The active ruleset as the database records it (inside the caller's transaction).

        On PostgreSQL this also takes the switch lock in shared mode until the transaction
        ends, so a ruleset switch can never recompute the ATS between this transaction's
        reading of the ruleset and its ATS deltas.
        """
        if uow.active_ruleset is not None:  # read once per transaction, whoever asks again
            return uow.active_ruleset
        row = uow.activations.active_locked()
        try:
            found = self.configured_ruleset(uow) if row is None else self.get(uow, *row)
        except NotFound:
            if row is None:
                raise
            log.error("active ruleset %s@%s is not published", *row)
            found = self.configured_ruleset(uow)
        uow.active_ruleset = found
        return found

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
