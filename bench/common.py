"""Shared benchmark helpers: machine facts, bench databases, the 1M-position network, figures.

Every benchmark compares the service with a baseline measured in the same invocation, so a
noisy machine moves both. Benchmarks use their own database (never the test database) and
drop it when done.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import yaml  # noqa: E402, I001
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from service.bootstrap import build_context  # noqa: E402
from service.services.context import Context  # noqa: E402
from service.services.demo.network import DemoNetwork, generate_network  # noqa: E402
from service.services.masterdata import upserts  # noqa: E402
from service.services.rulesets import governance  # noqa: E402
from service.settings import DEFAULT_CONFIG, settings_from_dict  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402

PG_ADMIN = os.environ.get("OMS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# scratch files (snapshot CSVs, raw results) live outside the repository
RESULTS_DIR = Path(os.environ.get("OMS_BENCH_DIR", "/tmp/oms_bench"))
LOCATIONS, SKUS = 1000, 1000
BASE_AS_OF = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class Figure:
    """One measured figure beside its same-run baseline and its target."""

    bench: str
    what: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_what: str = ""
    target: str = ""
    passed: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict(passed: bool | None) -> str:
    """PASS, FAIL or '-' (informational)."""
    return "-" if passed is None else ("PASS" if passed else "FAIL")


def print_figure(fig: Figure) -> None:
    """One line: figure, baseline, target and verdict."""
    base = f"  baseline {fig.baseline:,.4g} ({fig.baseline_what})" if fig.baseline else ""
    target = f"  target {fig.target}" if fig.target else ""
    print(f"[{verdict(fig.passed):>4}] {fig.what}: {fig.value:,.4g} {fig.unit}{base}{target}",
          flush=True)


def write_json(path: Path | None, figures: Sequence[Figure], **extra: Any) -> None:
    """Store figures (and raw extras) for run_all.py."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"figures": [f.to_dict() for f in figures], **extra},
                               indent=2, default=str))


