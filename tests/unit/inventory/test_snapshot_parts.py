"""Cutting a large CSV snapshot into parts at location boundaries, and reading the parts'
byte ranges from one stream in several threads."""

from __future__ import annotations

import io
import itertools
import threading

import pytest

from service.feeds.file_parts import PartStopped, SharedReader, disjoint, file_parts

HEADER = ["location", "sku", "on_hand"]


def _file(locations: list[str], skus: int = 50, header: str = "location,sku,on_hand",
          row: str = "{loc},S{i:04d},{qty}") -> io.BytesIO:
    lines = [header] + [row.format(loc=loc, i=i, qty=i % 7)
                        for loc in locations for i in range(skus)]
    stream = io.BytesIO(("\n".join(lines) + "\n").encode())
    stream.readline()  # as the COPY path leaves it: at the first data line
    return stream


def _parts(stream: io.BytesIO, cuts: list[int]) -> list[bytes]:
    return [stream.getvalue()[a:b] for a, b in itertools.pairwise(cuts)]


def _locations_of(stream: io.BytesIO, start: int, end: int) -> set[str]:
    data = stream.getvalue()[start:end].decode()
    return {line.split(",")[0] for line in data.splitlines()}


def test_a_large_file_is_cut_where_one_locations_lines_end_and_the_next_ones_begin():
    stream = _file(["A", "B", "C", "D"])
    start = stream.tell()
    cuts = file_parts(stream, HEADER, min_bytes=1, most=2)
    assert len(cuts) == 3 and cuts[0] == start and cuts[-1] == len(stream.getvalue())
    first, second = (_locations_of(stream, a, b) for a, b in itertools.pairwise(cuts))
    assert first | second == {"A", "B", "C", "D"} and not first & second
    assert stream.tell() == start  # left at the first data line


def test_the_parts_cover_every_line_once():
    stream = _file([f"L{i}" for i in range(9)], skus=13)
    cuts = file_parts(stream, HEADER, min_bytes=1, most=4)
    assert len(cuts) == 5
    assert b"".join(_parts(stream, cuts)) == stream.getvalue()[cuts[0]:]
    assert all(part.endswith(b"\n") for part in _parts(stream, cuts))


@pytest.mark.parametrize("stream, header, min_bytes", [
    (_file(["A", "B"]), HEADER, 1 << 20),  # too small to be worth two connections
    (_file(["A"]), HEADER, 1),  # one location: no boundary
    (_file(["A", "B"], header="x,sku,on_hand"), ["x", "sku", "on_hand"], 1),  # no location
], ids=["small", "one-location", "no-location-field"])
def test_a_file_without_a_worthwhile_cut_is_one_part(stream, header, min_bytes):
    start = stream.tell()
    assert file_parts(stream, header, min_bytes=min_bytes, most=2) == [
        start, len(stream.getvalue())]


def test_the_location_comes_from_location_id_when_that_is_the_field():
    stream = _file(["A", "B", "C", "D"], header="sku,on_hand,location_id",
                   row="S{i:04d},{qty},{loc}")
    cuts = file_parts(stream, ["sku", "on_hand", "location_id"], min_bytes=1, most=2)
    assert len(cuts) == 3
    first, second = ({line.rsplit(",", 1)[1] for line in part.decode().splitlines()}
                     for part in _parts(stream, cuts))
    assert first and second and not first & second


def test_a_file_whose_lines_near_the_cut_share_locations_is_not_cut():
    lines = ["location,sku,on_hand"] + [f"{loc},S{i:04d},1" for i in range(200)
                                        for loc in ("A", "B", "C")]  # interleaved
    stream = io.BytesIO(("\n".join(lines) + "\n").encode())
    stream.readline()
    assert len(file_parts(stream, HEADER, min_bytes=1, most=2)) == 2


def test_disjoint_tells_whether_a_location_is_in_two_parts():
    assert disjoint([{"A", "B"}, {"C"}, set()])
    assert not disjoint([{"A", "B"}, {"B", "C"}])


def test_a_shared_reader_gives_each_thread_its_own_range_whole():
    data = bytes(range(250)) * 4000
    reader = SharedReader(io.BytesIO(data), block=1000)
    out: dict[int, bytes] = {}

    def read(start: int, end: int) -> None:
        out[start] = b"".join(reader.blocks(start, end))

    threads = [threading.Thread(target=read, args=(start, start + 250_000))
               for start in range(0, len(data), 250_000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert b"".join(out[a] for a in sorted(out)) == data


def test_a_stopped_reader_makes_the_parts_still_reading_stop_and_can_read_again():
    reader = SharedReader(io.BytesIO(b"x" * 10_000), block=100)
    blocks = reader.blocks(0, 10_000)
    assert next(blocks) == b"x" * 100
    reader.stop()
    with pytest.raises(PartStopped):
        next(blocks)
    assert b"".join(reader.restart().blocks(9_900, 10_000)) == b"x" * 100
