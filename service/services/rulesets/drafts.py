"""Drafts of rule files: made from a published version, edited, checked with the validator
`oms rules validate` uses, compared with the active version, previewed (what each channel
would gain or lose), then published as the next version through the API's publish path.
Only admin keys change rules; a draft that is not valid is never published."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem
from service.rules.diff import diff
from service.rules.edit import Field, editable, set_values
from service.rules.loader import LoadResult, load_text
from service.rules.model import Problem, Ruleset
from service.services.rulesets import impact_columns, library

if TYPE_CHECKING:
    from service.services.context import Context
    from service.store.console import Draft

_VERSION_LINE = re.compile(r"^version:[ \t]*\d+[ \t]*$", re.MULTILINE)
LARGEST = 10


def authorize_editor(role: Role) -> None:
    """Only admin keys draft, preview and publish rules."""
    if not role.is_admin:
        raise Forbidden(f"A {role} key may not change rules: admin keys only.")


def create(ctx: Context, role: Role, name: str, body: dict[str, Any], who: str
           ) -> dict[str, Any]:
    """A draft from a published version (default: the latest), numbered as the next one."""
    authorize_editor(role)
    version = body.get("from_version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)
                                or not 0 < version < 2**31):
        raise ValidationFailed("The draft request is not valid.",
                               [problem("/from_version", "expected an integer version")])
    with ctx.transaction() as uow:
        base = uow.ruleset_versions.find(name, version)
        latest = uow.ruleset_versions.find(name)
        if base is None or latest is None:
            raise NotFound(f"No published version {name}@{version or 'latest'}.")
        text = (uow.ruleset_versions.text_of(name, base.version) or ("", ""))[0]
        text = _VERSION_LINE.sub(f"version: {latest.version + 1}", text, count=1)
        draft_id = uow.drafts.add(name, base.version, text, who, ctx.clock.now())
    return show(ctx, role, name, draft_id)


def _draft(ctx: Context, name: str, draft_id: int) -> Draft:
    with ctx.reading() as uow:
        found = uow.drafts.get(name, draft_id)
    if found is None:
        raise NotFound(f"No draft {draft_id} of ruleset {name!r}.")
    return found


@lru_cache(maxsize=64)
def _load(text: str, filename: str, max_bytes: int) -> LoadResult:
    """load_text, kept for texts seen lately (a draft is checked on every page of it; the
    result is immutable)."""
    return load_text(text, filename, max_bytes)


def check(ctx: Context, name: str, text: str, filename: str = "<draft>") -> LoadResult:
    """The validator of `oms rules validate` (the published versions included), and the
    draft's name must stay the ruleset's."""
    result = _load(text, filename, ctx.rules.max_bytes)
    with ctx.reading() as uow:
        changed = library.clashes(uow, result)
    if changed:
        result = LoadResult(result.path, None, (*result.problems, *changed),
                            result.version_position, result.text)
    if result.ruleset is None or result.ruleset.name == name:
        return result
    line = next((n for n, row in enumerate(text.splitlines(), 1) if row.startswith("name:")), 1)
    renamed = Problem(filename, line, 1, "/name",
                              f"a draft of {name!r} must keep the name {name!r}", "error",
                              "draft-renamed")
    return LoadResult(result.path, None, (*result.problems, renamed), result.version_position,
                      result.text)


def report(result: LoadResult) -> dict[str, Any]:
    """The validation report the API answers (as POST /v1/rulesets/validate does)."""
    problems = [p.to_dict() for p in result.problems]
    return {"valid": result.ok, "ruleset": result.ruleset.ref if result.ruleset else None,
            "errors": [p for p in problems if p["severity"] == "error"],
            "warnings": [p for p in problems if p["severity"] == "warning"]}


def show(ctx: Context, role: Role, name: str, draft_id: int) -> dict[str, Any]:
    """A draft, its validation, and its change in meaning against the active version."""
    authorize_editor(role)
    found = _draft(ctx, name, draft_id)
    result = check(ctx, name, found.text)
    with ctx.reading() as uow:
        active = ctx.rules.active(uow)
    changes = (diff(active, result.ruleset).format_text()
               if result.ruleset is not None else None)
    return {"id": found.id, "name": found.name, "base_version": found.base_version,
            "text": found.text, "created_by": found.created_by,
            "created_at": found.created_at.isoformat(), "updated_by": found.updated_by,
            "updated_at": found.updated_at.isoformat(),
            "published_version": found.published_version, "active": active.ref,
            "validation": report(result), "diff": changes}


def save(ctx: Context, role: Role, name: str, draft_id: int, text: Any, who: str
         ) -> dict[str, Any]:
    """Replace a draft's text (kept even when not valid yet: the report says why)."""
    authorize_editor(role)
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("The draft is not valid.",
                               [problem("/text", "expected the rule file's text")])
    if "\x00" in text or len(text.encode("utf-8", "surrogatepass")) > ctx.rules.max_bytes:
        raise ValidationFailed("The draft is not valid.", [problem(
            "/text", f"expected text without NUL, at most {ctx.rules.max_bytes} bytes")])
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed("The draft is not valid.", [problem(
            "/text", "is not valid Unicode text (a lone UTF-16 surrogate)")]) from None
    with ctx.transaction() as uow:
        found = uow.drafts.get(name, draft_id, lock=True)
        if found is None:
            raise NotFound(f"No draft {draft_id} of ruleset {name!r}.")
        if found.published_version is not None:
            raise Conflict(f"Draft {draft_id} is published as {name}@"
                           f"{found.published_version}: make a new draft to change it.")
        uow.drafts.save(draft_id, text, who, ctx.clock.now())
    return show(ctx, role, name, draft_id)


