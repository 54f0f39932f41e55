"""A CSV snapshot streamed into PostgreSQL by COPY reports, stores and moves the ATS exactly as
the Python reader does with the same file: bad rows, stale rows, absent SKUs and refusals
included. Files it cannot read exactly are left to Python, untouched."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from service.feeds import file_parts
from service.feeds.readers import read_batch
from service.feeds.stock_rows import StockRow
from service.services.ats import kept
from service.services.feeds import applying
from service.services.inventory import snapshot_copy, snapshots
from service.services.inventory.deltas import unknown_rows
from service.services.inventory.report import SnapshotLimitBreached
from service.services.masterdata import upserts
from service.services.rulesets import governance
from service.store import bulk_counts, snapshot_files, snapshot_staging
from service.store.db import driver
from service.store.unit_of_work import UnitOfWork

T0 = datetime(2026, 4, 1, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
LOCATIONS = [
    {"id": "DC-1", "name": "DC", "type": "dc", "lat": 40.7, "lon": -74.0, "can_ship": True},
    {"id": "ST-1", "name": "Store", "type": "store", "lat": 41.0, "lon": -73.9,
     "can_pickup": True},
    {"id": "ST-2", "name": "Store 2", "type": "store", "lat": 41.2, "lon": -73.7},
]
SKUS = [f"S{i:04d}" for i in range(400)]


@pytest.fixture(params=["one connection", "parts on two connections"])
def staging_connections(request, monkeypatch) -> str:
    """Every COPY-path test runs with the file staged whole, and cut into parts staged and
    compared on two connections at once (as files over PARALLEL_MIN_BYTES are)."""
    if request.param != "one connection":
        monkeypatch.setattr(snapshot_files, "PARALLEL_MIN_BYTES", 1)
        monkeypatch.setattr(file_parts, "SAMPLE", 2048)  # (these files are 48 kB)
    return request.param


@pytest.fixture
def network(ctx, staging_connections):
    """Three locations x 400 SKUs counted at T0 (some at 0), a few units allocated."""
    upserts.upsert_locations(ctx, LOCATIONS)
    upserts.upsert_products(ctx, [
        {"sku": s, "name": s, "category": "home", "tags": ["clearance"] if i % 9 == 0 else []}
        for i, s in enumerate(SKUS)])
    governance.start(ctx)
    with ctx.transaction() as uow:
        snapshots.apply_snapshot(ctx, uow, [
            StockRow(n, loc["id"], sku, T0, on_hand=_base(loc["id"], i))
            for n, (loc, (i, sku)) in enumerate(
                ((loc, item) for loc in LOCATIONS for item in enumerate(SKUS)), start=1)],
            [], len(LOCATIONS) * len(SKUS), force=True)
        uow.session.execute(text("UPDATE stock_positions SET allocated = 2 WHERE on_hand > 3"
                                 " AND sku IN ('S0001', 'S0002', 'S0003')"))
        kept.recompute(uow, ctx.rules.active(uow))
    return ctx


def _base(location: str, i: int) -> int:
    return 0 if i % 10 == 0 else 5 + (i + len(location)) % 7


def _csv(header: str, rows: list[str], newline: str = "\r\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()


def _all_rows(change=lambda loc, i, qty: qty, skip=(), as_of=T1) -> list[str]:
    """location,sku,on_hand,as_of rows of every position, counts changed by change()."""
    return [f"{loc['id']},{sku},{change(loc['id'], i, _base(loc['id'], i))},{as_of.isoformat()}"
            for loc in LOCATIONS for i, sku in enumerate(SKUS) if (loc["id"], sku) not in skip]


def _by_copy(ctx, uow, data, location, as_of, force) -> dict[str, Any]:
    try:
        report = snapshot_copy.apply_csv(ctx, uow, io.BytesIO(data), location=location,
                                         as_of=as_of, force=force)
    except SnapshotLimitBreached as exc:
        return _refused(exc, exc.errors or [], exc.rows_read)
    assert report is not None, "the COPY path left the file to Python"
    return report.to_dict()


def _by_python(ctx, uow, data, location, as_of, force) -> dict[str, Any]:
    """What a CSV feed did before: read_batch, the feed's row parsing, apply_snapshot."""
    batch = read_batch(io.BytesIO(data), "csv")
    rows, errors = applying.stock_rows(SimpleNamespace(location=location, kind="stock_snapshot"),
                                       SimpleNamespace(modified=as_of), batch, as_of)
    try:
        report = snapshots.apply_snapshot(ctx, uow, rows, errors, batch.rows_read, force)
    except SnapshotLimitBreached as exc:
        return _refused(exc, errors + unknown_rows(ctx, rows), batch.rows_read)
    return report.to_dict()


