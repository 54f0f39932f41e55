"""The terminal progress bar, and the byte count of the streams it watches."""

from __future__ import annotations

import io
import re
import sys
from types import SimpleNamespace

import pytest

from service.cli import progress
from service.cli.progress import BYTES, ProgressBar
from service.feeds.metering import CountedStream, recount, uncounted


class FakeTerminal(io.StringIO):
    """stderr as a terminal: what is drawn on it is kept."""

    def isatty(self) -> bool:
        return True

    def draws(self) -> list[str]:
        """Each line drawn (a redraw starts with a carriage return)."""
        return [d.rstrip() for d in self.getvalue().split("\r") if d]


class Clock:
    """time.monotonic for the bar, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def on_terminal(monkeypatch: pytest.MonkeyPatch) -> FakeTerminal:
    """stderr a terminal from here on (set in the test itself: pytest's capture puts its own
    stderr back between a fixture's setup and the test)."""
    fake = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", fake)
    return fake


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=fake))
    return fake


def percents(draws: list[str]) -> list[int]:
    return [int(m.group(1)) for d in draws if (m := re.search(r"\]\s+(\d+)% ", d))]


def test_a_bar_with_a_known_total_fills_up_and_ends_on_a_final_line(monkeypatch, clock):
    terminal = on_terminal(monkeypatch)
    with ProgressBar("feed counts, a.csv", total=4000) as bar:
        for _ in range(4):
            clock.now += 1
            bar.advance(1000)
    draws = terminal.draws()
    assert percents(draws) == [25, 50, 75, 100, 100]
    assert draws[-1] == f"feed counts, a.csv: [{'#' * 30}] 100% 4,000/4,000 in 4.0 s"
    assert "[#######                       ]  25% 1,000/4,000 (1,000/s)" in draws[0]
    assert terminal.getvalue().endswith("\n") and terminal.getvalue().count("\n") == 1


def test_a_bar_never_shows_more_than_its_total(monkeypatch, clock):
    terminal = on_terminal(monkeypatch)
    with ProgressBar("x", total=10) as bar:
        bar.advance(25)
    assert percents(terminal.draws()) == [100, 100]
    assert "#" * 31 not in terminal.getvalue()


def test_redraws_are_throttled_to_one_per_tenth_of_a_second(monkeypatch, clock):
    terminal = on_terminal(monkeypatch)
    bar = ProgressBar("x", total=1000)
    for _ in range(100):
        bar.advance()  # the first draws at once, the rest come too soon
    clock.now += 0.09
    bar.advance()
    assert len(terminal.draws()) == 1
    clock.now += 0.02
    bar.advance()
    assert len(terminal.draws()) == 2 and "102/1,000" in terminal.draws()[-1]


def test_a_shorter_redraw_blanks_what_is_left_of_the_longer_one(monkeypatch, clock):
    terminal = on_terminal(monkeypatch)
    bar = ProgressBar("x")
    bar.advance(123_456_789)
    clock.now += 1000
    bar.advance(1)
    first, second = terminal.getvalue().split("\r")[1:]
    assert len(second) >= len(first)


def test_bytes_are_shown_in_binary_units_with_the_rows_read(monkeypatch, clock):
    terminal = on_terminal(monkeypatch)
    with ProgressBar("feed counts, big.csv", total=3 << 20, unit=BYTES) as bar:
        clock.now += 2
        bar.advance(1 << 20)
        bar.add_rows(12_000)  # (too soon to redraw)
        clock.now += 1
        bar.advance(2 << 20)
    first, second, last = terminal.draws()
    assert first.endswith(" 33% 1.0/3.0 MiB (512.0 KiB/s)")
    assert second.endswith("100% 3.0/3.0 MiB, 12,000 rows (1.0 MiB/s)")
    assert last.endswith("100% 3.0/3.0 MiB, 12,000 rows in 3.0 s")


def test_an_empty_file_is_done_at_once(monkeypatch, clock):
    terminal = on_terminal(monkeypatch)
    with ProgressBar("x", total=0, unit=BYTES):
        pass
    assert terminal.draws() == [f"x: [{'#' * 30}] 100% 0/0 B in 0.0 s"]


def test_without_a_total_the_bar_counts_what_was_done(monkeypatch, clock):
    terminal = on_terminal(monkeypatch)
    with ProgressBar("stock positions") as bar:
        clock.now += 2
        bar.advance(5000)
    assert terminal.draws() == ["stock positions: 5,000 (2,500/s)",
                                "stock positions: 5,000 in 2.0 s"]


def test_nothing_is_written_when_stderr_is_not_a_terminal(monkeypatch, clock):
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with ProgressBar("x", total=10) as bar:
        bar.advance(5)
        clock.now += 1
        bar.advance(5)
        bar.add_rows(3)
    assert piped.getvalue() == ""


def test_a_counted_stream_reports_each_read_once_per_buffer_not_per_line():
    data = b"sku,on_hand\n" + b"".join(b"S%d,1\n" % i for i in range(20_000))
    counts: list[int] = []
    stream = CountedStream(io.BytesIO(data), counts.append)
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    assert sum(1 for _line in text) == 20_001
    assert sum(counts) == stream.counted == len(data)
    assert len(counts) < len(data) // 4096


def test_reads_that_are_a_look_ahead_are_not_counted():
    counts: list[int] = []
    stream = CountedStream(io.BytesIO(b"header\n" + b"x" * 100), counts.append)
    stream.readline()
    with uncounted(stream):
        stream.seek(50)
        stream.read(20)
        stream.seek(7)
    assert stream.read(1000) == b"x" * 100
    assert counts == [7, 100] and stream.counted == 107


def test_a_stream_read_again_from_its_start_counts_from_zero_again():
    counts: list[int] = []
    stream = CountedStream(io.BytesIO(b"0123456789"), counts.append)
    stream.read(8)
    stream.seek(0)
    recount(stream, 0)
    stream.read()
    assert counts == [8, -8, 10] and stream.counted == 10


def test_streams_that_are_not_counted_are_left_alone_by_the_helpers():
    stream = io.BytesIO(b"abc")
    with uncounted(stream):
        assert stream.read(1) == b"a"
    recount(stream, 0)
    assert stream.read() == b"bc"


def test_closing_a_counted_stream_closes_the_stream_it_wraps():
    inner = io.BytesIO(b"abc")
    with CountedStream(inner, lambda _n: None) as stream:
        assert stream.readinto(bytearray(2)) == 2 and stream.counted == 2
    assert inner.closed and stream.closed

