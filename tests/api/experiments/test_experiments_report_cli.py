"""`oms experiments report KEY [--plot FILE.png]` on the orders placed through the API."""

import builtins
from pathlib import Path

import pytest
import yaml

from service.cli import main


@pytest.fixture
def config_file(tmp_path: Path, db_url: str, rulesets_dir: Path,
                monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("OMS_CONFIG", "OMS_DATABASE_URL", "OMS_RULESETS_DIR"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database_url": db_url, "rulesets": {
        "directory": str(rulesets_dir), "active": "ledger@1"}}), encoding="utf-8")
    return str(path)


@pytest.fixture
def tagged(stocked, order):
    """Two control orders (two customers) and one dc-first order."""
    for customer, variant in (("alice", "control"), ("bob", "control"), ("carol", "dc-first")):
        placed = order([{"sku": "A", "quantity": 1}], customer)
        with stocked.transaction() as uow:
            uow.experiments.tag_order(placed["id"], "dc-test", variant)
    return stocked


def test_the_report_prints_each_variant_its_differences_and_the_sample_ratio(
        tagged, config_file, capsys):
    assert main(["--config", config_file, "experiments", "report", "dc-test"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("experiment dc-test (running): 3 orders, 3 units; control control")
    table = out.split("\n\n")[1].splitlines()  # a column per variant, a row per figure
    assert table[0].split() == ["control", "dc-first"]
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    assert (rows["units"], rows["orders"]) == (["2", "1"], ["2", "1"])
    assert rows["shipments_per_order"] == ["1.000", "1.000"]
    assert "dc-first - control (always-valid 95% interval" in out
    assert "sample ratio: observed [2, 1] expected [1.5, 1.5]" in out and "(ok)" in out


def test_an_unknown_experiment_is_an_error_in_one_line(started, config_file, capsys):
    assert main(["--config", config_file, "experiments", "report", "nope"]) == 1
    assert capsys.readouterr().err == "error: No experiment 'nope' (see GET /v1/experiments).\n"


def test_the_plot_is_a_png_of_the_differences(tagged, config_file, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="--plot needs the bench extra")
    target = tmp_path / "dc-test.png"
    assert main(["--config", config_file, "experiments", "report", "dc-test",
                 "--plot", str(target)]) == 0
    assert target.read_bytes().startswith(b"\x89PNG")
    assert f"plot written to {target}" in capsys.readouterr().out


def test_without_matplotlib_the_plot_says_how_to_install_it_and_does_nothing(
        started, config_file, tmp_path, capsys, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(SystemExit) as stopped:
        main(["--config", config_file, "experiments", "report", "dc-test", "--plot",
              str(tmp_path / "x.png")])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == ("--plot needs matplotlib: pip install "
                                       "'oms-rules-service[bench]'\n")
    assert not (tmp_path / "x.png").exists()