def _refused(exc: SnapshotLimitBreached, errors: list, rows_read: int) -> dict[str, Any]:
    return {"refused": str(exc), "rows_read": rows_read,
            "errors": sorted((e.to_dict() for e in errors), key=lambda e: e["line"])}


def _outcome(ctx, apply, data: bytes, location=None, as_of=T1, force=False):
    """The report (or refusal) and everything stored after it, in a transaction rolled back."""
    with ctx.reading() as uow:
        result = apply(ctx, uow, data, location, as_of, force)
        stored = [tuple(r) for r in uow.session.execute(text(
            "SELECT location_id, sku, on_hand, as_of, allocated, reserved FROM stock_positions"
            " ORDER BY location_id, sku"))]
        figures = [tuple(r) for r in uow.session.execute(text(
            "SELECT channel, sku, available, ruleset FROM channel_availability"
            " ORDER BY channel, sku"))]
        times = [tuple(r) for r in uow.session.execute(text(
            "SELECT location_id, snapshot_as_of FROM location_stock_state ORDER BY 1"))]
        uow.rollback()
    return result, stored, figures, times


def _same_both_ways(ctx, data: bytes, **kwargs) -> tuple:
    by_copy = _outcome(ctx, _by_copy, data, **kwargs)
    assert by_copy == _outcome(ctx, _by_python, data, **kwargs)
    return by_copy


def assert_ats_is_the_recomputed_one(ctx, uow) -> None:
    """The kept ATS equals a full set-based recompute (in the unit of work)."""
    query = text("SELECT channel, sku, available FROM channel_availability ORDER BY 1, 2")
    before = uow.session.execute(query).all()
    kept.recompute(uow, ctx.rules.active(uow))
    assert before == uow.session.execute(query).all()


# The COPY path is PostgreSQL's: its tests run on PostgreSQL only (SQLite: the declining test)
postgres_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@postgres_only
def test_a_full_snapshot_with_changes_applies_the_same_by_copy_and_by_python(
        network):
    changed = _csv("location,sku,on_hand,as_of",  # 1,080 changes: the bulk write paths
                   _all_rows(lambda loc, i, qty: qty if i % 10 == 1 else qty + 1))
    report, stored, figures, _times = _same_both_ways(network, changed)
    assert (report["applied"], report["unchanged"], report["zeroed"]) == (1080, 120, 0)
    with network.reading() as uow:  # and the kept ATS is the recomputed one
        _copy = snapshot_copy.apply_csv(network, uow, io.BytesIO(changed), location=None,
                                        as_of=T1)
        assert_ats_is_the_recomputed_one(network, uow)
        uow.rollback()


@postgres_only
def test_absent_skus_are_zeroed_and_new_positions_created_the_same_both_ways(
        network):
    with network.sessions.begin() as session:
        session.execute(text("DELETE FROM stock_positions WHERE location_id = 'ST-2' AND "
                             "sku IN ('S0005', 'S0006')"))
    absent = {("DC-1", f"S{i:04d}") for i in range(1, 40)}
    report, stored, *_ = _same_both_ways(
        network, _csv("location,sku,on_hand,as_of", _all_rows(skip=absent)))
    assert report["zeroed"] == len([k for k in absent if int(k[1][1:]) % 10]) > 0
    assert report["applied"] == 2  # the two positions ST-2 no longer had


