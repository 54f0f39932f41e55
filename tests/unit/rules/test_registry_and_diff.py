"""Registry of versions (immutable, hot-reloaded) and diffs in meaning."""

from __future__ import annotations

import shutil
import threading

import pytest

from service.rules import Registry, RulesetNotFound, diff
from tests.support import FIXTURES

RULESETS = FIXTURES / "rulesets"


@pytest.fixture
def rules_dir(tmp_path):
    target = tmp_path / "rulesets"
    for name in ("default", "dc-first"):
        shutil.copytree(RULESETS / name, target / name)
    return target


def test_reload_adds_every_version_and_resolves_specs(rules_dir):
    registry = Registry(rules_dir)
    report = registry.reload()
    assert sorted(report.added) == ["dc-first@1", "default@1", "default@2"]
    assert report.errors == ()
    assert registry.resolve("default").ref == "default@2"
    assert registry.resolve("default@1").version == 1
    assert [rs.ref for rs in registry.versions("default")] == ["default@1", "default@2"]
    with pytest.raises(RulesetNotFound):
        registry.resolve("default@9")
    with pytest.raises(RulesetNotFound):
        registry.get("nope")


def test_a_second_reload_reports_versions_unchanged(rules_dir):
    registry = Registry(rules_dir)
    registry.reload()
    report = registry.reload()
    assert report.added == () and len(report.unchanged) == 3


def test_an_invalid_new_file_never_loads_and_its_errors_are_visible(rules_dir):
    registry = Registry(rules_dir)
    registry.reload()
    (rules_dir / "default" / "v3.yaml").write_text("name: default\nversion: 3\nbogus: [\n")
    report = registry.reload()
    assert report.errors and registry.resolve("default").ref == "default@2"
    assert str(rules_dir / "default" / "v3.yaml") in registry.problems


def test_changing_a_published_version_is_an_error_and_the_old_one_keeps_serving(rules_dir):
    registry = Registry(rules_dir)
    registry.reload()
    before = registry.resolve("default@1")
    path = rules_dir / "default" / "v1.yaml"
    path.write_text(path.read_text().replace("units: 2}", "units: 5}"))
    report = registry.reload()
    assert [p.code for p in report.errors] == ["version-changed"]
    assert registry.resolve("default@1") is before


def test_comment_only_edits_are_not_changes(rules_dir):
    registry = Registry(rules_dir)
    registry.reload()
    path = rules_dir / "default" / "v1.yaml"
    path.write_text(path.read_text() + "\n# reviewed by ops\n")
    assert registry.reload().errors == ()


def test_reads_during_reloads_always_see_a_complete_registry(rules_dir):
    registry = Registry(rules_dir)
    registry.reload()
    failures = []

    def read() -> None:
        for _ in range(200):
            if registry.resolve("default").ref != "default@2":
                failures.append("bad read")

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(5):
        registry.reload()
    for thread in threads:
        thread.join()
    assert failures == []


def test_diff_shows_rules_added_in_the_new_version(rules_dir):
    registry = Registry(rules_dir)
    registry.reload()
    change = diff(registry.resolve("default@1"), registry.resolve("default@2"))
    sections = {s.section: s for s in change.sections}
    assert sections["channels.marketplace"].added == (
        "marketplace-keeps-20-percent-back", "marketplace-ships-from-dcs-and-3pls")
    assert sections["returns"].added == ("late-opened-returns-are-discarded",)
    assert change.weights == {} and change.split == {}
    assert "+ marketplace-keeps-20-percent-back" in change.format_text()


def test_diff_reports_weights_split_and_changed_rules(rules_dir):
    registry = Registry(rules_dir)
    registry.reload()
    change = diff(registry.resolve("default@1"), registry.resolve("dc-first@1"))
    assert change.weights == {"distance_km": (1, 0.5)}
    assert change.split["shipment_penalty"] == (100, 250)
    assert "sourcing" in {s.section for s in change.sections}


def test_a_version_compared_with_itself_has_no_change(rules_dir):
    registry = Registry(rules_dir)
    registry.reload()
    rs = registry.resolve("default")
    assert diff(rs, rs).empty and "no change" in diff(rs, rs).format_text()