def percentile(samples: Sequence[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of samples."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# -- machine ---------------------------------------------------------------------------------


def machine_info(pg_url: str | None = None) -> dict[str, str]:
    """CPU model, cores, RAM, OS, Python, PostgreSQL and SQLite versions."""
    info = {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "ram": _ram(),
        "os": _os_name(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    if pg_url:
        with psycopg.connect(_libpq(pg_url)) as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    return info


def _cpu_model() -> str:
    try:
        text_ = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text_, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


def _ram() -> str:
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    except OSError:
        return "unknown"
    return f"{int(match.group(1)) / 1024 ** 2:.1f} GiB" if match else "unknown"


def _os_name() -> str:
    try:
        match = re.search(r'^PRETTY_NAME="(.+)"$', Path("/etc/os-release").read_text(),
                          re.MULTILINE)
    except OSError:
        match = None
    release = match.group(1) if match else platform.system()
    return f"{release} (kernel {platform.release()})"


# -- databases -------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def use_server(admin_url: str) -> None:
    """Point the helpers here (databases, clones, checkpoints; bench_orders' pgbench database)
    at another PostgreSQL server, e.g. a private one from own_server.py. Child processes
    follow OMS_BENCH_PG instead, read at import."""
    global PG_ADMIN
    PG_ADMIN = admin_url


def pg_url(database: str) -> str:
    """The bench server's URL for database."""
    return make_url(PG_ADMIN).set(database=database).render_as_string(hide_password=False)


def create_pg_database(name: str) -> str:
    """(Re)create an empty PostgreSQL database; return its SQLAlchemy URL."""
    drop_pg_database(name)
    with psycopg.connect(_libpq(PG_ADMIN), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_url(name)


def drop_pg_database(name: str) -> None:
    """Drop a bench database if it exists."""
    with psycopg.connect(_libpq(PG_ADMIN), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_context(url: str) -> Context:
    """A service context on url, with config.yaml's other settings."""
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text())
    raw["database_url"] = url
    return build_context(settings_from_dict(raw, base_dir=ROOT, source="bench"))


def network(locations: int = LOCATIONS) -> DemoNetwork:
    """The benchmark network: 1,000 locations (or `locations`) x 1,000 SKUs, every SKU
    everywhere."""
    return generate_network(locations=locations, skus=SKUS, store_coverage=1.0)


def size_label(positions: int) -> str:
    """1M, 10M, 100k: a network's size in figure labels."""
    if positions >= 1_000_000:
        return f"{positions / 1_000_000:g}M"
    return f"{positions / 1000:g}k"


def load_network(url: str, net: DemoNetwork) -> dict[str, float]:
    """Migrate, insert master data, bulk-load positions (COPY / executemany), compute figures.

    This is setup, not a measured path. Returns the seconds each step took.
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    upgrade(url)
    ctx = bench_context(url)
    try:
        upserts.upsert_locations(ctx, net.locations)
        upserts.upsert_products(ctx, net.products)
        timings["master_data_s"] = time.perf_counter() - start
        start = time.perf_counter()
        _bulk_positions(ctx, url, net.stock())
        timings["positions_s"] = time.perf_counter() - start
        start = time.perf_counter()
        with ctx.engine.begin() as conn:
            conn.execute(text("DELETE FROM ruleset_activations"))
        governance.start(ctx)
        timings["figures_s"] = time.perf_counter() - start
        if url.startswith("postgresql"):
            with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
    finally:
        ctx.close()
    return timings


def _bulk_positions(ctx: Context, url: str, rows: Iterator[tuple[str, str, int]]) -> None:
    as_of = BASE_AS_OF.replace(tzinfo=None)  # stored as naive UTC
    if url.startswith("postgresql"):
        copy_positions(url, rows, as_of)
        return
    from service.services.demo.seed import insert_stock

    insert_stock(ctx, rows)
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE stock_positions SET as_of = :t"), {"t": as_of})


def copy_positions(url: str, rows: Iterator[tuple[str, str, int]], as_of: datetime,
                   chunk: int = 20_000) -> None:
    """COPY rows into stock_positions in text chunks, secondary indexes rebuilt after.

    Setup only: the per-row foreign-key triggers are skipped (the rows are known good), and
    the indexes not backing a constraint are dropped first and built once at the end (a
    sort instead of 10M random B-tree inserts). Memory: one chunk of text.
    """
    stamp = as_of.isoformat(sep=" ")
    tail = f"\t{stamp}\t0\t0\t{stamp}\n"
    with psycopg.connect(_libpq(url)) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET maintenance_work_mem = '512MB'")
        indexes = cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'stock_positions' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'stock_positions'::regclass)").fetchall()
        for name, _definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        with cur.copy("COPY stock_positions (location_id, sku, on_hand, as_of, allocated, "
                      "reserved, updated_at) FROM STDIN") as copy:
            lines: list[str] = []
            for loc, sku, qty in rows:
                lines.append(f"{loc}\t{sku}\t{qty}{tail}")
                if len(lines) >= chunk:
                    copy.write("".join(lines))
                    lines.clear()
            copy.write("".join(lines))
        for _name, definition in indexes:
            cur.execute(definition)


# -- snapshot files --------------------------------------------------------------------------


def write_snapshot_file(path: Path, net: DemoNetwork, changed_share: float = 0.05,
                        as_of: datetime | None = None, seed: int = 11) -> int:
    """A CSV snapshot of every position, changed_share of the counts changed; rows changed."""
    return write_snapshot_files([path], net, changed_share, as_of, seed)[0]


def write_snapshot_files(paths: Sequence[Path], net: DemoNetwork, changed_share: float = 0.05,
                         as_of: datetime | None = None, seed: int = 11) -> list[int]:
    """Successive CSV snapshots of every position, an hour apart from as_of: each changes
    changed_share of the counts of the one before it (the first: of the network's). Returns
    the rows each one changed."""
    import random
    from array import array

    rng = random.Random(seed)
    counts = array("i", (qty for _loc, _sku, qty in net.stock()))  # 4 bytes a position
    first = as_of or BASE_AS_OF + timedelta(hours=1)
    changed: list[int] = []
    for n, path in enumerate(paths):
        stamp, changed_here = (first + timedelta(hours=n)).isoformat(), 0
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["location", "sku", "on_hand", "as_of"])
            for i, (loc, sku, _qty) in enumerate(net.stock()):
                if rng.random() < changed_share:
                    counts[i], changed_here = counts[i] + rng.randint(1, 20), changed_here + 1
                out.writerow([loc, sku, counts[i], stamp])
        changed.append(changed_here)
    return changed


def read_snapshot_file(path: Path) -> list[dict[str, str]]:
    """The CSV rows as dicts (what a feed reader hands to stock_rows.parse_rows)."""
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@contextmanager
def timer() -> Iterator[list[float]]:
    """with timer() as t: ... ; t[0] is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int | str) -> tuple[float, float]:
    """(user, system) CPU seconds a process has used so far, from /proc ((0, 0): gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def children(pid: int) -> list[int]:
    """Direct child process ids (gunicorn workers of a master)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def checkpoint() -> None:
    """Flush PostgreSQL's dirty pages now (between benchmarks, never inside a timed part)."""
    with psycopg.connect(_libpq(PG_ADMIN), autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def clone_pg_database(template: str, name: str) -> str:
    """A fresh copy of a loaded bench database (CREATE DATABASE ... TEMPLATE); its URL."""
    drop_pg_database(name)
    with psycopg.connect(_libpq(PG_ADMIN), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return pg_url(name)
