"""GET /v1/experiments and a unit's assignment, on SQLite and PostgreSQL: the file is
imported like rule files, every process reads it from the database, and an invalid change
never replaces the experiments in force (it degrades /healthz instead)."""

import os
import shutil

import growthbook.core as gb

from service.bootstrap import build_context
from service.domain.roles import Role
from service.services.experiments import reading
from service.services.rulesets import governance
from service.settings import settings_from_dict
from tests.api.experiments.conftest import HEAD, RUNNING
from tests.support import FIXTURES


def assignment(client, headers, unit=None, key="dc-test", **query):
    params = {**({"unit": unit} if unit is not None else {}), **query}
    return client.get(f"/v1/experiments/{key}/assignment", query_string=params,
                      headers=headers)


def test_the_list_shows_each_experiment_with_status_variants_channels_and_coverage(
        started, client, admin):
    response = client.get("/v1/experiments", headers=admin)
    assert response.status_code == 200
    body = response.json
    assert [(e["key"], e["status"], e["channels"], e["coverage"]) for e in body["experiments"]
            ] == [("dc-test", "running", ["web"], 1), ("app-draft", "draft", ["app"], 0.3)]
    assert body["experiments"][0]["variants"] == [
        {"name": "control", "ruleset": "ledger@1", "weight": 0.5},
        {"name": "dc-first", "ruleset": "dc-first@1", "weight": 0.5}]
    assert body["source"]["path"] == "experiments.yaml"


def test_a_unit_gets_growthbooks_variant_and_that_variants_ruleset(started, client, admin):
    rulesets = {"control": "ledger@1", "dc-first": "dc-first@1"}
    for unit in ("alice", "bob", "carol", "dave", "erin", "frank"):
        body = assignment(client, admin, unit).json
        index = gb.chooseVariation(gb.gbhash("dc-test", unit, 2),
                                   gb.getBucketRanges(2, 1, [0.5, 0.5]))
        expected = ["control", "dc-first"][index]
        assert body == {"experiment": "dc-test", "in_experiment": True, "variant": expected,
                        "ruleset": rulesets[expected], "reason": "assigned", "unit": unit}


def test_without_a_unit_or_in_a_draft_experiment_the_active_ruleset_decides(
        started, client, admin):
    assert assignment(client, admin).json == {
        "experiment": "dc-test", "in_experiment": False, "variant": None,
        "ruleset": "ledger@1", "reason": "no_unit", "unit": None}
    draft = assignment(client, admin, "alice", key="app-draft").json
    assert (draft["in_experiment"], draft["ruleset"], draft["reason"]) == (
        False, "ledger@1", "not_running")
    other = assignment(client, admin, "alice", channel="app").json
    assert (other["in_experiment"], other["reason"]) == (False, "channel_not_in_experiment")


def test_channel_keys_see_only_experiments_touching_their_channel(started, client,
                                                                 headers_for):
    web, app = headers_for("channel:web"), headers_for("channel:app")
    assert [e["key"] for e in client.get("/v1/experiments", headers=web).json[
        "experiments"]] == ["dc-test"]
    assert assignment(client, web, "alice").json["in_experiment"] is True
    hidden = assignment(client, app, "alice")
    assert hidden.status_code == 404
    assert hidden.headers["Content-Type"] == "application/problem+json"
    assert assignment(client, web, "alice", channel="app").status_code == 403
    store = headers_for("location:ST-1")
    assert client.get("/v1/experiments", headers=store).status_code == 403
    assert assignment(client, store, "alice").status_code == 403


def test_an_unknown_experiment_is_404_and_a_bad_unit_is_422_naming_it(started, client, admin):
    assert assignment(client, admin, "alice", key="nope").status_code == 404
    response = assignment(client, admin, "x" * 129)
    assert response.status_code == 422
    assert response.json["problems"][0]["pointer"] == "/query/unit"