@postgres_only
def test_bad_rows_are_rejected_with_the_same_lines_and_reasons_both_ways(network):
    rows = _all_rows()
    rows[3] = f"DC-1,,7,{T1.isoformat()}"  # no sku
    rows[4] = f",S0004,7,{T1.isoformat()}"  # no location
    rows[5] = "DC-1,S0005,7,yesterday"  # not a time
    rows[6] = f"DC-1,S0006,seven,{T1.isoformat()}"
    rows[7] = f"DC-1,S0007,-3,{T1.isoformat()}"
    rows[8] = f"DC-1,S0008,1.5,{T1.isoformat()}"
    rows[9] = f"DC-1,S0009,99999999,{T1.isoformat()}"
    rows[11] = f"DC-1,S0011,+-5,{T1.isoformat()}"
    rows[12] = f"XX-9,S0012,7,{T1.isoformat()}"  # unknown location
    rows[13] = f"DC-1,NOPE,7,{T1.isoformat()}"  # unknown sku
    rows[14] = f"DC-1,S0014,,{T1.isoformat()}"  # no count
    rows[15] = f"DC-1,S0015,007,{T1.isoformat()}"  # leading zeros: a good count
    report, *_ = _same_both_ways(network, _csv("location,sku,on_hand,as_of", rows))
    assert report["rejected"] == 11
    assert [e["line"] for e in report["errors"]] == [5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16]
    # a bad row's own position is kept; rows without a sku, or naming another location or
    # sku, cannot name theirs: S0003, S0004, S0012 and S0013 of DC-1 are absent and zeroed
    assert report["zeroed"] == 4


@postgres_only
def test_bad_rows_after_the_first_part_are_reported_with_their_lines_in_the_whole_file(
        network):
    rows = _all_rows()  # DC-1, ST-1, ST-2: two parts cut where ST-2's rows begin
    rows[1000] = f"ST-2,S0200,seven,{T1.isoformat()}"
    rows[1001] = f"ST-2,,7,{T1.isoformat()}"
    rows[1199] = "ST-2,S0399,7,tomorrow"
    rows[1100] = f"ST-2,S0300,{_base('ST-2', 300) + 4},{T1.isoformat()}"  # a good change
    report, *_ = _same_both_ways(network, _csv("location,sku,on_hand,as_of", rows))
    assert [e["line"] for e in report["errors"]] == [1002, 1003, 1201]
    assert report["applied"] == 1


@pytest.fixture
def staged_parts(monkeypatch) -> list[str]:
    """What the staging did: 'staged' for each temporary table filled, 'other' for each part
    given to a connection of its own, 'again' when the rest of the file was staged after the
    first part on the caller's connection."""
    seen: list[str] = []
    tables: set[str] = set()
    real_elsewhere, real_more = snapshot_files._examine_elsewhere, snapshot_files._stage_more

    def elsewhere(*args, **kwargs):
        seen.append("other")
        return real_elsewhere(*args, **kwargs)

    def more(pg, table, blocks):
        seen.append("again" if table.table in tables else "staged")
        tables.add(table.table)
        return real_more(pg, table, blocks)

    monkeypatch.setattr(snapshot_files, "_examine_elsewhere", elsewhere)
    monkeypatch.setattr(snapshot_files, "_stage_more", more)
    return seen


@postgres_only
def test_a_large_file_grouped_by_location_is_staged_in_parts_on_two_connections(
        network, staging_connections, staged_parts):
    data = _csv("location,sku,on_hand,as_of", _all_rows(lambda loc, i, qty: qty + 1))
    _outcome(network, _by_copy, data)
    if staging_connections == "one connection":
        assert staged_parts == ["staged"]
    else:
        assert sorted(staged_parts) == ["other", "staged", "staged"]


@postgres_only
def test_while_one_file_is_staged_in_parts_another_is_staged_whole_on_its_own_connection(
        network, staging_connections, staged_parts):
    data = _csv("location,sku,on_hand,as_of", _all_rows(lambda loc, i, qty: qty + 1))
    with snapshot_files._PARTED:  # as if another feed's file were being staged in parts
        by_copy = _outcome(network, _by_copy, data)
    assert staged_parts == ["staged"]
    assert by_copy == _outcome(network, _by_python, data)


@postgres_only
def test_a_file_not_grouped_by_location_is_not_cut_and_applies_the_same(
        network, staged_parts):
    rows = _all_rows(lambda loc, i, qty: qty + 1 if i % 3 == 0 else qty)
    interleaved = [row for trio in zip(rows[:400], rows[400:800], rows[800:], strict=True)
                   for row in trio]  # every stretch of the file holds every location
    report, *_ = _same_both_ways(network, _csv("location,sku,on_hand,as_of", interleaved))
    assert report["applied"] == 3 * len([i for i in range(400) if i % 3 == 0])
    assert report["rows_read"] == 1200 and report["zeroed"] == 0
    assert staged_parts == ["staged"]


