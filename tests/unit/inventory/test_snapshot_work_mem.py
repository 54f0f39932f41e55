"""The snapshot diff's work_mem, sized to the rows it hashes (store/work_mem.py)."""

from service.settings import settings_from_dict
from service.store import work_mem

MINIMAL = {"database_url": "sqlite:///x.db", "rulesets": {"directory": "r", "active": "x@1"}}


def test_a_small_file_keeps_the_floor():
    assert work_mem.sized_mb(1000, 256) == 256
    assert work_mem.sized_mb(0, 64) == 64


def test_ten_million_rows_get_128_bytes_a_row_up_to_the_most():
    assert work_mem.sized_mb(5_000_000, 256) == 611  # a part of a 10M file, rounded up
    assert work_mem.sized_mb(10_000_000, 256) == work_mem.DEFAULT_MAX_MB
    assert work_mem.sized_mb(10_000_000, 256, max_mb=4096) == 1221


def test_the_most_wins_over_the_floor():
    assert work_mem.sized_mb(1000, 256, max_mb=32) == 32


def test_the_statement_sets_megabytes_for_this_transaction_only():
    assert work_mem.set_local_sql(611) == "SET LOCAL work_mem = '611MB'"


def test_the_most_defaults_to_the_store_default_in_the_settings():
    settings = settings_from_dict(MINIMAL)
    assert settings.section("inventory")["snapshot_work_mem_max_mb"] == work_mem.DEFAULT_MAX_MB
