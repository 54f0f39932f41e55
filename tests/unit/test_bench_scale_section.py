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
