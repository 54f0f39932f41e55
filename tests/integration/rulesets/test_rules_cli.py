"""`oms rules ...` from the command line."""

from service.cli import main
from tests.support import FIXTURES

BAD = "name: x\nversion: 1\nchannels:\n  web:\n    rules:\n      - name: a\n" \
      "        conditions: {all: [{name: colour, operator: equal_to, value: red}]}\n" \
      "        actions: [{name: exclude_location}]\n"


def test_validate_passes_on_the_shipped_rulesets(capsys):
    assert main(["rules", "validate", "rulesets"]) == 0
    assert "0 error(s)" in capsys.readouterr().err


def test_validate_prints_compiler_style_errors_and_fails(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    assert main(["rules", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:7:") and ": error: unknown variable 'colour'" in out


def test_validate_fails_on_a_missing_path(tmp_path, capsys):
    assert main(["rules", "validate", str(tmp_path / "nothing.yaml")]) == 1


def test_diff_shows_the_change_in_meaning(capsys, monkeypatch):
    monkeypatch.setenv("OMS_RULESETS_DIR", str(FIXTURES / "rulesets"))
    monkeypatch.setenv("OMS_DATABASE_URL", "sqlite:///:memory:")
    assert main(["rules", "diff", "ledger@1", "ledger@2"]) == 0
    out = capsys.readouterr().out
    assert "+ no-stores" in out and "- stores-keep-two" in out


def test_show_prints_the_normalised_version(capsys, monkeypatch):
    monkeypatch.setenv("OMS_RULESETS_DIR", str(FIXTURES / "rulesets"))
    monkeypatch.setenv("OMS_DATABASE_URL", "sqlite:///:memory:")
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