@postgres_only
def test_parts_that_turn_out_to_share_a_location_are_compared_whole_and_apply_the_same(
        network, staging_connections, staged_parts):
    rows = _all_rows(lambda loc, i, qty: qty + 2 if i % 5 == 0 else qty)
    rows.append(rows.pop(5))  # a DC-1 row at the end, after ST-2's: in both parts
    report, *_ = _same_both_ways(network, _csv("location,sku,on_hand,as_of", rows))
    assert report["applied"] == 3 * 80
    if staging_connections != "one connection":
        assert sorted(staged_parts) == ["again", "other", "staged", "staged"]


@pytest.mark.parametrize("bad_row", [
    "ST-2,S0350",  # a short row: COPY refuses it
    f'ST-2,"S0350",4,{T1.isoformat()}',  # quoted
    f"ST-2,S0351,4,{T1.isoformat()}",  # S0351 counted twice
], ids=["short-row", "quoted", "sku-twice"])
@postgres_only
def test_a_later_part_the_copy_path_cannot_read_leaves_the_file_to_python_untouched(
        network, bad_row, monkeypatch):
    monkeypatch.setattr(file_parts, "BLOCK", 256)  # many blocks: parts read side by side
    rows = _all_rows(lambda loc, i, qty: qty + 1)
    rows[1150] = bad_row
    stream = io.BytesIO(_csv("location,sku,on_hand,as_of", rows))
    with network.reading() as uow:
        assert snapshot_copy.apply_csv(network, uow, stream, location=None, as_of=T1,
                                       force=True) is None
        assert stream.tell() == 0
        changed = uow.session.execute(text(
            "SELECT count(*) FROM stock_positions WHERE as_of > :t"),
            {"t": T0.replace(tzinfo=None)}).scalar()
        assert changed == 0
        assert uow.session.execute(text("SELECT 1")).scalar() == 1  # the transaction goes on
        uow.rollback()


@postgres_only
def test_an_early_failure_in_a_later_part_stops_the_first_part_reading(
        network, staging_connections, monkeypatch):
    monkeypatch.setattr(file_parts, "BLOCK", 64)
    rows = _all_rows()
    rows[800] = f'ST-2,"S0000",4,{T1.isoformat()}'  # the first line of the second part
    data = _csv("location,sku,on_hand,as_of", rows)
    first_part_start = data.index(b"\n") + 1
    first_part_blocks = []
    real_blocks = file_parts.SharedReader.blocks

    def slowly(self, start, end):  # the first part reads for about a second
        for block in real_blocks(self, start, end):
            if start == first_part_start:
                first_part_blocks.append(block)
                time.sleep(0.002)
            yield block

    monkeypatch.setattr(file_parts.SharedReader, "blocks", slowly)
    with network.reading() as uow:
        assert snapshot_copy.apply_csv(network, uow, io.BytesIO(data), location=None,
                                       as_of=T1) is None
        uow.rollback()
    whole_first_part = len(_csv("location,sku,on_hand,as_of", rows[:800])) - first_part_start
    if staging_connections == "one connection":  # read on up to the quote
        assert sum(map(len, first_part_blocks)) >= whole_first_part
    else:  # the second part's quote stopped the first part reading (perhaps before its
        # first block: the two threads race to their first read)
        assert sum(map(len, first_part_blocks)) < whole_first_part / 2


@postgres_only
def test_without_a_connection_to_spare_a_large_file_is_staged_whole(
        network, staged_parts, monkeypatch):
    monkeypatch.setattr(snapshot_files, "_spare_connection", lambda engine: None)
    data = _csv("location,sku,on_hand,as_of", _all_rows(lambda loc, i, qty: qty + 1))
    assert _outcome(network, _by_copy, data) == _outcome(network, _by_python, data)
    assert staged_parts == ["staged"]


@postgres_only
def test_a_pool_at_its_limit_spares_no_connection_without_waiting(network):
    engine = create_engine(network.engine.url, pool_size=1, max_overflow=0, pool_timeout=30)
    try:
        with engine.connect():
            started = time.perf_counter()
            assert snapshot_files._spare_connection(engine) is None
            assert time.perf_counter() - started < 1
        spare = snapshot_files._spare_connection(engine)
        assert spare is not None
        spare.close()
    finally:
        engine.dispose()


