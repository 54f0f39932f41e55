"""`oms rules ...` from the command line."""

import shutil

from service.cli import main
from service.settings import PROJECT_ROOT
from tests.support import FIXTURES

GOOD = "name: shop\nversion: 2\nchannels:\n  web:\n    rules:\n      - name: a\n" \
       "        conditions: {all: [{name: location_type, operator: equal_to, value: store}]}\n" \
       "        actions: [{name: hold_back_units, params: {units: 2}}]\n"

BAD = "name: x\nversion: 1\nchannels:\n  web:\n    rules:\n      - name: a\n" \
      "        conditions: {all: [{name: colour, operator: equal_to, value: red}]}\n" \
      "        actions: [{name: exclude_location}]\n"


def test_validate_passes_on_the_shipped_rulesets_whatever_versions_they_hold(capsys):
    assert main(["rules", "validate", str(PROJECT_ROOT / "rulesets")]) == 0
    assert "0 error(s)" in capsys.readouterr().err


def test_a_percent_over_100_fails_validation(tmp_path, capsys):
    path = tmp_path / "v2.yaml"
    path.write_text(GOOD.replace("units: 2", "units: 2}}, {name: hold_back_percent, "
                                 "params: {percent: 130"))
    assert main(["rules", "validate", str(path)]) == 1
    assert capsys.readouterr().out == (f"{path}:8:108: error: percent: expected a number 0–100, "
                                       "got 130 (at /channels/web/rules/0/actions/1/params/"
                                       "percent)\n")


def test_a_copied_file_still_saying_the_old_version_is_an_error_with_its_line(tmp_path,
                                                                             capsys):
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "v2.yaml").write_text(GOOD)
    (folder / "v3.yaml").write_text(GOOD)
    assert main(["rules", "validate", str(folder / "v3.yaml")]) == 1
    out = capsys.readouterr().out
    assert f"{folder / 'v3.yaml'}:2:10: error: the file name v3.yaml says version 3 but the " \
           "file says version: 2" in out


def test_a_file_named_for_another_version_than_a_known_one_is_an_error(tmp_path, capsys):
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "v2.yaml").write_text(GOOD)
    (folder / "draft.yaml").write_text(GOOD.replace("units: 2", "units: 3"))
    assert main(["rules", "validate", str(folder / "draft.yaml")]) == 1
    assert f"shop@2 is already defined by {folder / 'v2.yaml'}" in capsys.readouterr().out
    (folder / "draft.yaml").unlink()
    assert main(["rules", "validate", str(folder / "v2.yaml")]) == 0


def test_validate_prints_compiler_style_errors_and_fails(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    assert main(["rules", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:7:") and ": error: unknown variable 'colour'" in out


def test_validate_fails_on_a_missing_path(tmp_path, capsys):
    assert main(["rules", "validate", str(tmp_path / "nothing.yaml")]) == 1


def test_diff_shows_the_change_in_meaning(ctx, capsys, monkeypatch, db_url):
    monkeypatch.setenv("OMS_RULESETS_DIR", str(FIXTURES / "rulesets"))
    monkeypatch.setenv("OMS_DATABASE_URL", db_url)
    assert main(["rules", "diff", "ledger@1", "ledger@2"]) == 0
    out = capsys.readouterr().out
    assert "+ no-stores" in out and "- stores-keep-two" in out


def test_diff_shows_each_changed_value_old_to_new(ctx, tmp_path, capsys, monkeypatch, db_url):
    monkeypatch.setenv("OMS_RULESETS_DIR", str(FIXTURES / "rulesets"))
    monkeypatch.setenv("OMS_DATABASE_URL", db_url)
    draft = tmp_path / "v3.yaml"
    draft.write_text((FIXTURES / "rulesets" / "default" / "v2.yaml").read_text()
                     .replace("version: 2", "version: 3").replace("percent: 20", "percent: 30"))
    assert main(["rules", "diff", "default@2", str(draft)]) == 0
    out = capsys.readouterr().out
    assert "~ marketplace-keeps-20-percent-back (actions)" in out
    assert "actions.0.params.percent: 20 → 30" in out


def test_show_prints_the_normalised_version(ctx, capsys, monkeypatch, db_url):
    monkeypatch.setenv("OMS_RULESETS_DIR", str(FIXTURES / "rulesets"))
    monkeypatch.setenv("OMS_DATABASE_URL", db_url)
    assert main(["rules", "show", "ledger@2"]) == 0
    assert "name: ledger" in capsys.readouterr().out


def test_the_vocabulary_is_printed_as_json(capsys):
    import json

    assert main(["rules", "vocabulary"]) == 0
    assert "returns" in json.loads(capsys.readouterr().out)


def test_activate_switches_the_configured_database(ctx, small_network, capsys, monkeypatch,
                                                   db_url):
    monkeypatch.setenv("OMS_RULESETS_DIR", str(ctx.settings.rulesets_dir))
    monkeypatch.setenv("OMS_DATABASE_URL", db_url)
    assert main(["rules", "activate", "dc-first@1"]) == 0
    assert "dc-first@1 is active" in capsys.readouterr().out
    with ctx.reading() as uow:
        assert ctx.rules.active(uow).ref == "dc-first@1"


def test_validating_one_file_checks_the_versions_the_database_publishes(
        ctx, tmp_path, capsys, monkeypatch, db_url):
    monkeypatch.setenv("OMS_RULESETS_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("OMS_DATABASE_URL", db_url)
    (tmp_path / "empty").mkdir()
    changed = tmp_path / "v2.yaml"
    changed.write_text((FIXTURES / "rulesets" / "default" / "v2.yaml").read_text()
                       .replace("percent: 20", "percent: 30"))
    assert main(["rules", "validate", str(changed)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{changed}:7:10: error: default@2 is already published")
    assert "3 is the next free one" in out
    same = tmp_path / "same" / "v2.yaml"
    same.parent.mkdir()
    shutil.copy(FIXTURES / "rulesets" / "default" / "v2.yaml", same)
    assert main(["rules", "validate", str(same)]) == 0
