"""The reload every process runs: rule files are published into the database (a new valid
file is listed by every process; active when config follows the latest), an invalid file never
goes live and every process reports it, and a published version never changes."""

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from service.bootstrap import build_context
from service.clock import MovableClock
from service.domain.roles import Role
from service.services.operations.health import health
from service.services.rulesets import governance
from service.services.rulesets.listing import listing
from service.settings import settings_from_dict
from tests.support import FIXTURES

ADMIN = Role("admin")

INVALID = "name: ledger\nversion: 3\nchannels:\n  web:\n    rules:\n      - name: x\n" \
          "        conditions: {all: [{name: nope, operator: equal_to, value: 1}]}\n" \
          "        actions: [{name: exclude_location}]\n"


@pytest.fixture
def rulesets_dir(tmp_path):
    folder = tmp_path / "rules"
    (folder / "ledger").mkdir(parents=True)
    shutil.copy(FIXTURES / "rulesets" / "ledger" / "v1.yaml", folder / "ledger" / "v1.yaml")
    return folder


@pytest.fixture
def active_ruleset():
    return "ledger@latest"


def active_ref(ctx):
    with ctx.reading() as uow:
        return ctx.rules.active(uow).ref


def add_v2(rulesets_dir):
    shutil.copy(FIXTURES / "rulesets" / "ledger" / "v2.yaml", rulesets_dir / "ledger" / "v2.yaml")


def another_process(ctx, folder, active="ledger@1", clock=None):
    """A second process on the same database (another host's rules folder)."""
    settings = settings_from_dict({"database_url": ctx.settings.database_url, "rulesets": {
        "directory": str(folder), "active": active, "reload_seconds": 1}})
    return build_context(settings, engine=ctx.engine, clock=clock)


def test_a_new_version_becomes_active_when_config_follows_the_latest(small_network,
                                                                     rulesets_dir):
    assert active_ref(small_network) == "ledger@1"
    add_v2(rulesets_dir)
    report = governance.reload(small_network)
    assert report["added"] == ["ledger@2"] and report["activated"] == "ledger@2"
    assert active_ref(small_network) == "ledger@2"


@pytest.mark.parametrize("active_ruleset", ["ledger@1"])
def test_a_new_file_is_published_but_a_pinned_version_keeps_serving(small_network,
                                                                   rulesets_dir):
    add_v2(rulesets_dir)
    report = governance.reload(small_network)
    assert report["added"] == ["ledger@2"] and report["activated"] is None
    assert active_ref(small_network) == "ledger@1"
    versions = listing(small_network, ADMIN)["versions"]
    assert [(v["ref"], v["active"], v["source"]) for v in versions] == [
        ("ledger@1", True, "file"), ("ledger@2", False, "file")]


def test_an_invalid_file_never_goes_live_and_shows_in_health(small_network, rulesets_dir,
                                                             caplog):
    (rulesets_dir / "ledger" / "v3.yaml").write_text(INVALID)
    report = governance.reload(small_network)
    assert f"rule file problem: {rulesets_dir / 'ledger' / 'v3.yaml'}:7:" in caplog.text
    governance.reload(small_network)
    assert caplog.text.count("rule file problem") == 1  # logged when found, not every reload
    assert report["errors"] == 1 and report["activated"] is None
    assert active_ref(small_network) == "ledger@1"
    [error] = listing(small_network, ADMIN)["load_errors"]
    assert error["path"].endswith("v3.yaml") and error["line"] == 7
    up, report = health(small_network)
    assert up and report["status"] == "degraded"
    assert report["checks"]["rulesets"]["load_errors"][0]["code"] == "unknown-variable"
    (rulesets_dir / "ledger" / "v3.yaml").unlink()
    governance.reload(small_network)
    assert health(small_network)[1]["status"] == "ok"


def test_a_broken_file_one_process_finds_is_reported_by_every_process(small_network,
                                                                      rulesets_dir, tmp_path):
    other_folder = tmp_path / "elsewhere"
    shutil.copytree(rulesets_dir, other_folder)
    (other_folder / "ledger" / "v3.yaml").write_text(INVALID)
    governance.reload(another_process(small_network, other_folder))
    up, report = health(small_network)
    assert report["status"] == "degraded"
    assert report["checks"]["rulesets"]["failing_files"] == [str(other_folder / "ledger" /
                                                                 "v3.yaml")]


def test_a_version_another_process_published_can_be_activated_here(small_network, rulesets_dir,
                                                                   tmp_path):
    other_folder = tmp_path / "elsewhere"
    shutil.copytree(rulesets_dir, other_folder)
    add_v2(other_folder)
    governance.reload(another_process(small_network, other_folder))
    done = governance.activate(small_network, {"name": "ledger", "version": 2}, "admin")
    assert done.ref == "ledger@2" and active_ref(small_network) == "ledger@2"


def test_an_operator_choice_is_not_overridden_by_a_new_file(small_network, rulesets_dir):
    governance.activate(small_network, {"name": "ledger", "version": 1}, "admin")
    add_v2(rulesets_dir)
    report = governance.reload(small_network)
    assert report["added"] == ["ledger@2"] and report["activated"] is None
    assert active_ref(small_network) == "ledger@1"


def test_a_published_version_whose_file_changes_keeps_serving_the_original(small_network,
                                                                           rulesets_dir):
    path = rulesets_dir / "ledger" / "v1.yaml"
    path.write_text(path.read_text().replace("units: 2", "units: 5"))
    report = governance.reload(small_network)
    assert report["errors"] == 1
    [error] = listing(small_network, ADMIN)["load_errors"]
    assert error["code"] == "version-changed" and "2 is the next free one" in error["message"]
    with small_network.reading() as uow:
        ruleset = small_network.rules.resolve(uow, "ledger@1")
    assert ruleset.channels["web"][0].actions[0].params["units"] == 2


def test_problems_nobody_has_seen_for_a_while_no_longer_degrade_health(small_network,
                                                                     rulesets_dir, tmp_path):
    other_folder = tmp_path / "elsewhere"
    shutil.copytree(rulesets_dir, other_folder)
    (other_folder / "ledger" / "v3.yaml").write_text(INVALID)
    clock = MovableClock(datetime.now(UTC) - timedelta(minutes=10))
    another_process(small_network, other_folder, clock=clock)  # a one-off command, long ago
    assert health(small_network)[1]["status"] == "ok"
    still_running = another_process(small_network, other_folder, clock=clock)
    clock.advance(10 * 60)  # it still sees the file: it reports the problem again
    governance.reload(still_running, if_changed=True)
    assert health(small_network)[1]["status"] == "degraded"


def test_the_same_version_with_other_line_endings_is_the_same_version(small_network,
                                                                      rulesets_dir, tmp_path):
    other_folder = tmp_path / "windows-checkout"
    (other_folder / "ledger").mkdir(parents=True)
    text = (rulesets_dir / "ledger" / "v1.yaml").read_text()
    (other_folder / "ledger" / "v1.yaml").write_bytes(text.replace("\n", "\r\n").encode())
    report = governance.reload(another_process(small_network, other_folder))
    assert report["errors"] == 0 and health(small_network)[1]["status"] == "ok"
