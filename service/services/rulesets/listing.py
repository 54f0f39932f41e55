"""What the API says about rulesets: the published versions, one version, load problems
(health), and the check of a rule file's text. Location keys see none of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.errors import Forbidden, NotFound
from service.rules.vocabulary import export_vocabulary
from service.services.rulesets import library

if TYPE_CHECKING:
    from service.services.context import Context
    from service.store.ruleset_versions import Published
    from service.store.unit_of_work import UnitOfWork

HISTORY = 20


def authorize_reader(role: Role) -> None:
    """Admin and channel keys read rulesets; a location key sells nothing, so it may not."""
    if role.kind == "location":
        raise Forbidden(f"A {role} key may not read rulesets.")


def listing(ctx: Context, role: Role) -> dict[str, Any]:
    """Every published version (which is active); for admins also the activation history
    and the load problems every process reported."""
    authorize_reader(role)
    with ctx.reading() as uow:
        active = ctx.rules.active(uow)
        versions = [_version(ctx, uow, found, active.ref) for found in
                    uow.ruleset_versions.listed()]
        if not role.is_admin:  # who published what (a key id) is the operators' business
            versions = [{k: v for k, v in version.items() if k != "published_by"}
                        for version in versions]
        result: dict[str, Any] = {"active": active.ref, "configured": ctx.rules.configured,
                                  "follows_latest": ctx.rules.follows_latest,
                                  "versions": versions}
        if role.is_admin:
            result["load_errors"] = library.reported_problems(ctx, uow)
            result["activations"] = [
                {"ruleset": f"{a.name}@{a.version}", "previous": a.previous,
                 "activated_by": a.activated_by, "key_id": a.key_id,
                 "activated_at": a.activated_at.isoformat()}
                for a in uow.activations.history(HISTORY)]
    return result


def _version(ctx: Context, uow: UnitOfWork, found: Published, active: str) -> dict[str, Any]:
    ref = f"{found.name}@{found.version}"
    try:
        description = ctx.rules.get(uow, found.name, found.version).description
    except NotFound:  # published by a release whose vocabulary this one lacks
        description = None
    return {"name": found.name, "version": found.version, "ref": ref,
            "description": description, "content_hash": found.content_hash,
            "sha256": found.text_sha256, "source": found.source, "path": found.path,
            "published_at": found.published_at.isoformat(), "published_by": found.published_by,
            "active": ref == active}


def show(ctx: Context, role: Role, name: str, version: int) -> dict[str, Any]:
    """One published version, normalised, with its text."""
    authorize_reader(role)
    with ctx.reading() as uow:
        ruleset = ctx.rules.get(uow, name, version)
        text = uow.ruleset_versions.text_of(name, version)
    return {"ref": ruleset.ref, "content_hash": ruleset.content_hash, "path": ruleset.path,
            "text": text[0] if text else None, "document": ruleset.to_dict()}


def load_health(ctx: Context) -> dict[str, Any]:
    """Health check: degraded while some process reports a rule file that fails to load."""
    with ctx.reading() as uow:
        problems = library.reported_problems(ctx, uow)
    errors = [p for p in problems if p["severity"] == "error"]
    if errors:
        return {"status": "degraded", "failing_files": sorted({p["path"] for p in errors}),
                "load_errors": errors}
    return {"status": "ok"}


def validate_text(ctx: Context, role: Role, data: bytes, filename: str) -> dict[str, Any]:
    """Every problem of a rule file's text (line, column, pointer), its file name and the
    published versions included; nothing is published."""
    authorize_reader(role)
    result = library.check_text(ctx, data, filename)
    problems = [p.to_dict() for p in result.problems]
    return {"valid": result.ok, "ruleset": result.ruleset.ref if result.ok else None,
            "errors": [p for p in problems if p["severity"] == "error"],
            "warnings": [p for p in problems if p["severity"] == "warning"]}


def vocabulary() -> dict[str, Any]:
    """The variables, operators and actions rule files may use, per rule context."""
    return export_vocabulary()
