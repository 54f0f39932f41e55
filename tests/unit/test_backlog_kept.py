"""A worker thread's kept backlog: the moved rows laid over the kept ones, read in full when
rows were deleted (the deletion count moved) or the database is another, kept only when the
reader had no id yet."""

import threading

from service.store.backlog_kept import KeptBacklog, Read

DB = "1733560000.1:16384:public"


def read(rows: list[tuple[str, int]], deletions: int = 0, snapshot: str = "10:10:",
         database: str = DB, transaction: int | None = None) -> Read:
    return Read(snapshot, deletions, database, transaction, [("b", loc, n) for loc, n in rows])


class FullReads:
    """The stand-in for the full read: what the table holds, and how often it was asked."""

    def __init__(self, rows: list[tuple[str, int]], snapshot: str = "20:20:",
                 deletions: int = 0) -> None:
        self.rows, self.snapshot, self.deletions, self.calls = rows, snapshot, deletions, 0

    def __call__(self) -> tuple[str, int, list[tuple[str, str, int]]]:
        self.calls += 1
        return self.snapshot, self.deletions, [("b", loc, n) for loc, n in self.rows]


def test_the_first_read_is_the_whole_table_and_its_snapshot_is_kept():
    kept, full = KeptBacklog(), FullReads([])
    counts = kept.counts("db", read([("A", 2), ("B", 0), ("C", 5)]), full)
    assert counts == {"A": 2, "C": 5}
    assert kept.seen("db") == "10:10:"
    assert full.calls == 0


def test_moved_rows_are_laid_over_the_kept_ones():
    kept, full = KeptBacklog(), FullReads([])
    kept.counts("db", read([("A", 2), ("B", 0), ("C", 5)]), full)
    counts = kept.counts("db", read([("A", 0), ("B", 3), ("D", 1)], snapshot="12:12:"), full)
    assert counts == {"B": 3, "C": 5, "D": 1}
    assert kept.seen("db") == "12:12:"
    assert full.calls == 0


def test_a_moved_deletion_count_has_the_table_read_in_full():
    kept, full = KeptBacklog(), FullReads([("C", 5)], snapshot="30:30:", deletions=1)
    kept.counts("db", read([("A", 2), ("C", 5)]), full)
    counts = kept.counts("db", read([], deletions=1, snapshot="31:31:"), full)
    assert counts == {"C": 5}
    assert full.calls == 1
    assert kept.seen("db") == "30:30:"


def test_the_full_reads_deletion_count_is_kept_for_the_next_read():
    kept, full = KeptBacklog(), FullReads([("A", 1)], deletions=3)
    kept.counts("db", read([("A", 1), ("B", 4)]), full)
    assert kept.counts("db", read([], deletions=3), full) == {"A": 1}
    assert kept.counts("db", read([("A", 2)], deletions=3), full) == {"A": 2}
    assert full.calls == 1


def test_a_missing_deletion_count_has_every_read_made_in_full():
    kept, full = KeptBacklog(), FullReads([("A", 1)], deletions=-1)
    kept.counts("db", read([("A", 1)], deletions=-1), full)
    assert kept.counts("db", read([], deletions=-1), full) == {"A": 1}
    assert kept.counts("db", read([], deletions=-1), full) == {"A": 1}
    assert full.calls == 2


def test_another_database_under_the_same_key_is_read_in_full():
    kept, full = KeptBacklog(), FullReads([("X", 7)])
    kept.counts("db", read([("A", 2)]), full)
    counts = kept.counts("db", read([], database="other:1:public"), full)
    assert counts == {"X": 7}
    assert full.calls == 1


def test_a_reader_with_a_transaction_id_keeps_the_earlier_snapshot():
    kept, full = KeptBacklog(), FullReads([])
    kept.counts("db", read([("A", 2)], snapshot="10:10:"), full)
    counts = kept.counts("db", read([("A", 3)], snapshot="15:15:", transaction=14), full)
    assert counts == {"A": 3}
    assert kept.seen("db") == "10:10:"  # its own later writes would look visible at 15


def test_a_first_reader_with_a_transaction_id_keeps_nothing():
    kept, full = KeptBacklog(), FullReads([])
    assert kept.counts("db", read([("A", 2)], transaction=9), full) == {"A": 2}
    assert kept.seen("db") is None


def test_the_counts_handed_out_are_never_changed_by_a_later_read():
    kept, full = KeptBacklog(), FullReads([])
    first = kept.counts("db", read([("A", 2)]), full)
    kept.counts("db", read([("A", 4), ("B", 1)]), full)
    assert first == {"A": 2}


def test_each_thread_and_each_key_keeps_its_own_read():
    kept, full = KeptBacklog(), FullReads([])
    kept.counts("db", read([("A", 2)], snapshot="10:10:"), full)
    kept.counts("other", read([("A", 2)], snapshot="11:11:"), full)
    seen_elsewhere = []
    thread = threading.Thread(target=lambda: seen_elsewhere.append(kept.seen("db")))
    thread.start()
    thread.join()
    assert (kept.seen("db"), kept.seen("other"), seen_elsewhere) == ("10:10:", "11:11:", [None])