def test_an_invalid_change_never_replaces_the_experiments_in_force_and_degrades_health(
        started, client, admin, rulesets_dir):
    path = rulesets_dir / "experiments.yaml"
    path.write_text(RUNNING.replace("dc-first@1", "dc-first@7"))
    governance.reload(started)
    listed = client.get("/v1/experiments", headers=admin).json["experiments"]
    assert listed[0]["variants"][1]["ruleset"] == "dc-first@1"  # the last good file serves
    health = client.get("/healthz").json
    assert health["status"] == "degraded"
    assert health["checks"]["rulesets"]["failing_files"] == [str(path)]
    problems = client.get("/v1/rulesets", headers=admin).json["load_errors"]
    [problem] = [p for p in problems if p["path"].endswith("experiments.yaml")]
    assert (problem["line"], problem["col"]) == (10, 35)
    assert "ruleset dc-first@7 is not published" in problem["message"]
    path.write_text(RUNNING.replace("coverage: 1\n", "coverage: 0.5\n"))
    governance.reload(started)
    assert client.get("/v1/experiments", headers=admin).json["experiments"][0][
        "coverage"] == 0.5
    assert not [p for p in client.get("/v1/rulesets", headers=admin).json["load_errors"]
                if p["path"].endswith("experiments.yaml")]
    assert client.get("/healthz").json["status"] == "ok"


def test_two_running_experiments_on_one_channel_are_refused(started, client, admin,
                                                           rulesets_dir):
    second = RUNNING.replace("key: app-draft", "key: also-web").replace(
        "channels: [app]", "channels: [web]").replace("status: draft", "status: running") \
        .replace("ledger@9", "ledger@2")
    (rulesets_dir / "experiments.yaml").write_text(second)
    governance.reload(started)
    problems = client.get("/v1/rulesets", headers=admin).json["load_errors"]
    assert any("already claimed by running experiment 'dc-test'" in p["message"]
               for p in problems)
    assert [e["key"] for e in client.get("/v1/experiments", headers=admin).json[
        "experiments"]] == ["dc-test", "app-draft"]


def test_an_empty_experiments_list_is_accepted(started, client, admin, rulesets_dir):
    (rulesets_dir / "experiments.yaml").write_text(HEAD.replace("experiments:\n",
                                                                "experiments: []\n"))
    governance.reload(started)
    assert client.get("/v1/experiments", headers=admin).json["experiments"] == []


def test_a_process_without_the_file_runs_the_experiments_another_process_accepted(
        started, settings, db_engine, tmp_path, client, admin):
    other = build_context(settings_from_dict(
        {"database_url": settings.database_url,
         "rulesets": {"directory": str(FIXTURES / "rulesets"), "active": "ledger@1",
                      "reload_seconds": 1}}, base_dir=tmp_path), engine=db_engine)
    governance.reload(other)  # its folder has no experiments file: nothing changes
    mine = client.get("/v1/experiments", headers=admin).json
    theirs = reading.listing(other, Role("admin", None))
    assert theirs == mine and theirs["experiments"][0]["key"] == "dc-test"
    assert reading.assignment(other, Role("admin", None), "dc-test", "alice") == \
        assignment(client, admin, "alice").json


def test_with_two_folders_the_newest_file_wins_and_the_older_never_flips_it_back(
        started, settings, db_engine, tmp_path, client, admin, rulesets_dir):
    mine = rulesets_dir / "experiments.yaml"
    os.utime(mine, (1_000_000_000, 1_000_000_000))  # mine is old (2001)
    theirs_dir = tmp_path / "theirs"
    shutil.copytree(rulesets_dir, theirs_dir)
    (theirs_dir / "experiments.yaml").write_text(RUNNING.replace("coverage: 1\n",
                                                                 "coverage: 0.2\n"))
    other = build_context(settings_from_dict(
        {"database_url": settings.database_url,
         "rulesets": {"directory": str(theirs_dir), "active": "ledger@1",
                      "reload_seconds": 1}}, base_dir=tmp_path), engine=db_engine)
    governance.reload(other)  # the newer file goes in force
    for _ in range(2):
        governance.reload(started)  # the older one is not put back
        assert client.get("/v1/experiments", headers=admin).json["experiments"][0][
            "coverage"] == 0.2
    warnings = [p for p in client.get("/v1/rulesets", headers=admin).json["load_errors"]
                if p["code"] == "older-file"]
    assert len(warnings) == 1 and warnings[0]["severity"] == "warning"
    assert client.get("/healthz").json["status"] == "ok"
    mine.write_text(RUNNING.replace("coverage: 1\n", "coverage: 0.4\n"))  # edited: newest now
    governance.reload(started)
    assert client.get("/v1/experiments", headers=admin).json["experiments"][0][
        "coverage"] == 0.4
