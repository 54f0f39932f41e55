"""`oms feeds run` and `oms feeds list` with a config file, as operators use them."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
import yaml

from service.cli import feeds as cli_feeds
from service.cli import main, progress
from service.services.inventory import snapshot_copy
from service.services.masterdata import upserts
from service.store import snapshot_files
from tests.integration.feeds.helpers import T1, T2, csv_text, stock
from tests.support import FIXTURES

LOCATIONS = ("DC-1", "DS-1", "ST-1", "ST-2")  # the small network's
MANY_SKUS = [f"P{i:04d}" for i in range(1000)]


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


class Terminal(io.StringIO):
    """stderr as a terminal, keeping what is drawn on it."""

    def isatty(self) -> bool:
        return True


BIG_FILES = {  # how the COPY path reads each big file on PostgreSQL
    "staged whole": "copy",
    "staged in parts": "copy in parts",
    "in parts sharing a location": "copy in parts, the second part read again",
    "with a quote in its last block": "copy, then read again in Python",
}


@pytest.fixture(params=list(BIG_FILES))
def big_counts(request, small_network, drop, monkeypatch) -> Path:
    """A 3.6 MiB count of 1,000 SKUs at each location, mostly grouped by location (see
    BIG_FILES); the parts the COPY path cut it into are kept in request.node.parts."""
    request.node.parts = []
    if "in parts" in request.param:
        monkeypatch.setattr(snapshot_files, "PARALLEL_MIN_BYTES", 1 << 20)
    examine = snapshot_files._examine_parts

    def in_parts(pg, spares, reader, cuts, *args):
        request.node.parts.append(len(cuts) - 1)
        return examine(pg, spares, reader, cuts, *args)

    monkeypatch.setattr(snapshot_files, "_examine_parts", in_parts)
    upserts.upsert_products(small_network, [
        {"sku": sku, "name": sku, "category": "home", "price": 1} for sku in MANY_SKUS])
    rows = [f"{loc},{sku},{i % 7},{T1},{'x' * 900}" for loc in LOCATIONS
            for i, sku in enumerate(MANY_SKUS)]
    if "sharing" in request.param:  # DC-1's first 500 rows moved to the end
        rows = rows[500:] + rows[:500]
    if "quote" in request.param:
        rows[-1] = rows[-1][:-5] + '"x"xx'
    return drop("counts", "big.csv", csv_text("location,sku,on_hand,as_of,note", *rows))


def test_oms_feeds_run_draws_a_bar_that_advances_while_a_large_snapshot_is_applied(
        small_network, big_counts, config_file, monkeypatch, capsys, db_url, request):
    bars, applied = [], []
    make_bar, apply_csv = cli_feeds._file_bars, snapshot_copy.apply_csv

    def kept(feed):
        def bar(source, size):
            bars.append(make_bar(feed)(source, size))
            return bars[-1]
        return bar

    def copied(*args, **kwargs):
        report = apply_csv(*args, **kwargs)
        applied.append(report is not None)
        return report

    monkeypatch.setattr(cli_feeds, "_file_bars", kept)
    monkeypatch.setattr(snapshot_copy, "apply_csv", copied)
    monkeypatch.setattr(progress, "REDRAW_SECONDS", 0.0)  # draw at every advance
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)  # (here: pytest resets it after fixtures)

    assert oms(config_file, "run", "counts") == 0

    assert " ok " in capsys.readouterr().out
    size = big_counts.stat().st_size
    [bar] = bars
    assert (bar.total, bar.done, bar.rows) == (size, size, 4000)  # every byte counted once
    draws = [d.rstrip() for d in terminal.getvalue().split("\r") if d]
    shares = [int(m.group(1)) for d in draws if (m := re.search(r"\]\s+(\d+)% ", d))]
    assert len({s for s in shares if 0 < s < 100}) >= 2  # it advanced while applied
    assert re.fullmatch(r"feed counts, big\.csv: \[#{30}\] 100% 3\.6/3\.6 MiB, "
                        r"4,000 rows in \d+\.\d s", draws[-1])
    assert stock(small_network, "ST-2")["P0006"] == 6
    _assert_read_as_named(request, db_url, applied)


def _assert_read_as_named(request, db_url: str, applied: list[bool]) -> None:
    """The COPY path (on PostgreSQL) read the file the way its BIG_FILES entry says."""
    if not db_url.startswith("postgresql"):
        assert applied == [False]
        return
    way = BIG_FILES[request.node.callspec.params["big_counts"]]
    assert applied == [not way.endswith("in Python")]
    assert request.node.parts == ([2] if "in parts" in way else [])
