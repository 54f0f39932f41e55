"""The experiments in force: the newest accepted experiments file in the database, parsed
once per process per version (every process runs the same experiments)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from service.domain.experiments.model import Experiment
from service.domain.roles import Role
from service.errors import Forbidden, NotFound
from service.rules.experiments import load_experiments
from service.rules.model import format_problem

if TYPE_CHECKING:
    from service.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
_parsed: dict[str, tuple[Experiment, ...]] = {}
_lock = threading.Lock()


def in_force(uow: UnitOfWork) -> tuple[Experiment, ...]:
    """Every experiment of the accepted file (none before a file was accepted)."""
    digest = uow.experiments.digest()
    if digest is None:
        return ()
    found = _parsed.get(digest)
    if found is None:
        found = _parse(uow)
        with _lock:
            _parsed[digest] = found
    return found


def _parse(uow: UnitOfWork) -> tuple[Experiment, ...]:
    published = uow.experiments.current()
    if published is None:
        return ()
    loaded = load_experiments(published.text, published.path or "experiments.yaml")
    if loaded.experiments is None:  # accepted by a release whose schema differs
        for problem in loaded.errors:
            log.error("the experiments in force do not load here: %s", format_problem(problem))
        return ()
    return loaded.experiments


def authorize_reader(role: Role) -> None:
    """Admin and channel keys read experiments; a location key sells nothing."""
    if role.kind == "location":
        raise Forbidden(f"A {role} key may not read experiments.")


def visible(role: Role, experiment: Experiment) -> bool:
    """An admin sees every experiment, a channel key those touching its channel."""
    return role.is_admin or (role.scope is not None and experiment.touches(role.scope))


def find(uow: UnitOfWork, role: Role, key: str) -> Experiment:
    """The experiment with this key that the role may see, or NotFound."""
    authorize_reader(role)
    for experiment in in_force(uow):
        if experiment.key == key and visible(role, experiment):
            return experiment
    raise NotFound(f"No experiment {key!r} (see GET /v1/experiments).")
