"""Two scheduler processes expiring the same acceptance SLA at once, on SQLite and PostgreSQL.

Two real Python processes on the test's database each run the `fulfilments.expire` job's
body at the same moment, without the job lease (which would let only one of them run): the
order row lock alone makes each overdue fulfilment expire exactly once, re-routed once, no
unit lost and nothing oversold. Then two processes fire the job through the scheduler's
`run_once` with their own owners: one runs, the other finds the lease taken.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.clock import MovableClock
from service.store.models import Event, FulfilmentRow
from tests.integration.orders.test_rejection_races import (
    nothing_oversold,
    place,
    stocked,  # noqa: F401 (A at ST-1, ST-2 and DC-1)
    units_accounted_for,
)
from tests.support import FIXTURES, assert_ledger_consistent

ROOT = Path(__file__).resolve().parents[3]
PLACED = datetime.now(UTC) - timedelta(hours=5)  # past the 240 minutes of the default SLA

SCRIPT = """
import json, sys, time
from pathlib import Path
from service.bootstrap import build_context
from service.scheduler import job_specs, run_once
from service.services.orders import expiring
from service.settings import settings_from_dict

url, rules, go, mode, owner = sys.argv[1:6]
ctx = build_context(settings_from_dict({"database_url": url, "rulesets": {
    "directory": rules, "active": "ledger@1", "reload_seconds": 1}}, base_dir=Path(go).parent))
while not Path(go).exists():
    time.sleep(0.005)
if mode == "body":
    print(json.dumps(expiring.expire_unaccepted(ctx)))
else:
    spec = next(s for s in job_specs(ctx) if s.name == "fulfilments.expire")
    print(json.dumps(run_once(ctx, spec, owner=owner)))
"""


@pytest.fixture
def policy():
    return "ledger@1"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(PLACED)


def run_processes(db_url: str, tmp_path: Path, mode: str) -> list:
    """Start two processes, let them go at once, and return what each printed."""
    script = tmp_path / "expire.py"
    script.write_text(SCRIPT)
    go = tmp_path / f"go-{mode}"
    processes = [subprocess.Popen(
        [sys.executable, str(script), db_url, str(FIXTURES / "rulesets"), str(go), mode,
         f"scheduler-{i}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for i in range(2)]
    time.sleep(2.0)  # both import and connect before the start line
    go.touch()
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return outputs


def test_two_scheduler_processes_expire_each_overdue_fulfilment_once(stocked, db_url,  # noqa: F811
                                                                     tmp_path):
    placed = [place(stocked, quantity=1) for _ in range(6)]
    overdue = {p["fulfilments"][0]["id"] for p in placed}

    first, second = run_processes(db_url, tmp_path, "body")

    assert sorted(first + second) == sorted(overdue)  # each by exactly one process
    with stocked.sessions() as session:
        rejections = session.scalar(select(func.count()).select_from(Event).where(
            Event.type == "fulfilment.rejected"))
        fulfilments = session.scalar(select(func.count()).select_from(FulfilmentRow))
    assert rejections == 6 and fulfilments == 12  # one re-routed fulfilment each
    for p in placed:
        units_accounted_for(stocked, p["id"])
    nothing_oversold(stocked)
    assert_ledger_consistent(stocked)


def test_of_two_schedulers_firing_the_job_at_once_one_runs_it(stocked, db_url,  # noqa: F811
                                                             tmp_path):
    place(stocked, quantity=1)

    ran = run_processes(db_url, tmp_path, "job")

    assert sorted(ran) == [False, True]
    assert_ledger_consistent(stocked)
