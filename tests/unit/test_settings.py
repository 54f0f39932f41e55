import os
from pathlib import Path

import pytest

from service.settings import PROJECT_ROOT, ConfigError, load_settings, settings_from_dict

MINIMAL = {
    "database_url": "sqlite:///var/x.db",
    "rulesets": {"directory": "rulesets", "active": "default@2"},
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_the_shipped_config_is_valid():
    settings = load_settings(env={})
    assert settings.database_url.startswith("sqlite:///")
    name, _, version = settings.active_ruleset.partition("@")
    assert version.isdigit()  # pinned: following the latest is opt-in
    assert (PROJECT_ROOT / "rulesets" / name / f"v{version}.yaml").is_file()


def test_a_ruleset_name_without_a_version_says_how_to_pin_or_follow(tmp_path):
    with pytest.raises(ConfigError) as info:
        settings_from_dict({**MINIMAL, "rulesets": {"directory": "r", "active": "default"}})
    assert info.value.problems == [
        "rulesets.active: 'default' names no version: pin one (default@<version>) or follow the "
        "latest explicitly (default@latest)"]


def test_following_the_latest_version_is_an_explicit_choice():
    settings = settings_from_dict({**MINIMAL, "rulesets": {"directory": "r",
                                                           "active": "default@latest"}})
    assert settings.active_ruleset == "default@latest"


def test_an_unknown_key_stops_with_its_name(tmp_path):
    path = write(
        tmp_path,
        "database_url: sqlite:///x.db\nrulesets: {directory: r, active: d@1}\ncolour: blue\n",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert any("colour" in p and "unknown key" in p for p in info.value.problems)


def test_a_wrong_value_names_the_key_and_what_was_expected(tmp_path):
    path = write(
        tmp_path,
        "database_url: sqlite:///x.db\nrulesets: {directory: r, active: d@1}\n"
        "server: {port: 99999}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert info.value.problems == ["server.port: 99999 is greater than the maximum of 65535"]


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, "rulesets: {directory: r}\nserver: {workers: 0}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    text = " ".join(info.value.problems)
    assert "database_url" in text and "active" in text and "server.workers" in text


def test_malformed_yaml_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "database_url: [unclosed\n"), env={})


def test_environment_overrides_database_and_rulesets_directory(tmp_path):
    path = write(tmp_path, "database_url: sqlite:///x.db\nrulesets: {directory: r, active: d@1}\n")
    settings = load_settings(
        path,
        env={
            "OMS_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "OMS_RULESETS_DIR": str(tmp_path / "other"),
        },
    )
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.rulesets_dir == tmp_path / "other"


def test_oms_config_names_the_file(tmp_path):
    path = write(tmp_path, "database_url: sqlite:///y.db\nrulesets: {directory: r, active: x@1}\n")
    assert load_settings(env={"OMS_CONFIG": str(path)}).active_ruleset == "x@1"


def test_a_relative_sqlite_path_is_relative_to_the_config_file(tmp_path):
    settings = settings_from_dict(MINIMAL, base_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'x.db'}"


def test_sections_get_the_schema_defaults():
    settings = settings_from_dict(MINIMAL)
    assert settings.section("inventory")["max_zeroed_share"] == 0.5
    assert settings.section("server")["port"] == 8080


def test_environment_paths_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    path = write(tmp_path, "database_url: sqlite:///x.db\nrulesets: {active: d@1}\n")
    monkeypatch.chdir(tmp_path.parent)
    settings = load_settings(path, env={"OMS_RULESETS_DIR": "rules",
                                        "OMS_DATABASE_URL": "sqlite+pysqlite:///data/oms.db"})
    assert settings.rulesets_dir == tmp_path.parent / "rules"
    assert settings.database_url == f"sqlite+pysqlite:///{tmp_path.parent / 'data' / 'oms.db'}"


def test_an_empty_rulesets_section_names_the_missing_keys(tmp_path):
    path = write(tmp_path, "database_url: sqlite:///x.db\nrulesets:\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={"OMS_RULESETS_DIR": "rules"})
    assert any(p.startswith("rulesets") for p in info.value.problems)


def test_the_server_runs_one_worker_per_core_plus_one_unless_configured(monkeypatch):
    from service.cli import worker_count

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert worker_count(settings_from_dict(MINIMAL).section("server")) == 3
    configured = settings_from_dict({**MINIMAL, "server": {"workers": 7}})
    assert worker_count(configured.section("server")) == 7


def test_shipping_zones_out_of_distance_order_are_a_config_error_naming_the_key():
    zones = [{"max_km": 1000, "cost": 5}, {"max_km": 100, "cost": 300}]
    with pytest.raises(ConfigError) as refused:
        settings_from_dict({**MINIMAL, "sourcing": {"shipping": {"zones": zones}}})
    assert "sourcing.shipping.zones" in str(refused.value)
    settings_from_dict({**MINIMAL, "sourcing": {"shipping": {"zones": zones[::-1]}}})


FEED = {"name": "deltas", "kind": "stock_delta", "source": "in/*.csv", "format": "csv"}


@pytest.mark.parametrize("cron, says", [
    ("61 * * * *", "higher than the maximum"),
    ("* * * * * *", "expected 5 fields"),
    ("every morning", "expected 5 fields"),
])
def test_a_bad_crontab_line_stops_loading_naming_the_feed(tmp_path, cron, says):
    path = write(tmp_path, "database_url: sqlite:///x.db\nrulesets: {directory: r, active: d@1}\n"
                           "feeds:\n  - {name: deltas, kind: stock_delta, source: 'in/*.csv',"
                           f" format: csv, cron: '{cron}'}}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    [problem] = info.value.problems
    assert problem.startswith(f"feeds.0.cron: '{cron}' of feed 'deltas' is not a valid")
    assert says in problem and str(path) in str(info.value)


def test_a_feed_with_both_every_seconds_and_cron_is_refused_naming_it():
    feeds = [{**FEED, "name": "first", "every_seconds": 60},
             {**FEED, "name": "second", "every_seconds": 60, "cron": "*/5 * * * *"}]
    with pytest.raises(ConfigError) as info:
        settings_from_dict({**MINIMAL, "feeds": feeds})
    assert info.value.problems == [
        "feeds.1: feed 'second' sets both every_seconds and cron; give one schedule"]


def test_a_valid_crontab_line_or_interval_loads():
    feeds = [{**FEED, "name": "nightly", "cron": "0 2 * * mon-fri"},
             {**FEED, "name": "often", "every_seconds": 30}]
    assert [f["name"] for f in settings_from_dict({**MINIMAL, "feeds": feeds}).feeds] == [
        "nightly", "often"]


def test_served_workers_share_their_metrics_through_one_directory(tmp_path):
    from service.cli import shared_metrics_dir

    given = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    unset: dict[str, str] = {}
    assert shared_metrics_dir(given) == str(tmp_path)
    made = shared_metrics_dir(unset)
    assert unset["PROMETHEUS_MULTIPROC_DIR"] == made and os.path.isdir(made)
    assert os.listdir(made) == []


def test_a_key_renamed_since_an_earlier_release_still_works_with_a_warning(caplog):
    settings = settings_from_dict({**MINIMAL, "inventory": {"hold_expiry_seconds": 45}})
    assert settings.section("inventory")["reservation_expiry_seconds"] == 45
    assert "inventory.hold_expiry_seconds is now inventory.reservation_expiry_seconds" in (
        caplog.text)


def test_a_plan_may_take_200_ms_unless_configured_and_a_limit_below_1_ms_is_refused():
    assert settings_from_dict(MINIMAL).section("sourcing")["max_plan_ms"] == 200
    assert settings_from_dict({**MINIMAL, "sourcing": {"max_plan_ms": 50}}).section(
        "sourcing")["max_plan_ms"] == 50
    with pytest.raises(ConfigError) as info:
        settings_from_dict({**MINIMAL, "sourcing": {"max_plan_ms": 0}})
    assert any("max_plan_ms" in p for p in info.value.problems)
