"""A version published from a draft is written back as a rule file for review in git."""

import pytest

from service.domain.roles import Role
from service.errors import Conflict, NotFound
from service.rules.loader import load_file
from service.services.rulesets import drafts, exporting

ADMIN = Role("admin")


def test_a_published_draft_is_exported_as_the_next_files_version(small_network, tmp_path):
    ctx = small_network
    made = drafts.create(ctx, ADMIN, "default", {}, "admin:test")
    drafts.save(ctx, ADMIN, "default", made["id"],
                made["text"].replace("units: 2", "units: 4", 1), "admin:test")
    drafts.publish(ctx, ADMIN, "default", made["id"], "admin:test")
    path = exporting.export(ctx, "default", None, tmp_path)
    assert path == tmp_path / "default" / "v3.yaml"
    loaded = load_file(path).ruleset
    assert loaded is not None and loaded.ref == "default@3"
    assert loaded.channels["web"][0].actions[0].params["units"] == 4
    assert exporting.export(ctx, "default", 3, tmp_path) == path  # same text: nothing to do
    path.write_text(path.read_text().replace("units: 4", "units: 9", 1))
    with pytest.raises(Conflict):
        exporting.export(ctx, "default", 3, tmp_path)
    with pytest.raises(NotFound):
        exporting.export(ctx, "default", 7, tmp_path)