def fields(ctx: Context, role: Role, name: str, draft_id: int) -> list[Field]:
    """The values of a draft a form may change (from the vocabulary's types)."""
    authorize_editor(role)
    return list(editable(_draft(ctx, name, draft_id).text))


def _typed(field: Field, sent: str) -> Any:
    """A form's text as the field's value, or a problem naming the field."""
    sent = sent.strip()
    if field.kind == "number":
        try:
            number = float(sent)
        except ValueError:
            raise ValidationFailed(f"{field.label}: expected a number, got {sent!r}.",
                                   [problem(field.pointer, "expected a number")]) from None
        return int(number) if number.is_integer() and "." not in sent else number
    if field.kind == "choice" and sent not in field.options:
        raise ValidationFailed(f"{field.label}: expected one of {', '.join(field.options)}.",
                               [problem(field.pointer, "not one of the options")])
    if not sent or len(sent) > 200:
        raise ValidationFailed(f"{field.label}: expected a text of 1 to 200 characters.",
                               [problem(field.pointer, "expected a short text")])
    return sent


def change_values(ctx: Context, role: Role, name: str, draft_id: int, sent: dict[str, str],
                  who: str) -> dict[str, Any]:
    """Change values of a draft from a form (pointer → text) without its YAML; all or none."""
    changes = {f.pointer: value for f in fields(ctx, role, name, draft_id)
               if f.pointer in sent and (value := _typed(f, sent[f.pointer])) != f.value}
    text = _draft(ctx, name, draft_id).text
    return save(ctx, role, name, draft_id, set_values(text, changes) if changes else text, who)


def loaded(ctx: Context, name: str, draft_id: int) -> tuple[Draft, Ruleset]:
    """A draft and its ruleset; 422 with every problem when it is not valid."""
    found = _draft(ctx, name, draft_id)
    result = check(ctx, name, found.text)
    if result.ruleset is None:
        raise ValidationFailed(f"Draft {draft_id} is not valid.",
                               [problem(p.pointer, p.message, line=p.line, col=p.col,
                                        code=p.code) for p in result.errors])
    return found, result.ruleset


def publish(ctx: Context, role: Role, name: str, draft_id: int, who: str) -> dict[str, Any]:
    """Publish a valid draft as its version (POST /v1/rulesets's path); never activates."""
    authorize_editor(role)
    found, ruleset = loaded(ctx, name, draft_id)
    if found.published_version is not None:
        raise Conflict(f"Draft {draft_id} is already published as {ruleset.ref}.")
    created, published = library.publish(ctx, found.text.encode("utf-8"),
                                         f"v{ruleset.version}.yaml", who)
    with ctx.transaction() as uow:
        uow.drafts.published(draft_id, ruleset.version)
    return {**published, "created": created, "draft": draft_id}


def listed(ctx: Context, role: Role, name: str | None = None) -> list[dict[str, Any]]:
    """The newest drafts (of one ruleset, or all)."""
    authorize_editor(role)
    with ctx.reading() as uow:
        found = uow.drafts.listed(name)
    return [{"id": d.id, "name": d.name, "base_version": d.base_version,
             "updated_by": d.updated_by, "updated_at": d.updated_at.isoformat(),
             "published_version": d.published_version} for d in found]


def impact(ctx: Context, role: Role, name: str, draft_id: int,
           ruleset: Ruleset | None = None) -> dict[str, Any]:
    """What activating the draft would change now: per channel the units gained and lost,
    on how many SKUs and locations, and the ten largest changes of a channel's figure (of
    the draft's ruleset, when the caller has loaded it)."""
    authorize_editor(role)
    if ruleset is None:
        _found, ruleset = loaded(ctx, name, draft_id)
    with ctx.reading() as uow:
        active = ctx.rules.active(uow)
        rows = impact_columns.impact_rows(ctx, uow, active, ruleset)
        changes = sorted(((abs(d[i]), channel, sku, d[i]) for sku, d in rows.by_sku
                          for i, channel in enumerate(rows.channels) if d[i]), reverse=True)
        top = changes[:LARGEST]
        now = uow.ats.figures([(channel, sku) for _a, channel, sku, _d in top])
    channels, index = [], {channel: i for i, channel in enumerate(rows.channels)}
    for channel in sorted({*active.channels, *ruleset.channels}):
        i = index.get(channel)  # None: the channel's rules did not change
        moved = [d[i] for _sku, d in rows.by_sku if d[i]] if i is not None else []
        channels.append({"channel": channel, "gained": sum(u for u in moved if u > 0),
                         "lost": -sum(u for u in moved if u < 0), "net": sum(moved),
                         "skus": len(moved),
                         "locations": sum(1 for _loc, n in rows.by_location
                                          if i is not None and n[i])})
    return {"active": active.ref, "draft": draft_id, "ruleset": ruleset.ref,
            "channels": channels,
            "largest": [{"channel": c, "sku": s, "before": now.get((c, s), 0),
                         "after": now.get((c, s), 0) + d, "change": d}
                        for _a, c, s, d in top]}
