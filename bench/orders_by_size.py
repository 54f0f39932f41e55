"""Orders over HTTP at 1M and 10M positions, on the bench server and on a private one.

Issue 18's scale target (orders at 10M >= 90% of the 1M network's rate) and the question
whether PostgreSQL's buffer cache makes the gap. Each server (`system`: the bench server,
OMS_BENCH_PG; `own`: a private one from own_server.py with the system's settings and the
overrides of --own, by default shared_buffers=4GB) gets each network loaded once
(`<prefix>_<server>_<size>`). Then, --pairs times, for each start (`cold`: a fresh clone;
`prewarmed`: a fresh clone, its tables and indexes then read into shared_buffers by
pg_prewarm, as on a server that has run a while), each server and each size in turn,
bench_orders.py's throughput part (rounds of hello-world, orders and pgbench on the same
server) runs on a fresh clone (CREATE DATABASE ... TEMPLATE, then CHECKPOINT), dropped after.
Before them, --profile-rounds times, profile_orders.py (one client, in-process) runs on a
fresh clone of each: PostgreSQL CPU and blocks read from outside shared_buffers per order.
Results go to --json after every run; a summary of medians is printed at the end. Every
database is dropped.

Usage: python bench/orders_by_size.py [--servers system,own] [--own shared_buffers=4GB]
       [--sizes 1000,10000] [--starts cold] [--pairs 3] [--duration 12]
       [--profile-orders 500] [--profile-rounds 1] [--prefix oms_sizes] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_orders  # noqa: E402
import common  # noqa: E402
import own_server  # noqa: E402
import psycopg  # noqa: E402


def _label(locations: int) -> str:
    return common.size_label(locations * common.SKUS)


def prewarm(url: str) -> float:
    """Read every table and index of the database into shared_buffers (as much as fits);
    seconds taken."""
    start = time.perf_counter()
    with psycopg.connect(common._libpq(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        conn.execute("SELECT pg_prewarm(c.oid) FROM pg_class c WHERE c.relkind IN ('r', 'i') "
                     "AND c.relnamespace = 'public'::regnamespace ORDER BY c.relpages DESC")
    return time.perf_counter() - start


def fresh_copy(template: str, name: str, start: str) -> tuple[str, dict[str, float]]:
    """A clone of template, checkpointed (and prewarmed); its URL and the seconds taken."""
    began = time.perf_counter()
    url = common.clone_pg_database(template, name)
    common.checkpoint()
    timings = {"clone_s": time.perf_counter() - began}
    if start == "prewarmed":
        timings["prewarm_s"] = prewarm(url)
    return url, timings


def profile(url: str, orders: int, out: Path) -> dict[str, Any]:
    """profile_orders.py on url (a child process); its per-order figures."""
    argv = [sys.executable, str(HERE / "profile_orders.py"), "--pg-url", url, "--orders",
            str(orders), "--warm", "100", "--seed", "1000", "--json", str(out)]
    printed = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    print("    " + "\n    ".join(ln for ln in printed.splitlines() if "per order" in ln),
          flush=True)
    return json.loads(out.read_text())["per_order"]


def summary(runs: list[dict[str, Any]], profiles: list[dict[str, Any]]) -> list[str]:
    """Per server and start: median orders/s per size, the 10M/1M ratios (of the medians,
    raw and as shares of hello-world), and the profiles' per-order figures."""
    lines = []
    for server, start in sorted({(r["server"], r["start"]) for r in runs}):
        mine = [r for r in runs if r["server"] == server and r["start"] == start]
        sizes = sorted({r["locations"] for r in mine})
        med = {n: {k: statistics.median(r[k] for r in mine if r["locations"] == n)
                   for k in ("orders_rps", "share", "pgbench_tps", "hello_rps")}
               for n in sizes}
        parts = [f"{_label(n)} {med[n]['orders_rps']:.0f}/s ({100 * med[n]['share']:.2f}% of "
                 f"hello, pgbench {med[n]['pgbench_tps']:.0f} tps)" for n in sizes]
        line = f"{server}/{start}: " + ", ".join(parts)
        if len(sizes) == 2:
            small, big = med[sizes[0]], med[sizes[1]]
            line += (f"; {_label(sizes[1])}/{_label(sizes[0])} raw "
                     f"{100 * big['orders_rps'] / small['orders_rps']:.1f}%, of shares "
                     f"{100 * big['share'] / small['share']:.1f}%")
        lines.append(line)
    for key in sorted({(p["server"], p["start"], p["locations"]) for p in profiles}):
        mine = [p for p in profiles if (p["server"], p["start"], p["locations"]) == key]
        med = {k: statistics.median(p[k] for p in mine)
               for k in ("worker_cpu_ms", "pg_cpu_ms", "round_trips", "blks_read", "blks_hit")}
        lines.append(f"profile {key[0]}/{key[1]} {_label(key[2])} (median of {len(mine)}): "
                     f"worker CPU {med['worker_cpu_ms']:.2f} ms, PostgreSQL CPU "
                     f"{med['pg_cpu_ms']:.2f} ms, round trips {med['round_trips']:.2f}, "
                     f"blocks read {med['blks_read']:.1f}, hit {med['blks_hit']:.1f} per order")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="system,own")
    parser.add_argument("--own", action="append", metavar="NAME=VALUE",
                        help="the private server's settings over the system's "
                             "(default shared_buffers=4GB)")
    parser.add_argument("--sizes", default="1000,10000", help="locations (x 1,000 SKUs)")
    parser.add_argument("--starts", default="cold", help="cold, prewarmed or both")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=12.0)
    parser.add_argument("--profile-orders", type=int, default=500, help="0: no profiles")
    parser.add_argument("--profile-rounds", type=int, default=1)
    parser.add_argument("--prefix", default="oms_sizes", help="database names' prefix")
    parser.add_argument("--json", type=Path, default=common.RESULTS_DIR / "orders_by_size.json")
    args = parser.parse_args(argv)
    servers, starts = args.servers.split(","), args.starts.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    overrides = dict(s.split("=", 1) for s in (args.own or ["shared_buffers=4GB"]))
    bench_orders.PGBENCH_DB = f"{args.prefix}_pgbench"
    admin = {"system": common.PG_ADMIN}
    out: dict[str, Any] = {"command": " ".join(sys.argv), "machine": common.machine_info(
        common.PG_ADMIN), "overrides": overrides, "loads": [], "runs": [], "profiles": []}

    def save() -> None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str))

    with ExitStack() as stack:
        if "own" in servers:
            admin["own"] = stack.enter_context(own_server.own_server(overrides))
            out["differences"] = own_server.differences(admin["own"], admin["system"])
            print("own server differs in:", out["differences"], flush=True)
        names: list[tuple[str, str]] = []  # (server, database) to drop at the end
        stack.callback(_drop_all, admin, names)
        for server in servers:
            common.use_server(admin[server])
            for n in sizes:
                name = f"{args.prefix}_{server}_{_label(n).lower()}"
                names += [(server, name), (server, f"{name}_run")]
                began = time.perf_counter()
                url = common.create_pg_database(name)
                timings = common.load_network(url, common.network(n))
                out["loads"].append({"server": server, "locations": n, **timings,
                                     "total_s": time.perf_counter() - began})
                print(f"loaded {name}: {time.perf_counter() - began:.0f} s", flush=True)
                save()
        for rnd in range(args.profile_rounds if args.profile_orders else 0):
            for start, server, n in _alternated(starts, servers, sizes, admin):
                out["profiles"].append(_profile(args, server, start, n, rnd))
                save()
        for pair in range(args.pairs):
            for start, server, n in _alternated(starts, servers, sizes, admin):
                out["runs"].append(_run(args, server, start, n, pair))
                save()
    out["summary"] = summary(out["runs"], out["profiles"])
    save()
    print("\n".join(out["summary"]))
    return 0


