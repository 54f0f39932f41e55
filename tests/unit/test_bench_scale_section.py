"""bench/run_scale.py's Scale section survives `make bench` rewriting docs/benchmarks.md."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import common  # noqa: E402
import scale_report  # noqa: E402


def test_the_marked_block_is_found_whole_and_only_when_both_marks_are_there():
    block = f"{scale_report.BEGIN}\n## Scale\n| x |\n{scale_report.END}"
    text = f"# Benchmarks\n\nfigures\n\n{block}\n\ntrailer\n"
    assert scale_report.scale_block(text) == block
    assert scale_report.scale_block("# Benchmarks\n" + scale_report.BEGIN) == ""


def test_sizes_are_labelled_as_the_figures_name_them():
    assert [common.size_label(n) for n in (100_000, 1_000_000, 10_000_000)] == [
        "100k", "1M", "10M"]


def test_the_snapshot_is_judged_against_copy_from_one_million_positions_up_only():
    import run_scale

    slow = {"snapshot_x": 7.4, "copy_s": 0.07, "snapshot_s": 0.5}
    small = run_scale._snapshot_figure("100k", 100_000, slow)
    large = run_scale._snapshot_figure("10M", 10_000_000, slow | {"snapshot_x": 4.5})
    assert (small.passed, small.target) == (None, "")
    assert "no target below 1M" in small.note
    assert (large.passed, large.target) == (False, "<= 4x")
    assert run_scale._snapshot_figure("1M", 1_000_000, slow | {"snapshot_x": 3.1}).passed
