"""Folder sources: settled files in name order, each named by its checksum."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from service.feeds import sources


def write(folder: Path, name: str, text: str, age: float = 60.0) -> Path:
    path = folder / name
    path.write_text(text)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def names(pattern: str) -> list[str]:
    return [Path(p.source).name for p in sources.directory_payloads(pattern)]


def test_files_come_in_name_order_with_their_checksum_and_time(tmp_path):
    write(tmp_path, "b.csv", "two")
    path = write(tmp_path, "a.csv", "one", age=3600)
    first = next(sources.directory_payloads(str(tmp_path / "*.csv")))
    assert names(str(tmp_path / "*.csv")) == ["a.csv", "b.csv"]
    assert first.checksum == hashlib.sha256(b"one").hexdigest()
    assert abs(first.modified.timestamp() - path.stat().st_mtime) < 1e-3
    with first.open() as stream:
        assert stream.read() == b"one"


def test_hidden_partial_and_fresh_files_are_left_for_later(tmp_path):
    write(tmp_path, "ok.csv", "x")
    write(tmp_path, ".ok2.csv", "x")
    write(tmp_path, "big.csv.part", "x")
    write(tmp_path, "fresh.csv", "x", age=0)
    (tmp_path / "folder.csv").mkdir()
    assert names(str(tmp_path / "*.csv*")) == ["ok.csv"]


def test_a_glob_may_reach_into_sub_folders(tmp_path):
    (tmp_path / "st-1").mkdir()
    write(tmp_path / "st-1", "counts.csv", "x")
    assert names(str(tmp_path / "**" / "*.csv")) == ["counts.csv"]


def test_a_missing_folder_is_a_source_error(tmp_path):
    with pytest.raises(sources.FeedSourceFailed, match="does not exist"):
        list(sources.directory_payloads(str(tmp_path / "nowhere" / "*.csv")))


@pytest.mark.parametrize("pattern, folder", [
    ("/data/in/*.csv", "/data/in"),
    ("/data/*/counts.csv", "/data"),
    ("in/[ab]*/x.csv", "in"),
    ("*.csv", "."),
])
def test_the_folder_of_a_glob_is_its_part_before_the_first_wildcard(pattern, folder):
    assert sources._fixed_prefix(pattern) == Path(folder)
