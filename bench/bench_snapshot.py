"""Full-snapshot ingestion: 1M positions with 5% of counts changed, against a bare COPY.

PostgreSQL, in each of ROUNDS rounds: a CSV file of every position, 5% of its counts changed
from the round before, is (1) COPYed bare into an empty table, and (2) applied as a CSV feed
applies it: streamed into the database by COPY and diffed and applied there
(``snapshot_copy.apply_csv``), falling back to Python (``stock_rows.parse_rows`` +
``snapshots.apply_snapshot``) for a file that path leaves to Python; one transaction,
channel figures included. Each round's ratio (2)/(1) is taken against that round's own
COPY, and the median round is the figure (target ≤ 4x), so a burst of load on a shared
machine moves a round's baseline with its service time.
SQLite: the Python path on a SQLite file, as rows/s (target ≥ 50k rows/s).

Usage: python bench/bench_snapshot.py [--pg-url URL] [--sqlite] [--rounds N] [--json PATH]
       [--locations N]   (quick: --locations 100 --rounds 1, a 100,000-position network)
(without --pg-url a database ``oms_bench_snapshot`` is created, loaded and dropped).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import psycopg  # noqa: E402
from common import Figure  # noqa: E402

from service.feeds import stock_rows  # noqa: E402
from service.services.inventory import snapshot_copy, snapshots  # noqa: E402

TARGET_RATIO = 4.0
ROUNDS = 3
TARGET_SQLITE_ROWS_S = 50_000


def bare_copy(url: str, path: Path) -> float:
    """Seconds to COPY the CSV file into an empty, unindexed table, committed."""
    with psycopg.connect(common._libpq(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_baseline")
        conn.execute("CREATE TABLE bench_copy_baseline (location_id varchar(64), "
                     "sku varchar(64), on_hand integer, as_of timestamptz)")
        start = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur, cur.copy(
                "COPY bench_copy_baseline FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                path.open("rb") as handle:
            while block := handle.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE bench_copy_baseline")
    return seconds


def apply_file(url: str, path: Path) -> dict[str, Any]:
    """Apply the snapshot file as a CSV feed does; phase timings and the path it took.

    On PostgreSQL ``snapshot_copy.apply_csv`` streams the file into the database by COPY and
    reads and applies it there ("copy"); elsewhere, or for a file it leaves to Python, the
    file is read and parsed in Python and applied by ``snapshots.apply_snapshot``
    ("python"). Either way one transaction, channel figures included, committed.
    """
    ctx = common.bench_context(url)
    try:
        start = time.perf_counter()
        parsed = start
        with ctx.transaction() as uow, path.open("rb") as stream:
            uow.journal.because("snapshot", feed="bench")  # as a feed run names it
            report = snapshot_copy.apply_csv(ctx, uow, stream, location=None, as_of=None)
            taken = "copy"
            if report is None:
                taken = "python"
                raw = common.read_snapshot_file(path)
                rows, errors = stock_rows.parse_rows(raw, location=None, as_of=None,
                                                     allow_adjust=False, first_line=2)
                parsed = time.perf_counter()
                report = snapshots.apply_snapshot(ctx, uow, rows, errors, len(raw))
            applied = time.perf_counter()
        done = time.perf_counter()
    finally:
        ctx.close()
    return {"rows": report.rows_read, "path": taken, "parse_s": parsed - start,
            "apply_s": applied - parsed, "commit_s": done - applied, "total_s": done - start,
            "report": {k: v for k, v in report.to_dict().items() if k != "errors"}}


def check_figures(url: str) -> int:
    """How many kept channel figures differ from a fresh set-based recompute (expect 0)."""
    from service.services.ats import kept as kept_ats

    ctx = common.bench_context(url)
    try:
        with ctx.reading() as uow:
            kept = uow.ats.all()
            kept_ats.recompute(uow, ctx.rules.active(uow))
            fresh = uow.ats.all()
            uow.rollback()
    finally:
        ctx.close()
    return sum(1 for key in fresh.keys() | kept.keys() if fresh.get(key) != kept.get(key))


def run_postgres(url: str, paths: list[Path], size: str = "1M") -> tuple[Figure, dict[str, Any]]:
    """Rounds of the COPY baseline and the service path on one PostgreSQL database."""
    rounds = []
    for path in paths:
        common.checkpoint()  # neither timed part flushes the other's writes
        copy_s = bare_copy(url, path)
        common.checkpoint()
        result = apply_file(url, path)
        result["copy_s"], result["ratio"] = copy_s, result["total_s"] / copy_s
        rounds.append(result)
    result = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]  # the median round
    result["rounds"] = [{k: r[k] for k in ("copy_s", "total_s", "ratio")} for r in rounds]
    result["figure_mismatches"] = check_figures(url)
    ratio = result["ratio"]
    every = ", ".join(f"{r['total_s']:.2f}/{r['copy_s']:.2f} s = {r['ratio']:.2f}x"
                      for r in rounds)
    fig = Figure("snapshot", f"{size}-position snapshot, 5% changed (PostgreSQL), file to commit",
                 ratio, "x COPY", baseline=result["copy_s"], baseline_what="bare COPY s",
                 target=f"<= {TARGET_RATIO:g}x", passed=ratio <= TARGET_RATIO,
                 note=(f"median of {len(rounds)} rounds ({every}); median round: "
                       f"{result['path']} path, {result['total_s']:.2f} s = parse "
                       f"{result['parse_s']:.2f} + apply {result['apply_s']:.2f} + commit "
                       f"{result['commit_s']:.2f}; applied {result['report']['applied']}, "
                       f"figure mismatches after the last {result['figure_mismatches']}"),
                 extra=result)
    return fig, result


def run_sqlite(workdir: Path, locations: int) -> tuple[Figure, dict[str, Any]]:
    """Rows/s of the same path on a SQLite file (locations x 1,000 SKUs)."""
    from service.services.demo.network import generate_network

    db = workdir / "snapshot_bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    net = generate_network(locations=locations, skus=common.SKUS, store_coverage=1.0)
    common.load_network(url, net)
    path = workdir / "snapshot_sqlite.csv"
    common.write_snapshot_file(path, net)
    result = apply_file(url, path)
    result["figure_mismatches"] = check_figures(url)
    rate = result["rows"] / result["total_s"]
    fig = Figure("snapshot", f"SQLite snapshot ingestion ({result['rows']:,} rows, 5% changed)",
                 rate, "rows/s", target=f">= {TARGET_SQLITE_ROWS_S:,}",
                 passed=rate >= TARGET_SQLITE_ROWS_S,
                 note=(f"{result['path']} path: parse {result['parse_s']:.2f} s + apply "
                       f"{result['apply_s']:.2f} s + "
                       f"commit {result['commit_s']:.2f} s; figure mismatches "
                       f"{result['figure_mismatches']}"), extra=result)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return fig, result


def _freeze_setup() -> None:
    """Keep the bench's own setup objects (the network: some 200,000 at 1M positions, none
    of them in a feed worker) out of the timed part's garbage collections: a full collection
    walking them landed inside one round in three, 0.35-0.7 s (issue 18)."""
    gc.collect()
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    """Run the snapshot benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="an already loaded bench database (not dropped)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--sqlite", action="store_true", help="also run the SQLite figure")
    parser.add_argument("--sqlite-locations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--locations", type=int, default=common.LOCATIONS,
                        help="PostgreSQL network's locations x 1,000 SKUs (quick: 100)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    workdir = common.RESULTS_DIR
    workdir.mkdir(parents=True, exist_ok=True)
    figures = []
    if not args.no_postgres:
        net = common.network(args.locations)
        url, own = args.pg_url, args.pg_url is None
        if own:
            url = common.create_pg_database("oms_bench_snapshot")
            common.load_network(url, net)
        paths = [workdir / f"snapshot_{n + 1}.csv" for n in range(args.rounds)]
        common.write_snapshot_files(paths, net)
        _freeze_setup()
        try:
            size = common.size_label(args.locations * common.SKUS)
            fig, _ = run_postgres(url, paths, size)
            figures.append(fig)
            common.print_figure(fig)
            print("   ", fig.note, flush=True)
        finally:
            if own:
                common.drop_pg_database("oms_bench_snapshot")
    if args.sqlite:
        fig, _ = run_sqlite(workdir, args.sqlite_locations)
        figures.append(fig)
        common.print_figure(fig)
        print("   ", fig.note, flush=True)
    common.write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
