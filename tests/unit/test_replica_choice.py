"""Read replicas without a database: tokens, WAL positions, freshness, which replica may serve,
and the settings that name replicas."""

from __future__ import annotations

import pytest

from service.settings import ConfigError, settings_from_dict
from service.store.replicas import (
    Replica,
    Replicas,
    WalLayout,
    format_token,
    lsn,
    parse_token,
)

RULESETS = {"directory": "rulesets", "active": "default@3"}
PRIMARY = "postgresql+psycopg://oms@primary.example:5432/oms"
REPLICA = "postgresql+psycopg://oms:secret@replica.example:5433/oms"


def test_a_token_is_a_wal_position_in_postgresql_notation_and_back():
    assert lsn("0/16B3748") == 0x16B3748
    assert lsn("1/0") == 1 << 32
    assert format_token(lsn("A/16B3748")) == "pg:A/16B3748"
    assert parse_token("pg:A/16B3748") == lsn("A/16B3748")


@pytest.mark.parametrize("token", ["0/16B3748", "pg:", "pg:1/", "pg:xyz/1", "pg:123456789/0",
                                   "pg:1/2/3", "sqlite:1"])
def test_anything_else_is_not_a_token(token):
    assert parse_token(token) is None


def test_an_insert_position_just_past_a_page_header_settles_on_the_page_boundary():
    layout = WalLayout(block=8192, segment=16 * 1024 * 1024)
    assert layout.settled(8192 * 3 + 24) == 8192 * 3  # a page's short header
    assert layout.settled(16 * 1024 * 1024 + 40) == 16 * 1024 * 1024  # a segment's long one
    assert layout.settled(8192 * 3 + 25) == 8192 * 3 + 25  # inside a page: as it is
    assert layout.settled(16 * 1024 * 1024 + 24) == 16 * 1024 * 1024 + 24


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_replica_is_as_fresh_as_the_newest_primary_sample_it_has_replayed_past():
    time = FakeTime()
    replicas = Replicas(None, [REPLICA], max_lag_ms=500, poll_ms=100, now=time)  # type: ignore[arg-type]
    replicas._samples = [(97.0, 1000), (98.0, 2000), (99.0, 2000), (99.5, 3000)]
    assert replicas._fresh_at(999) is None  # behind every sample kept
    assert replicas._fresh_at(2500) == 99.0
    assert replicas._fresh_at(3000) == 99.5
    replica = replicas.replicas[0]
    replica.fresh_at = replicas._fresh_at(2500)
    assert replicas.lag_seconds(replica) == pytest.approx(1.0)


def test_a_healthy_replica_serves_a_token_it_has_replayed_past_and_no_other():
    replica = Replica("r", None, state="healthy", replay=5000, fresh_at=10.0)  # type: ignore[arg-type]
    assert replica.usable(5000, oldest=0.0) and replica.usable(4000, oldest=0.0)
    assert not replica.usable(5001, oldest=0.0)


def test_without_a_token_a_replica_serves_only_within_the_lag_allowed():
    replica = Replica("r", None, state="healthy", replay=5000, fresh_at=10.0)  # type: ignore[arg-type]
    assert replica.usable(None, oldest=9.5)
    assert not replica.usable(None, oldest=10.5)


@pytest.mark.parametrize("state", ["lagging", "down", "starting"])
def test_a_replica_that_is_not_healthy_serves_nothing(state):
    replica = Replica("r", None, state=state, replay=5000, fresh_at=10.0)  # type: ignore[arg-type]
    assert not replica.usable(1, oldest=0.0) and not replica.usable(None, oldest=0.0)


def test_a_replica_is_named_by_host_port_and_database_never_its_password():
    replicas = Replicas(None, [REPLICA], max_lag_ms=500, poll_ms=100)  # type: ignore[arg-type]
    assert replicas.replicas[0].name == "replica.example:5433/oms"


def test_the_database_section_defaults_to_no_replica_and_500_ms():
    settings = settings_from_dict({"database_url": PRIMARY, "rulesets": RULESETS})
    assert settings.section("database") == {"read_urls": [], "read_max_lag_ms": 500,
                                             "read_poll_ms": 100}


def test_read_replicas_need_a_postgresql_primary():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"database_url": "sqlite:///var/oms.db", "rulesets": RULESETS,
                            "database": {"read_urls": [REPLICA]}})
    assert info.value.problems == [
        "database.read_urls: read replicas need a PostgreSQL database_url"]


def test_a_replica_url_that_is_not_postgresql_is_refused_by_position():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"database_url": PRIMARY, "rulesets": RULESETS,
                            "database": {"read_urls": [REPLICA, "sqlite:///x.db"],
                                         "read_max_lag_ms": -1}})
    assert info.value.problems == [
        "database.read_max_lag_ms: -1 is less than the minimum of 0",
        "database.read_urls.1: expected a postgresql+psycopg:// URL"]
