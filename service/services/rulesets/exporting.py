"""A published version's text written back as a rule file (`oms rules export`), so a version
published from the console or the API can be reviewed in git beside the imported ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from service.errors import Conflict, NotFound
from service.services.rulesets import library

if TYPE_CHECKING:
    from service.services.context import Context


def export(ctx: Context, name: str, version: int | None, root: Path | None = None) -> Path:
    """Write name@version (default the latest) to <root>/<name>/v<version>.yaml (root:
    the rules folder); the same text there already changes nothing, other text is a 409."""
    with ctx.reading() as uow:
        found = uow.ruleset_versions.find(name, version)
        text = uow.ruleset_versions.text_of(name, found.version) if found else None
    if found is None or text is None:
        raise NotFound(f"No published version {name}@{version or 'latest'}.")
    path = Path(root or ctx.settings.rulesets_dir) / name / f"v{found.version}.yaml"
    if path.exists():
        if library.digest(path.read_text(encoding="utf-8")) != found.text_sha256:
            raise Conflict(f"{path} holds other text than {name}@{found.version}: "
                           "nothing was written.")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text[0], encoding="utf-8")
    return path
