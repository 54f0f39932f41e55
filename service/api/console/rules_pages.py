"""Rules: versions and activations, a version explained, drafts edited, checked as you type,
compared, previewed, published; activation and rollback (admin keys only)."""

from __future__ import annotations

from flask import Response, jsonify, redirect, request, url_for
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import YamlLexer

from service.api.console.web import admin_page, bp, key_prefix, page, role, signed_in, who
from service.api.current import context
from service.errors import ValidationFailed, problem
from service.services.console import impact
from service.services.rulesets import drafts, explained, governance, listing

_FORMATTER = HtmlFormatter(linenos="inline", cssclass="highlight")


def highlighted(text: str | None) -> Markup:
    """A rule file's text as HTML with a CSS class per token (Pygments, escaped)."""
    return Markup(highlight(text or "", YamlLexer(), _FORMATTER))  # noqa: S704


@bp.get("/rules")
@signed_in
def rules() -> Response:
    """Every version, the active one, the activation history and the drafts."""
    found = listing.listing(context(), role())
    newest = drafts.listed(context(), role()) if role().is_admin else []
    latest = (found.get("activations") or [None])[0]
    rollback = (latest["previous"] if latest and latest["previous"]
                and latest["previous"] != found["active"] else None)
    return page("rules.html", listing=found, drafts=newest, rollback=rollback)


@bp.get("/rules/<name>/<int:version>")
@signed_in
def rule_version(name: str, version: int) -> Response:
    """One version: highlighted, and each rule in words."""
    shown = explained.version(context(), role(), name, version)
    return page("rule_version.html", shown=shown, name=name, version=version,
                text=highlighted(shown["text"]))


@bp.post("/rules/<name>/<int:version>/drafts")
@admin_page
def new_draft(name: str, version: int) -> Response:
    """A draft from this version."""
    made = drafts.create(context(), role(), name, {"from_version": version}, who())
    return redirect(url_for("console.draft", name=name, draft_id=made["id"]), 303)  # type: ignore[return-value]


@bp.route("/rules/<name>/drafts/<int:draft_id>", methods=["GET", "POST"])
@admin_page
def draft(name: str, draft_id: int) -> Response:
    """Edit a draft: saved on submit with its validation; the diff against the active one."""
    if request.method == "POST":
        shown = drafts.save(context(), role(), name, draft_id, request.form.get("text"), who())
        status = 200 if shown["validation"]["valid"] else 422
    else:
        shown, status = drafts.show(context(), role(), name, draft_id), 200
    return page("draft.html", status, draft=shown, name=name,
                fields=drafts.fields(context(), role(), name, draft_id))


@bp.post("/rules/<name>/drafts/<int:draft_id>/values")
@admin_page
def draft_values(name: str, draft_id: int) -> Response:
    """Change a draft's values from the form built from the vocabulary (no YAML)."""
    sent = {key.removeprefix("value:"): value for key, value in request.form.items()
            if key.startswith("value:")}
    shown = drafts.change_values(context(), role(), name, draft_id, sent, who())
    status = 200 if shown["validation"]["valid"] else 422
    return page("draft.html", status, draft=shown, name=name,
                fields=drafts.fields(context(), role(), name, draft_id))


@bp.post("/rules/<name>/drafts/<int:draft_id>/validate")
@admin_page
def validate_draft(name: str, draft_id: int) -> Response:
    """Check text as it is typed (JSON for the editor's script; nothing is saved)."""
    text = request.get_data(cache=False, as_text=True)
    if not text.strip():
        raise ValidationFailed("Nothing to check.", [problem("", "the text is empty")])
    return jsonify(drafts.report(drafts.check(context(), name, text)))


@bp.get("/rules/<name>/drafts/<int:draft_id>/impact")
@admin_page
def draft_impact(name: str, draft_id: int) -> Response:
    """What activating the draft would change in each channel's figures now."""
    return page("impact.html", impact=impact.impact(context(), role(), name, draft_id,
                                                    wait_for_replan=False),
                name=name, draft_id=draft_id)


@bp.post("/rules/<name>/drafts/<int:draft_id>/publish")
@admin_page
def publish_draft(name: str, draft_id: int) -> Response:
    """Publish a valid draft as the next version (never activates it)."""
    done = drafts.publish(context(), role(), name, draft_id, who())
    _name, _, number = done["ruleset"].partition("@")
    return redirect(url_for("console.rule_version", name=name, version=int(number)), 303)  # type: ignore[return-value]


@bp.post("/rules/activate")
@admin_page
def activate() -> Response:
    """Activate a published version (the previous one: a rollback), recorded with the key."""
    ref = request.form.get("ruleset", "")
    name, _, number = ref.partition("@")
    if not name or not number.isdigit() or len(number) > 9:
        raise ValidationFailed("Choose a published version.",
                               [problem("/ruleset", "expected name@version")])
    governance.activate(context(), {"name": name, "version": int(number)}, str(role()),
                        key_prefix())
    return redirect(url_for("console.rules"), 303)  # type: ignore[return-value]
