"""`oms db upgrade|downgrade|current` on SQLite and PostgreSQL: an operator can see where the
schema is, take it back to a named revision and up again, and a revision that is unknown or
not below the database's is refused by name, changing nothing."""

import pytest
from sqlalchemy import inspect

from service.cli import main
from service.store.db import make_engine
from service.store.migrate import head
from tests.integration.store.test_order_ref_migration import fresh_url  # noqa: F401
from tests.processes import write_config


@pytest.fixture
def oms(fresh_url, tmp_path, capsys):  # noqa: F811
    """Runs `oms --config <a config on the fresh database> ...`: (exit code, out, err)."""
    config = write_config(tmp_path, fresh_url)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), *argv])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def event_indexes(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {ix["name"] for ix in inspect(engine).get_indexes("events")}
    finally:
        engine.dispose()


def test_the_schema_goes_back_to_a_named_revision_and_up_again(oms, fresh_url):  # noqa: F811
    latest = head()
    code, out, _ = oms("db", "current")
    assert code == 0 and f"revision -, latest {latest}: no schema" in out
    assert oms("db", "upgrade")[0] == 0
    assert "up to date" in oms("db", "current")[1]
    code, out, _ = oms("db", "downgrade", "0036")
    assert code == 0 and f"downgraded from {latest} to 0036" in out
    assert "ix_events_pending" in event_indexes(fresh_url)  # 0037's downgrade ran
    assert "revision 0036" in oms("db", "current")[1]
    assert "behind" in oms("db", "current")[1]
    code, out, _ = oms("db", "upgrade")
    assert code == 0 and "at the latest schema" in out
    assert "ix_events_pending" not in event_indexes(fresh_url)


def test_a_downgrade_to_an_unknown_or_later_revision_is_refused_by_name(oms):
    assert oms("db", "upgrade", "0036")[0] == 0
    assert "revision 0036" in oms("db", "current")[1]
    code, _, err = oms("db", "downgrade", "9999")
    assert code == 1 and "unknown revision '9999'" in err
    code, _, err = oms("db", "downgrade", head())
    assert code == 1 and f"revision {head()} is not below the database's (0036)" in err
    assert "revision 0036" in oms("db", "current")[1]  # nothing moved
    code, _, err = oms("db", "upgrade", "nope")
    assert code == 1 and "unknown revision 'nope'" in err
    code, _, err = oms("db", "upgrade", "0035")  # below the database's: a downgrade's job
    assert code == 1 and "cannot upgrade to 0035" in err
    assert "revision 0036" in oms("db", "current")[1]