@postgres_only
def test_an_adjust_column_whitespace_and_a_default_location_read_the_same_both_ways(
        network):
    rows = [f" S{i:04d} , {5 + i % 4} ,{T1.isoformat()}," for i in range(400)]
    rows[2] = f"S0002,4,{T1.isoformat()},1"  # adjust in a snapshot: a bad row
    report, *_ = _same_both_ways(network, _csv("sku,on_hand,as_of,adjust", rows),
                                 location="ST-1", force=True)
    assert report["rejected"] == 1 and report["applied"] > 0
    no_time = _csv("location_id,sku,on_hand", [f"ST-2,S{i:04d},3" for i in range(400)])
    report, *_ = _same_both_ways(network, no_time, as_of=T1)
    assert report["applied"] > 0


@postgres_only
def test_stale_rows_and_a_stale_location_are_counted_the_same_both_ways(network):
    with network.transaction() as uow:
        uow.session.execute(text("UPDATE stock_positions SET as_of = :t WHERE location_id ="
                                 " 'DC-1' AND sku IN ('S0001', 'S0002')"),
                            {"t": (T1 + timedelta(hours=1)).replace(tzinfo=None)})  # later
        uow.positions.record_snapshot_times({"ST-2": T1 + timedelta(hours=2)})
    report, *_ = _same_both_ways(network, _csv(
        "location,sku,on_hand,as_of", _all_rows(lambda loc, i, qty: qty + 2)))
    assert report["stale"] == 400 + 2


@postgres_only
def test_counts_taken_before_a_shipment_are_stale_the_same_both_ways(network):
    shipped = (T1 + timedelta(hours=1)).replace(tzinfo=None)
    with network.sessions.begin() as session:
        session.execute(text("UPDATE stock_positions SET last_shipped_at = :t"
                             " WHERE location_id = 'ST-1' AND sku IN ('S0001', 'S0002', 'S0003')"
                             " OR location_id = 'DC-1' AND sku = 'S0011'"), {"t": shipped})
    # S0011 is absent from the file: a shipment after the snapshot keeps it from being zeroed
    data = _csv("location,sku,on_hand,as_of", _all_rows(lambda loc, i, qty: qty + 2,
                                                        skip={("DC-1", "S0011")}))
    report, stored, *_ = _same_both_ways(network, data)
    assert report["stale"] == 3
    kept = {(r[0], r[1]): r[2] for r in stored}
    assert kept[("ST-1", "S0001")] == _base("ST-1", 1)  # the shipped-from count is untouched
    assert kept[("ST-1", "S0004")] == _base("ST-1", 4) + 2
    assert kept[("DC-1", "S0011")] == _base("DC-1", 11) > 0


@postgres_only
def test_refusals_are_the_same_both_ways(network):
    zeroing = _csv("location,sku,on_hand,as_of", [f"DC-1,S0001,3,{T1.isoformat()}"])
    refused, stored, *_ = _same_both_ways(network, zeroing)
    assert "would zero" in refused["refused"]
    forced, *_ = _same_both_ways(network, zeroing, force=True)
    assert forced["zeroed"] > 300
    bad = _all_rows()[:100] + [f"DC-1,S{i:04d},x,{T1.isoformat()}" for i in range(100, 120)]
    refused, *_ = _same_both_ways(network, _csv("location,sku,on_hand,as_of", bad))
    assert "rows are bad" in refused["refused"] and len(refused["errors"]) == 20


@pytest.mark.parametrize("data", [
    _csv("location,sku,on_hand", ['DC-1,"S0001",4']),  # quoted
    _csv("location,sku,on_hand", ["DC-1,S0001,4", "", "DC-1,S0002,4"]),  # a blank line
    _csv("location,sku,on_hand", ["DC-1,S0001,4", "DC-1,S0001,5"]),  # a sku twice
    _csv("location,sku,on_hand", ["DC-1,S0001,4", "DC-1,S0002,4,extra"]),  # a long row
    _csv("location,sku,on_hand", ["DC-1,S0001,4", "DC-1,S0002"]),  # a short row
    _csv("location,sku,on_hand", ["DC-1,S0001,4", "DC-1,S0002,４"]),  # not ASCII
    b"location,sku,on_hand\nDC-1,S0001,4\r\nDC-1,S0002,4\n",  # mixed line ends
    _csv("location,sku", ["DC-1,S0001"]),  # no on_hand column
], ids=["quoted", "blank-line", "sku-twice", "long-row", "short-row", "not-ascii",
        "mixed-line-ends", "no-count-column"])