def _alternated(starts: Sequence[str], servers: Sequence[str], sizes: Sequence[int],
                admin: Mapping[str, str]) -> Iterator[tuple[str, str, int]]:
    """(start, server, size) in the order every round alternates them, the bench helpers
    pointed at each server in turn."""
    for start in starts:
        for server in servers:
            common.use_server(admin[server])
            for n in sizes:
                yield start, server, n


def _profile(args: argparse.Namespace, server: str, start: str, locations: int,
             rnd: int) -> dict[str, Any]:
    """profile_orders.py on a fresh clone."""
    template = f"{args.prefix}_{server}_{_label(locations).lower()}"
    url, timings = fresh_copy(template, f"{template}_run", start)
    print(f"profile {rnd + 1} {server}/{start} {_label(locations)}", flush=True)
    figures = profile(url, args.profile_orders, args.json.with_suffix(".profile.json"))
    common.drop_pg_database(f"{template}_run")
    return {"round": rnd, "server": server, "start": start, "locations": locations,
            **timings, **figures}


def _drop_all(admin: dict[str, str], names: list[tuple[str, str]]) -> None:
    """Drop every database this run made (before the private server stops)."""
    for server, name in names:
        common.use_server(admin[server])
        common.drop_pg_database(name)
    common.use_server(admin["system"])


def _run(args: argparse.Namespace, server: str, start: str, locations: int,
         pair: int) -> dict[str, Any]:
    """One throughput run of bench_orders.py on a fresh clone."""
    template = f"{args.prefix}_{server}_{_label(locations).lower()}"
    url, timings = fresh_copy(template, f"{template}_run", start)
    load = os.getloadavg()[0]
    began = time.strftime("%H:%M:%S", time.gmtime())
    tp = bench_orders.throughput(url, args.duration)
    common.drop_pg_database(f"{template}_run")
    orders = tp["orders"]
    row = {"pair": pair, "server": server, "start": start, "locations": locations,
           "utc": began, "load_before": load, **timings, "orders_rps": orders["ok_rps"],
           "hello_rps": tp["hello_rps"], "share": orders["ok_rps"] / tp["hello_rps"],
           "pgbench_tps": tp["pgbench"]["tps"], "p50_ms": orders["p50_ms"],
           "p99_ms": orders["p99_ms"], "non_2xx": orders["non_2xx"],
           "socket_errors": orders["socket_errors"]}
    print(f"  {began} pair {pair + 1} {server}/{start} {_label(locations)}: "
          f"{row['orders_rps']:.0f} orders/s, hello {row['hello_rps']:.0f}/s "
          f"({100 * row['share']:.2f}%), pgbench {row['pgbench_tps']:.0f} tps, "
          f"p99 {row['p99_ms']:.0f} ms, non-2xx {row['non_2xx']}, load {load:.1f}, "
          f"clone {timings['clone_s']:.0f} s", flush=True)
    return row


if __name__ == "__main__":
    raise SystemExit(main())
