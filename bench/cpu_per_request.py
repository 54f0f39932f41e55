"""Profiling harness (not a timed test): the machine's CPU per request, by process group.

Runs wrk (16 connections, as the benchmarks do) against hello-world and `oms serve` on a
loaded PostgreSQL bench database, one mode at a time, and reads from /proc, before and after
each run, the CPU (user and system) of the server's workers, of this database's PostgreSQL
backends, and of wrk itself, and the machine's idle share. Divided by the requests answered,
that is where a request's cost goes: what a faster code path must cut, and what only the
machine sets. A mode runs `--rounds` times after a 2 s warm-up.

Usage: python bench/cpu_per_request.py --pg-url URL [--modes hello,get,cart,orders]
       [--duration 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_http  # noqa: E402
import bench_orders  # noqa: E402
import common  # noqa: E402

from service.services.access.keys import create_key  # noqa: E402

MODES = ("hello", "get", "cart", "orders")


def _backends(database: str) -> list[str]:
    """The PostgreSQL backends serving `database` (their process titles name it)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found.append(pid)
    return found


def _idle() -> tuple[int, int]:
    """(idle + iowait, all) ticks of the machine so far."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return ticks[3] + ticks[4], sum(ticks)


def _sample(workers: list[int], database: str) -> dict[str, Any]:
    groups = {"workers": [common.cpu_seconds(pid) for pid in workers],
              "postgres": [common.cpu_seconds(pid) for pid in _backends(database)]}
    times = os.times()
    return {**{g: (sum(u for u, _ in v), sum(s for _, s in v)) for g, v in groups.items()},
            "wrk": times.children_user + times.children_system, "idle": _idle()}


def _per_request(before: dict[str, Any], after: dict[str, Any], requests: int
                 ) -> dict[str, float]:
    out: dict[str, float] = {}
    for group in ("workers", "postgres"):
        for n, part in enumerate(("user", "sys")):
            out[f"{group}_{part}_ms"] = (after[group][n] - before[group][n]) / requests * 1e3
    out["wrk_ms"] = (after["wrk"] - before["wrk"]) / requests * 1e3
    idle = after["idle"][0] - before["idle"][0]
    out["idle_pct"] = 100 * idle / max(1, after["idle"][1] - before["idle"][1])
    return out


def _run(mode: str, url: str, key: str, shiptos: Path, duration: float) -> dict[str, Any]:
    if mode != "orders":
        return bench_http.run_wrk(url, mode, key, duration)
    env = {**os.environ, "OMS_KEY": key, "OMS_SKUS": str(common.SKUS),
           "OMS_SHIPTOS": str(shiptos), "OMS_MODE": "hello"}
    return bench_orders.run_wrk(url, bench_orders.HERE / "wrk_orders.lua", env, duration)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - set(MODES):
        raise SystemExit(f"unknown modes: {', '.join(sorted(unknown))}")
    ctx = common.bench_context(args.pg_url)
    key = create_key(ctx, "channel:web", label="cpu-per-request")
    ctx.close()
    database = args.pg_url.rsplit("/", 1)[1]
    hello_port, port = bench_http.free_port(), bench_http.free_port()
    servers = {"hello": bench_http.start_hello(hello_port),
               "service": bench_http.start_service(args.pg_url, port)}
    shiptos = bench_orders.shipto_file()
    try:
        for mode in modes:
            server = servers["hello" if mode == "hello" else "service"]
            url = f"http://127.0.0.1:{hello_port if mode == 'hello' else port}"
            workers = common.children(server.pid)
            _run(mode, url, key, shiptos, 2)  # warm-up
            for number in range(1, args.rounds + 1):
                before = _sample(workers, database)
                result = _run(mode, url, key, shiptos, args.duration)
                cost = _per_request(before, _sample(workers, database), result["requests"])
                machine = sum(v for k, v in cost.items() if k.endswith("_ms"))
                print(f"{mode} round {number}: {result['rps']:,.1f} req/s, idle "
                      f"{cost['idle_pct']:.1f} %; per request: workers "
                      f"{cost['workers_user_ms']:.3f} user + {cost['workers_sys_ms']:.3f} sys, "
                      f"PostgreSQL {cost['postgres_user_ms']:.3f} + "
                      f"{cost['postgres_sys_ms']:.3f}, wrk {cost['wrk_ms']:.3f}: "
                      f"{machine:.3f} ms", flush=True)
    finally:
        for server in servers.values():
            bench_http.stop_server(server)
        shiptos.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
