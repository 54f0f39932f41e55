"""The reload job: new valid files become available (and active when config follows the
latest); an invalid file never goes live and the last good version keeps serving."""

import shutil

import pytest

from service.services.operations.health import health
from service.services.rulesets import governance
from tests.support import FIXTURES

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
    return "ledger"


def active_ref(ctx):
    with ctx.reading() as uow:
        return ctx.rules.active(uow).ref


def test_a_new_version_becomes_active_when_config_follows_the_latest(small_network,
                                                                     rulesets_dir):
    assert active_ref(small_network) == "ledger@1"
    shutil.copy(FIXTURES / "rulesets" / "ledger" / "v2.yaml", rulesets_dir / "ledger" / "v2.yaml")
    report = governance.reload(small_network)
    assert report["added"] == ["ledger@2"] and report["activated"] == "ledger@2"
    assert active_ref(small_network) == "ledger@2"


def test_an_invalid_file_never_goes_live_and_shows_in_health(small_network, rulesets_dir):
    (rulesets_dir / "ledger" / "v3.yaml").write_text(INVALID)
    report = governance.reload(small_network)
    assert report["errors"] == 1 and report["activated"] is None
    assert active_ref(small_network) == "ledger@1"
    listing = governance.listing(small_network)
    assert listing["load_errors"][0]["path"].endswith("v3.yaml")
    up, report = health(small_network)
    assert up and report["status"] == "degraded"


def test_an_operator_choice_is_not_overridden_by_a_new_file(small_network, rulesets_dir):
    governance.activate(small_network, {"name": "ledger", "version": 1}, "admin")
    shutil.copy(FIXTURES / "rulesets" / "ledger" / "v2.yaml", rulesets_dir / "ledger" / "v2.yaml")
    report = governance.reload(small_network)
    assert report["added"] == ["ledger@2"] and report["activated"] is None
    assert active_ref(small_network) == "ledger@1"


def test_a_published_version_whose_file_changes_keeps_serving_the_original(small_network,
                                                                           rulesets_dir):
    path = rulesets_dir / "ledger" / "v1.yaml"
    path.write_text(path.read_text().replace("units: 2", "units: 5"))
    report = governance.reload(small_network)
    assert report["errors"] == 1
    ruleset = small_network.rules.resolve("ledger@1")
    assert ruleset.channels["web"][0].actions[0].params["units"] == 2
