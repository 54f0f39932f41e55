"""The service answers schemathesis as its own /openapi.json says, on SQLite and PostgreSQL:
the real service (oms serve) on the seeded demo, fuzzed with an admin, a channel and a
location key, every operation, every check, stateful links (fuzz/run.py; `make fuzz` runs it
longer). A short run here: FUZZ_SECONDS per key (default 12)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.settings import PROJECT_ROOT
from tests.conftest import PG_ENV

SECONDS = os.environ.get("FUZZ_SECONDS", "12")


def _database(backend: str) -> list[str]:
    if backend == "sqlite":
        return []
    if not os.environ.get(PG_ENV):
        if os.environ.get("OMS_REQUIRE_POSTGRES"):
            pytest.fail(f"{PG_ENV} is not set but OMS_REQUIRE_POSTGRES asks for PostgreSQL")
        pytest.skip(f"PostgreSQL leg skipped: set {PG_ENV} to run it")
    return ["--database-url", os.environ[PG_ENV]]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_schemathesis_finds_no_failure_in_any_operation(backend):
    command = [sys.executable, str(PROJECT_ROOT / "fuzz" / "run.py"), *_database(backend),
               "--max-time", SECONDS, "--max-examples", "15"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-20000:]
    assert report.count("Schemathesis v") == 3 and "FAILURES" not in report
