"""`oms feeds run` and `oms feeds list` with a config file, as operators use them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from service.cli import main
from tests.integration.feeds.helpers import T1, T2, csv_text, stock
from tests.support import FIXTURES


@pytest.fixture
def config_file(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A config.yaml on the test database whose feed globs are relative to its folder."""
    for name in ("OMS_CONFIG", "OMS_DATABASE_URL", "OMS_RULESETS_DIR"):
        monkeypatch.delenv(name, raising=False)
    config = {
        "database_url": db_url,
        "rulesets": {"directory": str(FIXTURES / "rulesets"), "active": "ledger@1"},
        "feeds": [{"name": "counts", "kind": "stock_snapshot", "format": "csv",
                   "source": "inbox/counts/*.csv", "location": "DC-1", "every_seconds": 60},
                  {"name": "erp", "kind": "products", "format": "csv",
                   "source": "inbox/products/*.csv", "cron": "0 * * * *"}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(path)


def oms(config_file: str, *args: str) -> int:
    return main(["--config", config_file, "feeds", *args])


def test_oms_feeds_run_applies_new_files_and_prints_a_summary(
        small_network, drop, config_file, capsys):
    drop("counts", "monday.csv", csv_text("sku,on_hand,as_of", f"A,3,{T1}", f"B,2,{T1}"))
    assert oms(config_file, "run", "counts") == 0
    out = capsys.readouterr().out
    assert "monday.csv" in out and "rows_read" in out and " ok " in out
    assert stock(small_network, "DC-1") == {"A": 3, "B": 2}
    assert oms(config_file, "run", "counts") == 0
    assert "nothing new" in capsys.readouterr().out


def test_oms_feeds_run_exits_non_zero_and_explains_a_refusal(
        small_network, drop, config_file, capsys):
    drop("counts", "1.csv", csv_text("sku,on_hand,as_of", f"A,3,{T1}", f"B,2,{T1}",
                                     f"C,1,{T1}"))
    oms(config_file, "run", "counts")
    drop("counts", "2.csv", csv_text("sku,on_hand,as_of", f"A,3,{T2}", f"ZZ,1,{T2}"))
    assert oms(config_file, "run", "counts") == 1
    out = capsys.readouterr().out
    assert "refused" in out and "line 3: unknown sku 'ZZ'" in out


def test_oms_feeds_list_shows_each_feed_its_schedule_and_last_run(
        small_network, drop, config_file, capsys):
    drop("counts", "1.csv", csv_text("sku,on_hand,as_of", f"A,3,{T1}"))
    oms(config_file, "run", "counts")
    capsys.readouterr()
    assert oms(config_file, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    counts = next(line for line in lines if line.startswith("counts"))
    erp = next(line for line in lines if line.startswith("erp"))
    assert "every 60s" in counts and " ok " in counts
    assert "cron 0 * * * *" in erp and "never" in erp


def test_oms_feeds_run_of_an_unknown_feed_is_an_error(ctx, config_file, capsys):
    assert oms(config_file, "run", "nope") == 1
    assert "No feed named 'nope'" in capsys.readouterr().err
