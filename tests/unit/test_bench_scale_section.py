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


def test_an_included_bench_file_loses_its_leading_comment_and_keeps_every_other_line(tmp_path):
    import report

    path = tmp_path / "changes.md"
    path.write_text("<!-- a note\n     for editors -->\n# Changes\n- a point that\n  goes on\n")
    assert report._included(path) == "# Changes\n- a point that\n  goes on"
    assert report._included(tmp_path / "missing.md") == ""
