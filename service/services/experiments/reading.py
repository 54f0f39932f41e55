"""What the API says about experiments: the list, and a unit's assignment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.experiments.assignment import assign
from service.domain.roles import Role, authorize
from service.services.experiments.current import authorize_reader, find, in_force, visible

if TYPE_CHECKING:
    from service.services.context import Context


def listing(ctx: Context, role: Role) -> dict[str, Any]:
    """Every experiment the role may see, with its status, variants, channels, coverage."""
    authorize_reader(role)
    with ctx.reading() as uow:
        experiments = [e.to_dict() for e in in_force(uow) if visible(role, e)]
        published = uow.experiments.current()
    source = None if published is None else {
        "path": published.path, "sha256": published.text_sha256,
        "published_at": published.published_at.isoformat()}
    return {"experiments": experiments, "source": source}


def assignment(ctx: Context, role: Role, key: str, unit: str | None,
               channel: str | None = None) -> dict[str, Any]:
    """The variant and ruleset of a unit now (the active ruleset when it is not in the
    experiment); a channel key asks for its own channel."""
    if channel is not None:
        authorize(role, channel=channel, action="ask assignments for")
    elif role.kind == "channel":
        channel = role.scope
    with ctx.reading() as uow:
        experiment = find(uow, role, key)
        found = assign(experiment, unit, ctx.clock.now(), channel)
        ruleset = found.ruleset or ctx.rules.active_cached(uow).ref
    return {"experiment": experiment.key, "in_experiment": found.in_experiment,
            "variant": found.variant, "ruleset": ruleset, "reason": found.reason,
            "unit": unit}