@postgres_only
def test_files_the_copy_path_cannot_read_exactly_are_left_to_python_untouched(
        network, data):
    stream = io.BytesIO(data)
    with network.reading() as uow:
        before = uow.session.execute(text("SELECT count(*) FROM stock_positions")).scalar()
        assert snapshot_copy.apply_csv(network, uow, stream, location=None, as_of=T1,
                                       force=True) is None
        assert stream.tell() == 0
        assert uow.session.execute(text("SELECT count(*) FROM stock_positions")).scalar() \
            == before
        uow.rollback()
    _outcome(network, _by_python, data, force=True)  # and Python reads it


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_the_copy_path_declines_and_leaves_the_stream_at_its_start(network):
    stream = io.BytesIO(_csv("location,sku,on_hand", ["DC-1,S0001,4"]))
    with network.reading() as uow:
        assert snapshot_copy.apply_csv(network, uow, stream, location=None,
                                       as_of=T1) is None
    assert stream.tell() == 0


@postgres_only
def test_a_count_write_skips_a_position_that_moved_since_it_was_read(network):
    with network.reading() as uow:
        rows = uow.positions.fetch([("DC-1", "S0001"), ("DC-1", "S0002")])
        moved = rows[("DC-1", "S0002")]
        moved.on_hand += 1  # as if another transaction changed it after the read
        written, _ = uow.positions.update_counts_unless_moved(
            [(rows[("DC-1", "S0001")], 40, T1), (moved, 41, T1)])
        assert set(written) == {rows[("DC-1", "S0001")].id}
        assert uow.positions.fetch([("DC-1", "S0002")])[("DC-1", "S0002")].on_hand != 41
        uow.rollback()


@postgres_only
def test_a_count_write_works_out_its_guess_on_a_thread_of_its_own_and_returns_it(network):
    threads = []

    def guess() -> str:
        threads.append(threading.get_ident())
        return "guessed"

    with network.reading() as uow:
        rows = uow.positions.fetch([("DC-1", "S0001")])
        written, answer = uow.positions.update_counts_unless_moved(
            [(rows[("DC-1", "S0001")], 40, T1)], meanwhile=guess)
        assert (set(written), answer) == ({rows[("DC-1", "S0001")].id}, "guessed")
        assert threads and threads[0] != threading.get_ident()
        uow.rollback()


@postgres_only
def test_a_guess_that_fails_fails_the_count_write(network):
    def guess() -> None:
        raise ValueError("no guess")

    with network.reading() as uow:
        rows = uow.positions.fetch([("DC-1", "S0001")])
        with pytest.raises(ValueError, match="no guess"):
            uow.positions.update_counts_unless_moved([(rows[("DC-1", "S0001")], 40, T1)],
                                                     meanwhile=guess)
        uow.rollback()


@postgres_only
def test_the_ats_stays_exact_when_positions_move_between_the_read_and_the_write(
        network, monkeypatch):
    real = bulk_counts.update_counts_unless_moved

    def others_write_first(session, changes, now, meanwhile=None):
        # as if other transactions allocated units of S0002 and counted S0004 meanwhile
        session.execute(text("UPDATE stock_positions SET allocated = allocated + 1"
                             " WHERE sku = 'S0002' AND location_id = 'DC-1'"))
        session.execute(text("UPDATE stock_positions SET on_hand = on_hand + 9"
                             " WHERE sku = 'S0004' AND location_id = 'DC-1'"))
        same = UnitOfWork(session, network.clock, network.catalog)  # the write's transaction
        kept.recompute(same, network.rules.active(same), ["S0002", "S0004"])
        return real(session, changes, now, meanwhile)

    monkeypatch.setattr(bulk_counts, "update_counts_unless_moved", others_write_first)
    data = _csv("location,sku,on_hand,as_of", _all_rows(lambda loc, i, qty: qty + 3))
    with network.reading() as uow:
        report = snapshot_copy.apply_csv(network, uow, io.BytesIO(data), location=None,
                                         as_of=T1)
        assert report is not None and report.applied == 1200
        stored = dict(uow.session.execute(text(
            "SELECT sku, on_hand FROM stock_positions WHERE location_id = 'DC-1'"
            " AND sku IN ('S0002', 'S0004')")).all())
        assert stored == {"S0002": _base("DC-1", 2) + 3, "S0004": _base("DC-1", 4) + 3}
        assert_ats_is_the_recomputed_one(network, uow)
        uow.rollback()


@postgres_only
def test_a_count_write_larger_than_one_statement_goes_in_chunks_in_id_order(
        network, monkeypatch):
    monkeypatch.setattr(bulk_counts, "UPDATE_CHUNK", 2)
    keys = [("DC-1", f"S000{i}") for i in range(1, 6)]
    with network.reading() as uow:
        rows = uow.positions.fetch(keys)
        moved = rows[("DC-1", "S0004")]
        moved.on_hand += 1  # moved since it was read: skipped, in whichever chunk it falls
        written, seen = uow.positions.update_counts_unless_moved(
            [(rows[k], 70 + i, T1) for i, k in enumerate(keys)], meanwhile=lambda: "ran")
        assert seen == "ran"
        assert set(written) == {rows[k].id for k in keys if k != ("DC-1", "S0004")}
        after = uow.positions.fetch(keys)
        assert [after[k].on_hand for k in keys if k != ("DC-1", "S0004")] == [70, 71, 72, 74]
        uow.rollback()


def _counts_from_the_diff(uow, data: bytes, location=None) -> dict | None:
    """Per location (positions, stocked) as the COPY path derives them from its two reads."""
    pg = driver(uow.session)
    header = data.split(b"\r\n", 1)[0].decode().split(",")
    staged = snapshot_files._stage(pg, iter([data.split(b"\r\n", 1)[1]]), header)
    groups = snapshot_staging.count_groups(pg, staged, location)
    differences, positions = snapshot_staging.read_differences(
        pg, staged, locations=sorted({g[0] for g in groups if g[0]}), bad_times=[],
        default_location=location, has_default_time=True, rows=sum(g[2] for g in groups))
    return snapshot_staging.position_counts(groups, differences, positions)


@postgres_only
def test_the_position_counts_derived_from_the_diff_are_those_of_a_grouped_read(network):
    with network.transaction() as uow:  # a position that is not there yet: ST-2's S0399
        uow.session.execute(text("DELETE FROM stock_positions WHERE location_id = 'ST-2'"
                                 " AND sku = 'S0399'"))
    rows = _all_rows(lambda loc, i, qty: qty + 1 if i % 3 == 0 else qty,
                     skip={("DC-1", "S0011"), ("ST-1", "S0020"), ("ST-1", "S0021")})
    rows += [f"DC-1,NEW1,4,{T1.isoformat()}",  # a new position
             f"ST-9,S0031,4,{T1.isoformat()}"]  # a location with no positions
    rows[5] = f"DC-1,S0005,x,{T1.isoformat()}"  # a bad count
    rows[6] = f"DC-1,S0006,007,{T1.isoformat()}"  # Python reads 7: not the stored digits
    rows[10] = f"DC-1,S0010,0,{T1.isoformat()}"  # a zero kept at zero
    rows[12] = f"DC-1,S0012,,{T1.isoformat()}"  # no count
    with network.reading() as uow:
        derived = _counts_from_the_diff(uow, _csv("location,sku,on_hand,as_of", rows))
        grouped = {r[0]: (r[1], r[2]) for r in uow.session.execute(text(
            "SELECT location_id, count(*), count(*) FILTER (WHERE on_hand > 0)"
            " FROM stock_positions GROUP BY location_id"))}
        uow.rollback()
    assert derived == grouped
    assert grouped["ST-2"] == (399, 359) and grouped["DC-1"][1] < 400


@postgres_only
def test_a_position_counted_twice_with_its_stored_count_is_left_to_python(network):
    stored = _base("DC-1", 1)
    twice = _csv("location,sku,on_hand,as_of", [*_all_rows(),
                                                 f"DC-1,S0001,{stored},{T1.isoformat()}"])
    with network.reading() as uow:
        assert _counts_from_the_diff(uow, twice) is None
        stream = io.BytesIO(twice)
        assert snapshot_copy.apply_csv(network, uow, stream, location=None, as_of=T1) is None
        assert stream.tell() == 0
        uow.rollback()
    _outcome(network, _by_python, twice)  # and Python reads it
